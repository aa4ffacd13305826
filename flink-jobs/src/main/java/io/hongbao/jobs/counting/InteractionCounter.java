package io.hongbao.jobs.counting;

import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.settlement.analytics.InteractionCount;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Counts distinct valid shakes per cell (round, event-time minute, channel, region; keyed by
 * {@link #cellOf}) and emits the cell's new absolute total after each one. Its input is the payout deciders'
 * deduplicated stream, so the count and the money agree on what one interaction is.
 */
public class InteractionCounter extends KeyedProcessFunction<String, ShakeRecord, InteractionCount> {
    private static final long serialVersionUID = 1L;
    private transient ValueState<Long> shakes;

    /** The key: a string, so its hash (and key group) is the same in every JVM. */
    public static String cellOf(ShakeRecord shake) {
        ShakeEvent e = shake.event;
        return InteractionCount.cell(e.roundId, InteractionCount.minuteOf(e.gatewayTsMs), e.channel.key(), e.region);
    }

    @Override
    public void open(OpenContext openContext) {
        shakes = getRuntimeContext().getState(new ValueStateDescriptor<>("interaction-shakes", Types.LONG));
    }

    @Override
    public void processElement(ShakeRecord shake, Context ctx, Collector<InteractionCount> out) throws Exception {
        Long before = shakes.value();
        long now = (before == null ? 0 : before) + 1;
        shakes.update(now);
        ShakeEvent e = shake.event;
        out.collect(new InteractionCount(e.roundId, InteractionCount.minuteOf(e.gatewayTsMs), e.channel.key(),
                e.region, now));
    }
}
