package io.hongbao.bench.jmh;

import io.hongbao.ingest.generator.GeneratedRecord;
import io.hongbao.ingest.generator.RecordKind;
import io.hongbao.ingest.generator.ShakeTrafficGenerator;
import io.hongbao.ingest.profile.GalaProfile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Pre-generated record values of the benchmark profile, so no JMH invocation measures the generator. */
final class Samples {
    /** Records each benchmark cycles through: more than the caches hold, so no single one is measured hot. */
    static final int N = 65_536;
    static final long SEED = 42;
    /** JMH forks run from the directory bin/benchmark starts them in: the repository root. */
    static final Path PROFILE = Path.of(System.getProperty("hongbao.bench.profile", "datasets/bench.yaml"));

    private Samples() {}

    static GalaProfile profile() {
        return GalaProfile.load(PROFILE);
    }

    /** The first {@link #N} valid shakes' record values. */
    static byte[][] validValues() {
        List<byte[]> out = new ArrayList<>(N);
        try {
            new ShakeTrafficGenerator(profile(), SEED, N).generate((GeneratedRecord r) -> {
                if (r.kind() == RecordKind.VALID && out.size() < N) {
                    out.add(r.value());
                }
                if (out.size() == N) {
                    throw new Enough();
                }
            });
        } catch (Enough done) {
            // stopped early on purpose
        }
        return out.toArray(byte[][]::new);
    }

    /** The first {@link #N} valid shakes, decoded as the source decodes them. */
    static io.hongbao.ingest.flink.ShakeRecord[] validShakes() {
        byte[][] values = validValues();
        var shakes = new io.hongbao.ingest.flink.ShakeRecord[values.length];
        for (int i = 0; i < values.length; i++) {
            shakes[i] = io.hongbao.ingest.flink.ShakeRecord.of(io.hongbao.ingest.event.ShakeEventCodec.decode(values[i]),
                    values[i], "hongbao.shakes", i % 4, i, 0L);
        }
        return shakes;
    }

    private static final class Enough extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Enough() {
            super(null, null, false, false);
        }
    }
}
