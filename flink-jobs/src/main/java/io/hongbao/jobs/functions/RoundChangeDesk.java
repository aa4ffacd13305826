package io.hongbao.jobs.functions;

import io.hongbao.jobs.payout.ChangeReceipt;
import io.hongbao.jobs.payout.RoundChange;
import io.hongbao.jobs.payout.RoundInForce;
import io.hongbao.jobs.payout.RoundRulebook;
import io.hongbao.money.LedgerEntry;
import io.hongbao.money.Round;
import java.time.Duration;
import java.util.List;
import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;
import org.apache.flink.util.OutputTag;

/**
 * The one place live round changes are decided (parallelism 1): every change of the control topic goes through
 * the {@link RoundRulebook} here, writes its ledger line here, and what it makes of a round's rules goes out as
 * a {@link RoundInForce} to every task that reads rules (the identity, the deciders, the sweeper), which only
 * put it in place. So all of them apply the same rules, and a verdict that depends on how far the job has come
 * (a schedule change reaching into decided event time) is made once.
 *
 * <p>The schedule horizon. The second input carries no records, only the shakes' watermark {@code W}. The desk
 * promises that no schedule change takes effect before {@code W + lead}, and sends that promise as its output's
 * watermark; a change taking effect before the latest promise is refused. The identity judges a shake against
 * the schedule at once when its event time is before the promise it has received, and holds it until the
 * promise passes it otherwise ({@link EventIdentity}): a shake is never judged by a window that a change
 * already accepted, or still to come, would move. A change and then the promise past it leave here in that
 * order on every channel, so every task has the change before its event time reaches it. The promise survives a
 * restore (a change accepted after the checkpoint is decided again on replay, against the horizon then).
 *
 * <p>The lead is the trade-off an operator sees: a change must take effect at least that far ahead of the
 * job's event time, and shakes more than that far ahead of the watermark (a stalled partition holding it back)
 * wait in the identity until the watermark moves. Budget, pause and resume take effect as they are read, as
 * before; they are decided here too, so that all tasks agree on them without deciding each.
 */
public class RoundChangeDesk<T> extends AbstractStreamOperator<RoundInForce>
        implements TwoInputStreamOperator<RoundChange, T, RoundInForce> {
    private static final long serialVersionUID = 1L;

    /** A round's rules after each applied change, for the settlement tables. */
    public static final OutputTag<Round> APPLIED_RULES = new OutputTag<>("applied-rules") {};

    private final RoundRulesInForce rulesInForce;
    private final long leadMs;
    private final long latestEndMs;
    private transient BroadcastState<Integer, RoundInForce> rules;
    private transient BroadcastState<String, ChangeReceipt> changeIds;
    /** The latest promise sent (restored): no schedule change takes effect before it. */
    private transient RestoredEventTime promised;
    /** The last watermark sent since this task started (a restored task starts its output afresh). */
    private transient long sent;
    private transient Counter applied;
    private transient Counter refused;

    /**
     * @param lead how far ahead of the shakes' watermark a schedule change must take effect
     * @param latestEndMs the latest end a window may have (past it the gateway's ticks no longer move event time)
     */
    public RoundChangeDesk(List<Round> configured, int reservePerMillion, Duration lead, long latestEndMs) {
        this.rulesInForce = new RoundRulesInForce(configured, reservePerMillion);
        this.leadMs = lead.toMillis();
        this.latestEndMs = latestEndMs;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        rules = context.getOperatorStateStore().getBroadcastState(ShardPayoutDecider.RULES);
        changeIds = context.getOperatorStateStore().getBroadcastState(RoundRulesInForce.CHANGE_IDS);
        promised = RestoredEventTime.restore(context, "desk-schedule-horizon");
        sent = Long.MIN_VALUE;
    }

    @Override
    public void open() throws Exception {
        super.open();
        applied = getMetricGroup().addGroup("hongbao").counter("roundChangesApplied");
        refused = getMetricGroup().addGroup("hongbao").counter("roundChangesRefused");
    }

    @Override
    public void processElement1(StreamRecord<RoundChange> element) throws Exception {
        RoundRulebook.Outcome outcome = rulesInForce.apply(rules, changeIds, element.getValue(),
                new RoundRulebook.Horizon(promised.reached(), latestEndMs));
        LedgerEntry line = outcome.ledger();
        output.collect(ShardPayoutDecider.LEDGER, new StreamRecord<>(line));
        if (outcome.rules() == null) {
            if ("CHANGE_REFUSED".equals(line.kind())) {
                refused.inc();
            }
            return;
        }
        applied.inc();
        output.collect(new StreamRecord<>(outcome.rules()));
        output.collect(APPLIED_RULES, new StreamRecord<>(outcome.rules().round()));
    }

    /** Records never come on the second input: it is there for the shakes' watermark. */
    @Override
    public void processElement2(StreamRecord<T> element) {}

    /** The control stream has no event time of its own ({@link WithoutEventTime}). */
    @Override
    public void processWatermark1(Watermark mark) {}

    @Override
    public void processWatermark2(Watermark mark) {
        long w = mark.getTimestamp();
        long promise = w == Long.MIN_VALUE ? Long.MIN_VALUE
                : w > Long.MAX_VALUE - leadMs ? Long.MAX_VALUE : w + leadMs;
        promised.advance(promise);
        if (promise > sent) {
            // After a restore this may be below the promise restored: the refusals keep to that one, and the
            // identity kept its own (the horizon it had received), so nothing below it is judged again early.
            sent = promise;
            output.emitWatermark(new Watermark(promise));
        }
    }

    /** The output stays active: its watermark is the promise, which only the shakes' watermark moves. */
    @Override
    protected void processWatermarkStatus(WatermarkStatus status, int inputId) {}

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        promised.snapshot();
    }
}
