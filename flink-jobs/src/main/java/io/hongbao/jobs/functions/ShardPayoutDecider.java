package io.hongbao.jobs.functions;

import io.hongbao.ingest.event.RejectReason;
import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.jobs.payout.BudgetSplit;
import io.hongbao.jobs.payout.OverflowCandidate;
import io.hongbao.jobs.payout.PayoutDraw;
import io.hongbao.jobs.payout.PayoutDraw.Prize;
import io.hongbao.jobs.payout.PayoutSettings;
import io.hongbao.jobs.payout.RoundChange;
import io.hongbao.jobs.payout.RoundRulebook;
import io.hongbao.jobs.payout.RoundInForce;
import io.hongbao.jobs.payout.ShardReport;
import io.hongbao.jobs.payout.ShardRound;
import io.hongbao.jobs.payout.UserWins;
import io.hongbao.money.LedgerEntry;
import io.hongbao.money.Payout;
import io.hongbao.money.Round;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ReadOnlyBroadcastState;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * The payout decision for one budget shard (keyed by shard; a shard holds many users). Shakes arrive
 * deduplicated, counted and drawn by {@link EventIdentity}, which sends on only those whose draw wins. Per shake:
 * skip it if the round is paused or the user is capped, draw again (the same draw: a shake that does not win is
 * never paid, whoever sends it); a winner is paid from the shard's share of the round budget and tier caps, or
 * handed to the round's sweeper when the share is spent. When the watermark passes the round's end, the shard
 * reports what it spent.
 *
 * <p>Everything a decision reads is keyed state of this shard or broadcast rules, so decisions need no
 * cross-shard coordination and the budget has no hot key. Live round changes arrive as broadcast elements;
 * subtask 0 writes each one's ledger line.
 *
 * <p>Metrics (group {@code hongbao}): {@code wins}, and per round
 * {@code budgetFen} and {@code paidFen} ({@link RoundPaidMetrics}).
 */
