package io.hongbao.ingest.bench;

import com.google.protobuf.CodedInputStream;
import io.hongbao.ingest.event.Channel;
import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.ingest.event.ShakeEventCodec;
import io.hongbao.ingest.generator.RecordKind;
import io.hongbao.ingest.generator.ShakeTrafficGenerator;
import io.hongbao.ingest.profile.GalaProfile;
import io.hongbao.ingest.testing.Datasets;
import io.hongbao.ingest.wire.v1.ShakeEventV1;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Protobuf (the wire format in use) against Avro for one shake event, per event: encode (domain event to the
 * record value), parse (record value to the generated message, no checks), decode (record value to a
 * {@link ShakeEvent} with every field, no checks) and decode + validate (what the intake job runs: size limit,
 * format byte, parse errors caught, field rules, mapping; {@link ShakeEventCodec#decode} for Protobuf,
 * {@link AvroShakeCodec#decodeChecked} for Avro).
 *
 * <p>Each invocation takes the next of {@value #N} pre-generated shakes (gala profile, seed {@value #SEED}), so
 * no single object or byte array is measured hot. Both formats carry the same leading format byte. How to run
 * and the figures: {@code ingest/SCHEMA-CHOICE.md}. Not a test: surefire only runs {@code *Test} classes.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class SchemaCodecBenchmark {
    /** Shakes the benchmark cycles through. */
    public static final int N = 10_000;
    /** Generator seed of the sample. */
    public static final long SEED = 42;

    private ShakeEvent[] events;
    private byte[][] protobuf;
    private int next;

    /**
     * The Avro side: its codec and the sample's Avro record values. {@code avroConfig} picks Avro's switches
     * ({@link AvroShakeCodec.Config}); only the Avro benchmarks depend on it, so
     * {@code -p avroConfig=DEFAULTS,CUSTOM_CODERS,CUSTOM_WRITE_FAST_READ} re-runs only them.
     */
    @State(Scope.Thread)
    public static class AvroSide {
        @Param({"CUSTOM_CODERS"})
        public AvroShakeCodec.Config avroConfig;

        AvroShakeCodec codec;
        byte[][] values;

        @Setup(Level.Trial)
        public void setUp(SchemaCodecBenchmark sample) {
            codec = new AvroShakeCodec(avroConfig);
            values = new byte[N][];
            for (int k = 0; k < N; k++) {
                values[k] = codec.encode(sample.events[k]);
                if (!codec.decodeChecked(values[k]).event().equals(sample.events[k])) {
                    throw new IllegalStateException("avro: shake " + k + " does not round-trip");
                }
            }
        }
    }

    /**
     * The sample: the first {@code n} shakes of kind {@link RecordKind#VALID} the traffic generator makes for
     * {@code datasets/gala.yaml} (its own events per round) with seed {@value #SEED}.
     */
    public static ShakeEvent[] sample(int n) {
        ShakeEvent[] out = new ShakeEvent[n];
        int[] count = {0};
        try {
            new ShakeTrafficGenerator(GalaProfile.load(Datasets.file("gala.yaml")), SEED, 0).generate(r -> {
                if (r.kind() == RecordKind.VALID) {
                    out[count[0]++] = r.event().copy();
                    if (count[0] == n) {
                        throw new SampleFull();
                    }
                }
            });
        } catch (SampleFull full) {
            return out;
        }
        throw new IllegalStateException("the gala profile gave only " + count[0] + " valid shakes, wanted " + n);
    }

    @Setup(Level.Trial)
    public void setUp() {
        events = sample(N);
        protobuf = new byte[N][];
        for (int k = 0; k < N; k++) {
            protobuf[k] = ShakeEventCodec.encode(events[k]);
            if (!ShakeEventCodec.decode(protobuf[k]).event().equals(events[k])) {
                throw new IllegalStateException("protobuf: shake " + k + " does not round-trip");
            }
        }
        next = 0;
    }

    private int next() {
        int k = next;
        next = k + 1 == N ? 0 : k + 1;
        return k;
    }

    @Benchmark
    public void protobufEncode(Blackhole bh) {
        bh.consume(ShakeEventCodec.encode(events[next()]));
    }

    @Benchmark
    public void avroEncode(AvroSide avro, Blackhole bh) {
        bh.consume(avro.codec.encode(events[next()]));
    }

    @Benchmark
    public void protobufParse(Blackhole bh) throws IOException {
        byte[] v = protobuf[next()];
        bh.consume(ShakeEventV1.parseFrom(CodedInputStream.newInstance(v, 1, v.length - 1)));
    }

    @Benchmark
    public void avroParse(AvroSide avro, Blackhole bh) throws IOException {
        bh.consume(avro.codec.parse(avro.values[next()]));
    }

    @Benchmark
    public void protobufDecode(Blackhole bh) throws IOException {
        byte[] v = protobuf[next()];
        ShakeEventV1 m = ShakeEventV1.parseFrom(CodedInputStream.newInstance(v, 1, v.length - 1));
        // The mapping of ShakeEventCodec.decode, without its checks.
        bh.consume(new ShakeEvent(m.getEventIdHi(), m.getEventIdLo(), m.getUserId(), m.getDeviceId(),
                m.getRoundId(), Channel.values()[m.getChannelValue() - 1], m.getRegion(), m.getClientTsMs(),
                m.getGatewayTsMs(), m.hasDeviceSeq() ? m.getDeviceSeq() : ShakeEvent.NO_SEQUENCE));
    }

    @Benchmark
    public void avroDecode(AvroSide avro, Blackhole bh) {
        bh.consume(avro.codec.decode(avro.values[next()]));
    }

    @Benchmark
    public void protobufDecodeValidate(Blackhole bh) {
        bh.consume(ShakeEventCodec.decode(protobuf[next()]));
    }

    @Benchmark
    public void avroDecodeValidate(AvroSide avro, Blackhole bh) {
        bh.consume(avro.codec.decodeChecked(avro.values[next()]));
    }

    private static final class SampleFull extends RuntimeException {
        private static final long serialVersionUID = 1L;

        SampleFull() {
            super("sample full", null, false, false);
        }
    }
}
