package io.hongbao.jobs;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.Collector;

/**
 * A standby cluster's readiness check: a small bounded job on RocksDB keyed state across every slot (parallelism =
 * the cluster's slots, so every TaskManager runs a part), submitted to datacenter B's warm standby from the same
 * uploaded jar as the payout job, before B is declared ready. It proves B can schedule, deploy and run a job with
 * this state backend; and it leaves B's JVMs as the payout job will need them at a failover: the RocksDB native
 * library extracted and loaded in each TaskManager (a second per TaskManager the first time, otherwise paid inside
 * the failover's restore), Flink's scheduling, deployment and state-backend code loaded and compiled. It touches no
 * Kafka topic, database or checkpoint storage.
 *
 * <p>{@code StandbySmokeJob [parallelism]} (default: the cluster's {@code parallelism.default}).
 */
public final class StandbySmokeJob {
    private StandbySmokeJob() {}

    public static void main(String[] args) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(
                JobEnvironment.configuration(null, java.time.Duration.ofMinutes(10)));
        if (args.length > 0) {
            env.setParallelism(Integer.parseInt(args[0]));
        }
        env.fromSequence(0, 20_000).keyBy(v -> v % 1024, Types.LONG).process(new CountPerKey()).returns(Types.LONG)
                .sinkTo(new DiscardingSink<>());
        env.execute("hongbao standby smoke test");
    }

    /** A value state per key: what makes every subtask open a RocksDB instance. */
    static final class CountPerKey extends KeyedProcessFunction<Long, Long, Long> {
        private transient ValueState<Long> count;

        @Override
        public void open(OpenContext context) {
            count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Types.LONG));
        }

        @Override
        public void processElement(Long value, Context ctx, Collector<Long> out) throws Exception {
            Long seen = count.value();
            count.update(seen == null ? 1 : seen + 1);
            out.collect(value);
        }
    }
}
