package io.hongbao.bench.jmh;

import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.jobs.functions.ShardPayoutDecider;
import io.hongbao.jobs.payout.PayoutDraw;
import io.hongbao.jobs.payout.PayoutSettings;
import io.hongbao.jobs.payout.RoundInForce;
import io.hongbao.money.Payout;
import io.hongbao.money.Round;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.util.OutputTag;
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
 * The budget decision, per shake: {@link ShardPayoutDecider} (rules in force, the keyed draw, and for a winner
 * the user's and shard's books, tier and share checks, decided as the watermark passes) in Flink's test harness
 * with RocksDB state, on the benchmark profile's rounds and shakes; and the draw alone (SipHash of round and
 * event id, win test), the part no state layout can change. Each shake gets a fresh event id.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class BudgetBenchmark {
    private static final List<OutputTag<?>> SIDE_OUTPUTS = List.of(ShardPayoutDecider.OVERFLOW, ShardPayoutDecider.SHARD_REPORTS, ShardPayoutDecider.LEDGER);

    /**
     * Heap state is for comparison only: with heap state, TTL's incremental cleanup copies a shard's whole map
     * of event ids on access, which production (RocksDB, compaction-filter cleanup) never does.
     */
    @Param({"rocksdb", "heap"})
    public String backend;

    private ShakeRecord[] shakes;
    private PayoutSettings settings;
    private PayoutDraw draw;
    private KeyedTwoInputStreamOperatorTestHarness<Integer, ShakeRecord, RoundInForce, Payout> harness;
    private long next = 1;
    private long latest = Long.MIN_VALUE;

    @Setup
    public void setUp() {
        shakes = Samples.validShakes();
        settings = new PayoutSettings(256, 10_000, 0x6a09e667f3bcc908L, 0xbb67ae8584caa73bL);
        draw = settings.draw();
    }

    @Setup(Level.Iteration)
    public void openHarness() throws Exception {
        List<Round> rules = Samples.profile().roundConfigs();
        PayoutSettings shards = settings; // the key selector is serialized: it must not capture this state object
        harness = new KeyedTwoInputStreamOperatorTestHarness<>(new ShardPayoutDecider(rules, shards),
                (ShakeRecord r) -> shards.shardOf(r.event.userId), (RoundInForce c) -> 0, Types.INT, 1, 1, 0);
        if (backend.equals("rocksdb")) {
            EmbeddedRocksDBStateBackend rocksdb = new EmbeddedRocksDBStateBackend();
            // As a slot of the benchmark's MiniCluster (see DedupeBenchmark).
            rocksdb.getMemoryConfiguration().setFixedMemoryPerSlot(MemorySize.parse("128mb"));
            harness.setStateBackend(rocksdb);
        }
        harness.open();
        harness.processWatermarkStatus2(WatermarkStatus.IDLE); // as in the pipeline: control holds no event time
    }

    @TearDown(Level.Iteration)
    public void closeHarness() throws Exception {
        harness.close();
    }

    @Benchmark
    public void decide() throws Exception {
        long n = next++;
        ShakeRecord shake = shakes[(int) (n & (Samples.N - 1))];
        shake.event.eventIdLo = n; // a new event every time: the common case, a first delivery
        harness.processElement1(shake, shake.event.gatewayTsMs);
        latest = Math.max(latest, shake.event.gatewayTsMs);
        if ((n & 4095) == 0) {
            harness.processWatermark1(new Watermark(latest)); // the waiting winners are decided
            harness.getOutput().clear();
            for (OutputTag<?> tag : SIDE_OUTPUTS) {
                Queue<?> q = harness.getSideOutput(tag);
                if (q != null) {
                    q.clear();
                }
            }
        }
    }

    @Benchmark
    public boolean drawOnly() {
        long n = next++;
        ShakeRecord shake = shakes[(int) (n & (Samples.N - 1))];
        return PayoutDraw.wins(draw.draw(shake.event.roundId, shake.event.eventIdHi, n), 20_000);
    }
}
