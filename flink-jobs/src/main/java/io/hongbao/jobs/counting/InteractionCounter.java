package io.hongbao.jobs.counting;

import io.hongbao.settlement.analytics.InteractionCount;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Counts distinct valid shakes per cell (round, event-time minute, channel, region; keyed by {@link #cellOf})
 * and emits the cell's new absolute total after each partial sum. Its input is {@link CellSums} over the
 * payout deciders' deduplicated stream, so the count and the money agree on what one interaction is.
 */
public class InteractionCounter extends KeyedProcessFunction<String, InteractionCount, InteractionCount> {
    private static final long serialVersionUID = 1L;
    private transient ValueState<Long> shakes;

    /** The key: a string, so its hash (and key group) is the same in every JVM. */
    public static String cellOf(InteractionCount sum) {
        return sum.cell();
    }

    @Override
    public void open(OpenContext openContext) {
        shakes = getRuntimeContext().getState(new ValueStateDescriptor<>("interaction-shakes", Types.LONG));
    }

    /** @param sum shakes of one cell since the last partial sum ({@link InteractionCount#shakes} an increment) */
    @Override
    public void processElement(InteractionCount sum, Context ctx, Collector<InteractionCount> out) throws Exception {
        Long before = shakes.value();
        long now = (before == null ? 0 : before) + sum.shakes;
        shakes.update(now);
        out.collect(new InteractionCount(sum.roundId, sum.minuteStartMs, sum.channel, sum.region, now));
    }
}
