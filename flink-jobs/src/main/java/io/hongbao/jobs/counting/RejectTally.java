package io.hongbao.jobs.counting;

import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.money.RejectCount;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Counts rejected records per reason (keyed by reason) and emits the new total after each one. Totals, not
 * increments: written with the checkpoint, a replay rewrites the same absolute value instead of adding twice.
 */
public class RejectTally extends KeyedProcessFunction<String, ShakeRecord, RejectCount> {
    private static final long serialVersionUID = 1L;
    private transient ValueState<Long> total;
    /** Rejected records per reason since this task started: the metric {@code hongbao_reason_rejected}. */
    private transient Map<String, Counter> rejectedPerReason;

    @Override
    public void open(OpenContext openContext) {
        total = getRuntimeContext().getState(new ValueStateDescriptor<>("rejected-total", Types.LONG));
        rejectedPerReason = new HashMap<>();
    }

    @Override
    public void processElement(ShakeRecord rejected, Context ctx, Collector<RejectCount> out) throws Exception {
        Long before = total.value();
        long now = (before == null ? 0 : before) + 1;
        total.update(now);
        rejectedPerReason.computeIfAbsent(ctx.getCurrentKey(), reason -> getRuntimeContext().getMetricGroup()
                .addGroup("hongbao").addGroup("reason", reason).counter("rejected")).inc();
        out.collect(new RejectCount(ctx.getCurrentKey(), now));
    }
}