public class ShardPayoutDecider
        extends KeyedBroadcastProcessFunction<Integer, ShakeRecord, RoundChange, Payout>
        implements CheckpointedFunction {
    private static final long serialVersionUID = 1L;

    public static final MapStateDescriptor<Integer, RoundInForce> RULES =
            new MapStateDescriptor<>("round-rules", Types.INT, TypeInformation.of(RoundInForce.class));
    public static final OutputTag<OverflowCandidate> OVERFLOW = new OutputTag<>("overflow") {};
    public static final OutputTag<ShardReport> SHARD_REPORTS = new OutputTag<>("shard-reports") {};
    public static final OutputTag<LedgerEntry> LEDGER = new OutputTag<>("ledger") {};
    /** Shakes that reached the decision after their round closed: rejects, counted and dead-lettered. */
    public static final OutputTag<ShakeRecord> LATE = new OutputTag<>("late-shakes") {};
    /** A round's rules after each applied change, for the settlement tables. */
    public static final OutputTag<Round> APPLIED_RULES = new OutputTag<>("applied-rules") {};

    private static final Comparator<ShakeRecord> BY_EVENT_ID = Comparator
            .comparingLong((ShakeRecord r) -> r.event.eventIdHi).thenComparingLong(r -> r.event.eventIdLo);

    private final PayoutSettings settings;
    private final RoundRulesInForce rulesInForce;
    private transient PayoutDraw draw;
    private transient MapState<Long, UserWins> users;
    private transient MapState<Integer, ShardRound> rounds;
    /** Winners waiting for the watermark to pass their event time, by gateway time. */
    private transient MapState<Long, List<ShakeRecord>> pendingWinners;
    private transient Counter wins;
    private transient RoundPaidMetrics paidMetrics;
    private transient RestoredEventTime eventTime;

    public ShardPayoutDecider(List<Round> configured, PayoutSettings settings) {
        this.settings = settings;
        this.rulesInForce = new RoundRulesInForce(configured, settings.reservePerMillion());
    }

    /** The round gauges' figures (tests). */
    RoundPaidMetrics paidMetrics() {
        return paidMetrics;
    }

    static MetricGroup metrics(org.apache.flink.api.common.functions.RuntimeContext context) {
        return context.getMetricGroup().addGroup("hongbao");
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        paidMetrics = RoundPaidMetrics.restore(context, metrics(getRuntimeContext()));
        eventTime = RestoredEventTime.restore(context, "decider-event-time");
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        paidMetrics.snapshot();
        eventTime.snapshot();
    }

    @Override
    public void open(OpenContext openContext) {
        draw = settings.draw();
        users = getRuntimeContext().getMapState(
                new MapStateDescriptor<>("user-wins", Types.LONG, TypeInformation.of(UserWins.class)));
        rounds = getRuntimeContext().getMapState(
                new MapStateDescriptor<>("shard-rounds", Types.INT, TypeInformation.of(ShardRound.class)));
        pendingWinners = getRuntimeContext().getMapState(new MapStateDescriptor<>("pending-winners", Types.LONG,
                Types.LIST(TypeInformation.of(ShakeRecord.class))));
        MetricGroup metrics = metrics(getRuntimeContext());
        wins = metrics.counter("wins");
    }

    @Override
    public void processElement(ShakeRecord shake, ReadOnlyContext ctx, Collector<Payout> out)
            throws Exception {
        int roundId = shake.event.roundId;
        RoundInForce rules = rulesInForce.of(ctx.getBroadcastState(RULES), roundId);
        if (rules == null
                || eventTime.current(ctx.timerService()) >= EventIdentity.closeTimeOf(rules.round().endsAtMs())) {
            // EventIdentity upstream already refuses shakes of closed rounds, and its watermark is never behind
            // this one: this is a guard, so a shake that could not be decided is a counted reject, never a gap.
            // It also holds right after a restore, before the watermark is back (RestoredEventTime): the round's
            // state is gone at its close and must not start again from nothing.
            ctx.output(LATE, shake.reject(rules == null ? RejectReason.UNKNOWN_ROUND : RejectReason.LATE,
                    "round " + roundId + (rules == null ? " is not configured" : " closed before the decision")));
            return;
        }
        paidMetrics.budget(rules.round());
        if (rules.round().paused()) {
            return;
        }
        // The draw depends on the round and the event id only, never on state: EventIdentity sends on the
        // winners only, and this check keeps a losing shake from being paid whatever sends it here.
        long drawn = draw.draw(roundId, shake.event.eventIdHi, shake.event.eventIdLo);
        if (!PayoutDraw.wins(drawn, rules.round().winPerMillion())) {
            return;
        }
        // A winner is paid in event-time order within its shard (ties by event id), not in arrival order: a shard
        // hears from every identity subtask, so arrival order differs between runs, and which of a capped user's
        // wins is paid, or which winner takes a shard's last fen, must not. Losers never get here.
        long at = shake.event.gatewayTsMs;
        if (at > ctx.timerService().currentWatermark()) {
            List<ShakeRecord> due = pendingWinners.get(at);
            if (due == null) {
                due = new ArrayList<>(1);
            }
            due.add(shake);
            pendingWinners.put(at, due);
            ctx.timerService().registerEventTimeTimer(at);
            return;
        }
        decide(shake, rules, drawn, ctx, out); // behind the watermark already (beyond the out-of-orderness bound)
    }

    /** Pays a winner from the shard's share, hands it to the sweeper, or lets a cap stop it. */
    private void decide(ShakeRecord shake, RoundInForce rules, long drawn, ReadOnlyContext ctx,
            Collector<Payout> out) throws Exception {
        Round round = rules.round();
        int roundId = round.roundId();
        ShardRound spent = rounds.get(roundId);
        if (spent == null) {
            spent = ShardRound.open(round.tiers().size());
            // Every shard that spends reports at the close, or the sweeper would count its money as unspent.
            ctx.timerService().registerEventTimeTimer(EventIdentity.closeTimeOf(round.endsAtMs()));
        }
        long userId = shake.event.userId;
        UserWins user = users.get(userId);
        if (user == null) {
            user = new UserWins();
        }
        if (user.winsIn(roundId) >= round.winsPerRound()) {
            return;
        }
        long headroom = round.fenPerGala() - user.fenWon;
        // The tier is drawn among all tiers by their weights, whatever this shard has left: a shard's share of a
        // small tier cap can be zero packets, and drawing only among its open tiers would shift the prize mix
        // towards the common tiers. What the shard cannot pay goes to the sweeper.
        Prize wanted = PayoutDraw.pick(drawn, round.tiers(), headroom);
        if (wanted != null) {
            int shard = ctx.getCurrentKey();
            int tier = tierIndex(round, wanted.tierId());
            long shareLeft = BudgetSplit.share(rules.shardBaseFen(), settings.reservePerMillion(), settings.shards(),
                    shard) - spent.spentFen;
            boolean tierOpen = spent.paidPerTier[tier] < BudgetSplit.share(round.tiers().get(tier).countCap(),
                    settings.reservePerMillion(), settings.shards(), shard);
            // Near the end of the share the amount is drawn within what is left, so shares drain to the fen.
            Prize prize = tierOpen
                    ? PayoutDraw.pick(drawn, List.of(round.tiers().get(tier)), Math.min(shareLeft, headroom))
                    : null;
            if (prize != null) {
                spent.spentFen += prize.amountFen();
                spent.paidPerTier[tier]++;
                user.record(roundId, prize.amountFen());
                wins.inc();
                paidMetrics.paid(roundId, prize.amountFen());
                out.collect(payout(shake, prize.tierId(), prize.amountFen()));
            } else if (spent.forwarded < settings.overflowPerShard(round)) {
                spent.forwarded++;
                user.record(roundId, wanted.amountFen()); // reserved: caps hold whatever the sweeper decides
                ctx.output(OVERFLOW, OverflowCandidate.of(shake, wanted.tierId(), wanted.amountFen()));
            }
        }
        rounds.put(roundId, spent);
        users.put(userId, user);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<Payout> out) throws Exception {
        eventTime.current(ctx.timerService());
        ReadOnlyBroadcastState<Integer, RoundInForce> broadcast = ctx.getBroadcastState(RULES);
        List<ShakeRecord> due = pendingWinners.get(timestamp);
        if (due != null) {
            due.sort(BY_EVENT_ID);
            for (ShakeRecord winner : due) {
                RoundInForce rules = rulesInForce.of(broadcast, winner.event.roundId);
                decide(winner, rules, draw.draw(rules.round().roundId(), winner.event.eventIdHi,
                        winner.event.eventIdLo), ctx, out);
            }
            pendingWinners.remove(timestamp);
        }
        for (RoundInForce rules : rulesInForce.all(broadcast)) {
            Round round = rules.round();
            if (EventIdentity.closeTimeOf(round.endsAtMs()) != timestamp) {
                continue;
            }
            ShardRound spent = rounds.get(round.roundId());
            if (spent != null) {
                // The round is over for this shard: report once and forget it (the guard keeps it closed).
                rounds.remove(round.roundId());
                ctx.output(SHARD_REPORTS,
                        ShardReport.of(round.roundId(), ctx.getCurrentKey(), spent.spentFen, spent.paidPerTier));
            }
        }
    }

    @Override
    public void processBroadcastElement(RoundChange change, Context ctx, Collector<Payout> out)
            throws Exception {
        RoundRulebook.Outcome outcome = rulesInForce.apply(ctx, change);
        if (outcome.rules() != null) {
            paidMetrics.budget(outcome.rules().round());
        }
        if (getRuntimeContext().getTaskInfo().getIndexOfThisSubtask() == 0) {
            ctx.output(LEDGER, outcome.ledger());
            if (outcome.rules() != null) {
                ctx.output(APPLIED_RULES, outcome.rules().round());
            }
        }
    }

    static int tierIndex(Round round, int tierId) {
        for (int i = 0; i < round.tiers().size(); i++) {
            if (round.tiers().get(i).tierId() == tierId) {
                return i;
            }
        }
        throw new IllegalArgumentException("round " + round.roundId() + " has no tier " + tierId);
    }

    /**
     * The payout row of a winning shake, as the settlement tables take it; {@code shakeEventTimeMs} is the shake's
     * event time, not a wall clock, so a replay makes the same row.
     */
    static Payout payout(ShakeRecord won, int tierId, long amountFen) {
        ShakeEvent e = won.event;
        return new Payout(e.roundId, tierId, e.userId, amountFen, e.eventIdHex(), won.topic, won.partition, won.offset,
                e.gatewayTsMs);
    }
}
