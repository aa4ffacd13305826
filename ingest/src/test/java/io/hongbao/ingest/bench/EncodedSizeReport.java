package io.hongbao.ingest.bench;

import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.ingest.event.ShakeEventCodec;
import java.util.IntSummaryStatistics;
import java.util.function.Function;

/**
 * Bytes per shake event in each format over the benchmark's sample ({@link SchemaCodecBenchmark#sample}):
 * mean, min, max, each including the one leading format byte. Run from {@code ingest/} (see
 * {@code ingest/SCHEMA-CHOICE.md}); an optional argument sets the sample size (default 10,000).
 */
public final class EncodedSizeReport {
    private EncodedSizeReport() {}

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : SchemaCodecBenchmark.N;
        ShakeEvent[] sample = SchemaCodecBenchmark.sample(n);
        AvroShakeCodec avro = new AvroShakeCodec();
        System.out.printf("sample: first %,d VALID shakes of datasets/gala.yaml, seed %d%n", n,
                SchemaCodecBenchmark.SEED);
        print("protobuf", sample, ShakeEventCodec::encode);
        print("avro", sample, avro::encode);
    }

    private static void print(String format, ShakeEvent[] sample, Function<ShakeEvent, byte[]> encode) {
        IntSummaryStatistics sizes = new IntSummaryStatistics();
        for (ShakeEvent e : sample) {
            sizes.accept(encode.apply(e).length);
        }
        System.out.printf("%-9s bytes/event mean %.2f min %d max %d (n=%d, incl. 1 format byte)%n", format,
                sizes.getAverage(), sizes.getMin(), sizes.getMax(), sizes.getCount());
    }
}
