package io.hongbao.jobs.functions;

import io.hongbao.jobs.payout.OverflowCandidate;
import io.hongbao.jobs.payout.PayoutSettings;
import io.hongbao.jobs.payout.RoundInForce;
import io.hongbao.jobs.payout.ShardReport;
import io.hongbao.jobs.payout.SweepInput;
import io.hongbao.money.LedgerEntry;
import io.hongbao.money.Payout;
import io.hongbao.money.Round;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Pays the tail of a round's budget (keyed by round). Every configured round is announced to it at the job's
 * start, so every round is swept, also one that nobody won in. Collects the shards' overflow candidates and, when
 * the watermark passes the round's end, their reports; then funds = budget minus what the shards spent, and the
 * candidates are paid in event-time order (ties by event id) while money and tier packets last. Deterministic
 * for a given set of candidates and reports, whatever order they arrived in. What it pays shows in the same
 * {@code hongbao.round.<id>.paidFen} gauges as the shards' payouts. A round whose window a live change moved
 * is swept where its window in force ends; a round added live is announced by the change desk's rules.
 */
public class RoundSweeper extends KeyedBroadcastProcessFunction<Integer, SweepInput, RoundInForce, Payout>
        implements CheckpointedFunction {
    private static final long serialVersionUID = 1L;

    private final RoundRulesInForce rulesInForce;
    private transient ListState<OverflowCandidate> candidates;
    private transient ValueState<long[]> spentByShards;
    private transient RoundPaidMetrics paidMetrics;
    private transient RestoredEventTime eventTime;

    public RoundSweeper(List<Round> configured, PayoutSettings settings) {
        this.rulesInForce = new RoundRulesInForce(configured, settings.reservePerMillion());
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        paidMetrics = RoundPaidMetrics.restore(context, ShardPayoutDecider.metrics(getRuntimeContext()));
        eventTime = RestoredEventTime.restore(context, "sweeper-event-time");
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        paidMetrics.snapshot();
        eventTime.snapshot();
    }

    @Override
    public void open(OpenContext openContext) {
        candidates = getRuntimeContext().getListState(
                new ListStateDescriptor<>("overflow-candidates", TypeInformation.of(OverflowCandidate.class)));
        spentByShards = getRuntimeContext().getState(
                new ValueStateDescriptor<>("spent-by-shards",
                        org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO));
    }

    @Override
    public void processElement(SweepInput in, ReadOnlyContext ctx, Collector<Payout> out) throws Exception {
        RoundInForce rules = rulesInForce.of(ctx.getBroadcastState(ShardPayoutDecider.RULES), in.roundId());
        if (in.rules != null && (rules == null || in.rules.round().version() > rules.round().version())) {
            // The desk's notice can overtake the same rules on the broadcast input; they are there before event
            // time reaches the change (the desk's watermark follows both), so the timer can read them.
            rules = in.rules;
        }
        if (rules == null) {
            return;
        }
        long closesAt = EventIdentity.closeTimeOf(rules.round().endsAtMs());
        if (eventTime.current(ctx.timerService()) >= closesAt) {
            // Past the close the round is swept (its timer fired as event time got here) and its state gone:
            // nothing more is paid for it, and no state or timer is made for it again, also after a restore.
            return;
        }
        if (in.candidate != null) {
            candidates.add(in.candidate);
        } else if (in.report != null) {
            ShardReport report = in.report;
            long[] spent = spentByShards.value();
            if (spent == null) {
                spent = new long[1 + rules.round().tiers().size()];
            }
            spent[0] += report.spentFen;
            for (int i = 0; i < report.paidPerTier.length; i++) {
                spent[1 + i] += report.paidPerTier[i];
            }
            spentByShards.update(spent);
        }
        ctx.timerService().registerEventTimeTimer(closesAt);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<Payout> out) throws Exception {
        eventTime.current(ctx.timerService());
        RoundInForce rules = rulesInForce.of(ctx.getBroadcastState(ShardPayoutDecider.RULES), ctx.getCurrentKey());
        if (rules == null) {
            return; // cannot happen: an added round's rules reach the broadcast input before event time does
        }
        Round round = rules.round();
        long closesAt = EventIdentity.closeTimeOf(round.endsAtMs());
        if (timestamp != closesAt) {
            // A timer of a window since moved. Later: the new close has its timer (the desk's rules reach this
            // round as an input, which sets it). Earlier: that timer swept the round already.
            if (timestamp < closesAt) {
                ctx.timerService().registerEventTimeTimer(closesAt);
            }
            return;
        }
        long[] spent = spentByShards.value();
        if (spent == null) {
            spent = new long[1 + round.tiers().size()];
        }
        long funds = round.budgetFen() - spent[0];
        long[] packetsLeft = new long[round.tiers().size()];
        for (int i = 0; i < packetsLeft.length; i++) {
            packetsLeft[i] = round.tiers().get(i).countCap() - spent[1 + i];
        }
        List<OverflowCandidate> queue = new ArrayList<>();
        candidates.get().forEach(queue::add);
        queue.sort(Comparator.comparingLong((OverflowCandidate c) -> c.shake.event.gatewayTsMs)
                .thenComparingLong(c -> c.shake.event.eventIdHi)
                .thenComparingLong(c -> c.shake.event.eventIdLo));
        long paid = 0;
        long paidFen = 0;
        for (OverflowCandidate c : queue) {
            int tier = ShardPayoutDecider.tierIndex(round, c.tierId);
            if (c.amountFen <= funds && packetsLeft[tier] > 0) {
                funds -= c.amountFen;
                packetsLeft[tier]--;
                paid++;
                paidFen += c.amountFen;
                paidMetrics.paid(round.roundId(), c.amountFen);
                out.collect(ShardPayoutDecider.payout(c.shake, c.tierId, c.amountFen));
            }
        }
        ctx.output(ShardPayoutDecider.LEDGER, new LedgerEntry("swept-r" + round.roundId(), round.roundId(), "SWEPT",
                0, round.budgetFen(), "shards spent " + spent[0] + " fen; sweeper paid " + paid + " of " + queue.size()
                        + " overflow winners, " + paidFen + " fen; unspent " + funds + " fen",
                round.endsAtMs(), "sweeper"));
        candidates.clear();
        spentByShards.clear();
    }

    /** The rules of a round after a change the {@link RoundChangeDesk} applied: put in place. */
    @Override
    public void processBroadcastElement(RoundInForce changed, Context ctx, Collector<Payout> out)
            throws Exception {
        ctx.getBroadcastState(ShardPayoutDecider.RULES).put(changed.round().roundId(), changed);
    }
}
