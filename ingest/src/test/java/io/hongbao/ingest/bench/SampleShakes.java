package io.hongbao.ingest.bench;

import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.ingest.generator.RecordKind;
import io.hongbao.ingest.generator.ShakeTrafficGenerator;
import io.hongbao.ingest.profile.GalaProfile;
import io.hongbao.ingest.testing.Datasets;
import java.util.ArrayList;
import java.util.List;

/** Realistic shakes for the benchmarks: the first valid shakes of the gala profile, seed 42. */
final class SampleShakes {
    private SampleShakes() {}

    static List<ShakeEvent> first(int n) {
        List<ShakeEvent> out = new ArrayList<>(n);
        GalaProfile gala = GalaProfile.load(Datasets.file("gala.yaml"));
        try {
            new ShakeTrafficGenerator(gala, 42, n * 2L).generate(r -> {
                if (r.kind() == RecordKind.VALID) {
                    out.add(r.event());
                    if (out.size() == n) {
                        throw new Enough();
                    }
                }
            });
        } catch (Enough done) {
            // stop generating once there are enough
        }
        return out;
    }

    private static final class Enough extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Enough() {
            super(null, null, false, false);
        }
    }
}
