package io.hongbao.bench.jmh;

import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.jobs.functions.EventIdentity;
import io.hongbao.jobs.payout.PayoutSettings;
import io.hongbao.jobs.payout.RoundInForce;
import io.hongbao.jobs.pipeline.PayoutPipeline;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The identity check, per shake, in the job's own operator ({@link EventIdentity}: heap id table, draw, cell
 * sums) on RocksDB as in production, through Flink's test harness. Most shakes are new, as in a gala; every
 * {@code retryEvery}-th one repeats the previous id. Every 2^16 shakes a checkpoint's pre-barrier write of the
 * new ids to keyed state is included, as the job does every 10 s.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class DedupeBenchmark {
    @Param({"33"})
    public int retryEvery;

    private ShakeRecord[] shakes;
    private KeyedTwoInputStreamOperatorTestHarness<Integer, ShakeRecord, RoundInForce, ShakeRecord> harness;
    private long next = 1;

    @Setup
    public void setUp() {
        shakes = Samples.validShakes();
    }

    @Setup(Level.Iteration)
    public void openHarness() throws Exception {
        PayoutSettings settings = new PayoutSettings(256, 10_000, 0x6a09e667f3bcc908L, 0xbb67ae8584caa73bL);
        harness = new KeyedTwoInputStreamOperatorTestHarness<>(
                new EventIdentity(Samples.profile().roundConfigs(), settings, PayoutPipeline.CELL_SUM_INTERVAL),
                (ShakeRecord r) -> PayoutSettings.identityShardOf(r.event.eventIdHi, r.event.eventIdLo),
                (RoundInForce r) -> 0, Types.INT);
        EmbeddedRocksDBStateBackend rocksdb = new EmbeddedRocksDBStateBackend();
        // As a slot of the benchmark's MiniCluster: the harness's mock environment has almost no managed memory.
        rocksdb.getMemoryConfiguration().setFixedMemoryPerSlot(MemorySize.parse("128mb"));
        harness.setStateBackend(rocksdb);
        harness.open();
        harness.processWatermark2(new Watermark(Long.MAX_VALUE)); // no schedule change pending: judged on arrival
    }

    @TearDown(Level.Iteration)
    public void closeHarness() throws Exception {
        harness.close();
    }

    @Benchmark
    public void check() throws Exception {
        long n = next++;
        ShakeRecord shake = shakes[(int) (n & (Samples.N - 1))];
        shake.event.eventIdLo = n % retryEvery == 0 ? n - 1 : n;
        harness.processElement1(shake, shake.event.gatewayTsMs);
        if ((n & 0xffff) == 0) {
            harness.prepareSnapshotPreBarrier(n);
            harness.getOutput().clear();
            Queue<?> sums = harness.getSideOutput(EventIdentity.CELL_SUMS);
            if (sums != null) {
                sums.clear();
            }
        }
    }
}
