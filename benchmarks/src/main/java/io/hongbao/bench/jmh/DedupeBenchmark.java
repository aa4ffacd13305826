package io.hongbao.bench.jmh;

import static io.hongbao.ingest.SplitMix64.mix;

import io.hongbao.jobs.functions.EventDedupe;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.util.Collector;
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
 * The dedupe check, per event, on the payout decider's state layout ({@link EventDedupe}) in a real keyed
 * state backend (RocksDB as in production, or heap for comparison: there TTL's incremental cleanup copies the
 * shard's whole map on access, so heap figures say nothing about production), through Flink's test harness:
 * key the event by budget shard, look its id up, remember it. Most events are new, as in a gala; every
 * {@code retryEvery}-th one repeats the previous id.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class DedupeBenchmark {
    static final int SHARDS = 256;

    @Param({"rocksdb", "heap"})
    public String backend;

    @Param({"33"})
    public int retryEvery;

    private KeyedOneInputStreamOperatorTestHarness<Integer, Long, Long> harness;
    private long next = 1;

    @Setup(Level.Iteration)
    public void setUp() throws Exception {
        harness = new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(new Dedupe()),
                i -> (int) Long.remainderUnsigned(mix(i), SHARDS), Types.INT);
        if (backend.equals("rocksdb")) {
            EmbeddedRocksDBStateBackend rocksdb = new EmbeddedRocksDBStateBackend();
            // As a slot of the benchmark's MiniCluster: the harness's mock environment has almost no managed
            // memory, and RocksDB would flush a tiny memtable into a new L0 file every few hundred writes.
            rocksdb.getMemoryConfiguration().setFixedMemoryPerSlot(MemorySize.parse("128mb"));
            harness.setStateBackend(rocksdb);
        }
        harness.open();
    }

    @TearDown(Level.Iteration)
    public void tearDown() throws Exception {
        harness.close();
    }

    @Benchmark
    public void check() throws Exception {
        long i = next++;
        harness.processElement(new StreamRecord<>(i % retryEvery == 0 ? i - 1 : i));
        if ((i & 4095) == 0) {
            harness.getOutput().clear();
        }
    }

    /** The retry filter alone: passes an event on the first time its id is seen. */
    static final class Dedupe extends KeyedProcessFunction<Integer, Long, Long> {
        private static final long serialVersionUID = 1L;
        private transient EventDedupe dedupe;

        @Override
        public void open(OpenContext openContext) {
            dedupe = EventDedupe.open(getRuntimeContext());
        }

        @Override
        public void processElement(Long i, Context ctx, Collector<Long> out) throws Exception {
            if (dedupe.remember(mix(i), i, 1, i) == EventDedupe.Verdict.NEW) {
                out.collect(i);
            }
        }
    }
}
