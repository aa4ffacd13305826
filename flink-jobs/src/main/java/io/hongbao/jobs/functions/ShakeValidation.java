package io.hongbao.jobs.functions;

import io.hongbao.ingest.event.RejectReason;
import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.ingest.profile.RoundWindows;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Drops gateway ticks (they have done their work at the source: event time). Lets through the shake records
 * that are shakes of a configured round inside its window; sends every other
 * record, with its reason, to {@link #REJECTED}. Nothing is dropped silently and nothing throws.
 *
 * <p>Without windows ({@link #recordsOnly()}) it lets through every readable shake: the payout job judges
 * rounds and windows where the live schedule is known ({@link EventIdentity}).
 */
public class ShakeValidation extends ProcessFunction<ShakeRecord, ShakeRecord> {
    private static final long serialVersionUID = 1L;

    /** Records that never pay and are not interactions: dead letters with a reason. */
    public static final OutputTag<ShakeRecord> REJECTED = new OutputTag<>("rejected-shakes") {};

    private final RoundWindows windows;
    private transient org.apache.flink.metrics.Counter ticks;

    public ShakeValidation(RoundWindows windows) {
        this.windows = java.util.Objects.requireNonNull(windows, "windows");
    }

    private ShakeValidation() {
        this.windows = null;
    }

    /** Ticks dropped, unreadable records rejected; rounds and windows left to a later stage. */
    public static ShakeValidation recordsOnly() {
        return new ShakeValidation();
    }

    @Override
    public void open(org.apache.flink.api.common.functions.OpenContext openContext) {
        ticks = getRuntimeContext().getMetricGroup().addGroup("hongbao").counter("gatewayTicks");
    }

    @Override
    public void processElement(ShakeRecord record, Context ctx, Collector<ShakeRecord> out) {
        if (record.isTick()) {
            ticks.inc(); // a gateway tick has moved event time at the source; it is no shake and no reject
            return;
        }
        if (record.isRejected()) {
            ctx.output(REJECTED, record);
            return;
        }
        RejectReason reason = windows == null ? null : windows.check(record.event);
        if (reason == null) {
            // The original bytes ride on to the identity check, which may still reject the shake (and drops them).
            out.collect(record);
        } else {
            ctx.output(REJECTED, record.reject(reason, windows.explain(record.event)));
        }
    }
}
