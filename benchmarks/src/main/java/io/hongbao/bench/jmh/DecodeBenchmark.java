package io.hongbao.bench.jmh;

import io.hongbao.ingest.event.ShakeEventCodec;
import io.hongbao.ingest.flink.ShakeRecord;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Event decode, per record: the Kafka value to a {@link ShakeRecord} as the source makes it (format byte,
 * protobuf parse, field checks, lineage), and the Flink serializer round trip every record pays at each
 * {@code keyBy} (serialize to the network buffer, deserialize on the other side).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class DecodeBenchmark {
    private byte[][] values;
    private ShakeRecord[] records;
    private TypeSerializer<ShakeRecord> serializer;
    private final DataOutputSerializer out = new DataOutputSerializer(256);
    private final DataInputDeserializer in = new DataInputDeserializer();
    private int next;

    @Setup
    public void setUp() {
        values = Samples.validValues();
        records = new ShakeRecord[values.length];
        for (int i = 0; i < values.length; i++) {
            records[i] = ShakeRecord.of(ShakeEventCodec.decode(values[i]), values[i], "hongbao.shakes", i % 4, i, i);
        }
        serializer = TypeInformation.of(ShakeRecord.class).createSerializer(new SerializerConfigImpl());
    }

    private int nextIndex() {
        int i = next;
        next = (i + 1) & (Samples.N - 1);
        return i;
    }

    /** What {@code ShakeRecordDeserializationSchema} does per Kafka record. */
    @Benchmark
    public ShakeRecord decodeRecord() {
        int i = nextIndex();
        byte[] v = values[i];
        return ShakeRecord.of(ShakeEventCodec.decode(v), v, "hongbao.shakes", 1, i, 0L);
    }

    /** One network hop of a decoded record: Flink's serializer for {@link ShakeRecord}, both ways. */
    @Benchmark
    public ShakeRecord serializerRoundTrip() throws IOException {
        out.clear();
        serializer.serialize(records[nextIndex()], out);
        in.setBuffer(out.getSharedBuffer(), 0, out.length());
        return serializer.deserialize(in);
    }
}
