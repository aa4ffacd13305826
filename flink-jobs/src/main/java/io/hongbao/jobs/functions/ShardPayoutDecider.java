package io.hongbao.jobs.functions;

import io.hongbao.ingest.event.RejectReason;
import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.jobs.payout.BudgetSplit;
import io.hongbao.jobs.payout.OverflowCandidate;
import io.hongbao.jobs.payout.PayoutDraw;
import io.hongbao.jobs.payout.PayoutDraw.Prize;
import io.hongbao.jobs.payout.PayoutSettings;
import io.hongbao.jobs.payout.RoundInForce;
import io.hongbao.jobs.payout.ShardReport;
import io.hongbao.jobs.payout.ShardRound;
import io.hongbao.jobs.payout.UserWins;
import io.hongbao.money.LedgerEntry;
import io.hongbao.money.Payout;
import io.hongbao.money.Round;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.state.KeyedStateBackend;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

/**
 * The payout decision for the budget shards of one subtask (the input is keyed by shard; a shard holds many
 * users). Shakes arrive deduplicated, counted and drawn by {@link EventIdentity}, which sends on only those whose
 * draw wins. Per shake: skip it if the round is paused or the user is capped, draw again (the same draw: a shake
 * that does not win is never paid, whoever sends it); a winner is paid from the shard's share of the round budget
 * and tier caps, or handed to the round's sweeper when the share is spent. When the watermark passes the round's
 * end, each shard that spent reports what it spent.
 *
 * <p>Everything a decision reads is this shard's books or the broadcast rules, so decisions need no cross-shard
 * coordination and the budget has no hot key. The rules the {@link RoundChangeDesk} makes of live changes arrive
 * on the second input, broadcast to every subtask, with the desk's schedule promise as its watermark: a round's
 * close is where its window in force ends.
 *
 * <p>The books live on the heap, as the identity's ids do: a winner costs map lookups, no state-backend read or
 * write and no timer. Keyed state (under each shard's key, so key groups move with their shards on a rescale)
 * gets what changed before each barrier: the users and shard rounds a winner touched since the last checkpoint,
 * and each shard's winners still waiting for the watermark. A restore reads the books of exactly the shards the
 * subtask owns. Decisions are made when the watermark passes a winner's event time, in event-time order, ties by
 * event id: the order the event-time timers of the function this replaces gave them.
 *
 * <p>Metrics (group {@code hongbao}): {@code wins}, and per round {@code budgetFen} and {@code paidFen}
 * ({@link RoundPaidMetrics}).
 */
public class ShardPayoutDecider extends AbstractStreamOperator<Payout>
        implements TwoInputStreamOperator<ShakeRecord, RoundInForce, Payout> {
    private static final long serialVersionUID = 2L;

    public static final MapStateDescriptor<Integer, RoundInForce> RULES =
            new MapStateDescriptor<>("round-rules", Types.INT, TypeInformation.of(RoundInForce.class));
    public static final OutputTag<OverflowCandidate> OVERFLOW = new OutputTag<>("overflow") {};
    public static final OutputTag<ShardReport> SHARD_REPORTS = new OutputTag<>("shard-reports") {};
    public static final OutputTag<LedgerEntry> LEDGER = new OutputTag<>("ledger") {};
    /** Shakes that reached the decision after their round closed: rejects, counted and dead-lettered. */
    public static final OutputTag<ShakeRecord> LATE = new OutputTag<>("late-shakes") {};

    /** Keyed by shard: per user of the shard, what the user won (for the gala). */
    static final String USERS_STATE = "user-wins";
    /** Keyed by shard: per open round, what the shard spent in it. */
    static final String ROUNDS_STATE = "shard-rounds";
    /** Keyed by shard: the shard's winners waiting for the watermark at the last checkpoint. */
    static final String WAITING_STATE = "winners-waiting";

    private static final Comparator<ShakeRecord> BY_EVENT_ID = Comparator
            .comparingLong((ShakeRecord r) -> r.event.eventIdHi).thenComparingLong(r -> r.event.eventIdLo);

    private final PayoutSettings settings;
    private final RoundRulesInForce rulesInForce;
    private transient PayoutDraw draw;
    private transient BroadcastState<Integer, RoundInForce> rules;
    private transient MapState<Long, UserWins> usersState;
    private transient MapState<Integer, ShardRound> roundsState;

    /** Every user of this subtask's shards who won, or was reserved for the sweeper, in the gala. */
    private transient Map<Long, UserWins> users;
    private transient Set<Long> usersToWrite;
    /** Round id -> shard -> what the shard spent in the open round. */
    private transient Map<Integer, Map<Integer, ShardRound>> spending;
    /** (shard, round) pairs whose spending changed since the last checkpoint ({@link #shardRound}). */
    private transient Set<Long> roundsToWrite;
    /** Winners waiting for the watermark to pass their event time. */
    private transient HeldShakes waiting;
    /** The last watermark this subtask got (not restored: the decisions wait for the inputs' own). */
    private transient long watermark;
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
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        paidMetrics = RoundPaidMetrics.restore(context, getMetricGroup().addGroup("hongbao"));
        eventTime = RestoredEventTime.restore(context, "decider-event-time");
        rules = context.getOperatorStateStore().getBroadcastState(RULES);
        usersState = keyedState(new MapStateDescriptor<>(USERS_STATE, Types.LONG, TypeInformation.of(UserWins.class)));
        roundsState = keyedState(
                new MapStateDescriptor<>(ROUNDS_STATE, Types.INT, TypeInformation.of(ShardRound.class)));
        users = new HashMap<>();
        usersToWrite = new HashSet<>();
        spending = new HashMap<>();
        roundsToWrite = new HashSet<>();
        waiting = new HeldShakes(WAITING_STATE,
                keyedState(new ListStateDescriptor<>(WAITING_STATE, TypeInformation.of(ShakeRecord.class))),
                r -> settings.shardOf(r.event.userId));
        watermark = Long.MIN_VALUE;
        for (int shard : shardsIn(USERS_STATE)) {
            setCurrentKey(shard);
            for (Map.Entry<Long, UserWins> user : usersState.entries()) {
                users.put(user.getKey(), user.getValue());
            }
        }
        for (int shard : shardsIn(ROUNDS_STATE)) {
            setCurrentKey(shard);
            for (Map.Entry<Integer, ShardRound> round : roundsState.entries()) {
                spending.computeIfAbsent(round.getKey(), r -> new HashMap<>()).put(shard, round.getValue());
            }
        }
        waiting.restore(getKeyedStateBackend(), this::setCurrentKey);
    }

    @Override
    public void open() throws Exception {
        super.open();
        draw = settings.draw();
        wins = getMetricGroup().addGroup("hongbao").counter("wins");
    }

    @Override
    public void processElement1(StreamRecord<ShakeRecord> element) throws Exception {
        ShakeRecord shake = element.getValue();
        int roundId = shake.event.roundId;
        RoundInForce inForce = rulesInForce.of(rules, roundId);
        if (inForce == null || eventTime.reached() >= EventIdentity.closeTimeOf(inForce.round().endsAtMs())) {
            // EventIdentity upstream already refuses shakes of closed rounds, and its watermark is never behind
            // this one: this is a guard, so a shake that could not be decided is a counted reject, never a gap.
            // It also holds right after a restore, before the watermark is back (RestoredEventTime): the round's
            // state is gone at its close and must not start again from nothing.
            output.collect(LATE, element.replace(shake.reject(
                    inForce == null ? RejectReason.UNKNOWN_ROUND : RejectReason.LATE,
                    "round " + roundId + (inForce == null ? " is not configured" : " closed before the decision"))));
            return;
        }
        paidMetrics.budget(inForce.round());
        if (inForce.round().paused()) {
            return;
        }
        // The draw depends on the round and the event id only, never on state: EventIdentity sends on the
        // winners only, and this check keeps a losing shake from being paid whatever sends it here.
        long drawn = draw.draw(roundId, shake.event.eventIdHi, shake.event.eventIdLo);
        if (!PayoutDraw.wins(drawn, inForce.round().winPerMillion())) {
            return;
        }
        // A winner is paid in event-time order within its shard (ties by event id), not in arrival order: a shard
        // hears from every identity subtask, so arrival order differs between runs, and which of a capped user's
        // wins is paid, or which winner takes a shard's last fen, must not. Losers never get here.
        if (shake.event.gatewayTsMs > watermark) {
            waiting.hold(shake);
            return;
        }
        decide(shake, inForce, drawn); // behind the watermark already (beyond the out-of-orderness bound)
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        watermark = mark.getTimestamp();
        eventTime.advance(watermark);
        waiting.release(watermark, true, winners -> {
            winners.sort(BY_EVENT_ID);
            for (ShakeRecord winner : winners) {
                ShakeEvent e = winner.event;
                decide(winner, rulesInForce.of(rules, e.roundId), draw.draw(e.roundId, e.eventIdHi, e.eventIdLo));
            }
        });
        closeRounds();
        super.processWatermark(mark);
    }

    /** Pays a winner from the shard's share, hands it to the sweeper, or lets a cap stop it. */
    private void decide(ShakeRecord shake, RoundInForce inForce, long drawn) {
        Round round = inForce.round();
        int roundId = round.roundId();
        long userId = shake.event.userId;
        int shard = settings.shardOf(userId);
        UserWins user = users.get(userId);
        if (user == null) {
            user = new UserWins();
        }
        if (user.winsIn(roundId) >= round.winsPerRound()) {
            return;
        }
        // Every shard that decides in a round reports at the close, or the sweeper would count its money as unspent.
        ShardRound spent = spending.computeIfAbsent(roundId, r -> new HashMap<>())
                .computeIfAbsent(shard, s -> ShardRound.open(round.tiers().size()));
        roundsToWrite.add(shardRound(shard, roundId));
        users.put(userId, user);
        usersToWrite.add(userId);
        long headroom = round.fenPerGala() - user.fenWon;
        // The tier is drawn among all tiers by their weights, whatever this shard has left: a shard's share of a
        // small tier cap can be zero packets, and drawing only among its open tiers would shift the prize mix
        // towards the common tiers. What the shard cannot pay goes to the sweeper.
        Prize wanted = PayoutDraw.pick(drawn, round.tiers(), headroom);
        if (wanted == null) {
            return;
        }
        int tier = tierIndex(round, wanted.tierId());
        long shareLeft = BudgetSplit.share(inForce.shardBaseFen(), settings.reservePerMillion(), settings.shards(),
                shard) - spent.spentFen;
        boolean tierOpen = spent.paidPerTier[tier] < BudgetSplit.share(round.tiers().get(tier).countCap(),
                settings.reservePerMillion(), settings.shards(), shard);
        // Near the end of the share the amount is drawn within what is left, so shares drain to the fen.
        Prize prize = tierOpen
                ? PayoutDraw.pick(drawn, List.of(round.tiers().get(tier)), Math.min(shareLeft, headroom))
                : null;
        long at = shake.event.gatewayTsMs;
        if (prize != null) {
            spent.spentFen += prize.amountFen();
            spent.paidPerTier[tier]++;
            user.record(roundId, prize.amountFen());
            wins.inc();
            paidMetrics.paid(roundId, prize.amountFen());
            output.collect(new StreamRecord<>(payout(shake, prize.tierId(), prize.amountFen()), at));
        } else if (spent.forwarded < settings.overflowPerShard(round)) {
            spent.forwarded++;
            user.record(roundId, wanted.amountFen()); // reserved: caps hold whatever the sweeper decides
            output.collect(OVERFLOW, new StreamRecord<>(OverflowCandidate.of(shake, wanted.tierId(),
                    wanted.amountFen()), at));
        }
    }

    /**
     * Each round the watermark closed: its shards report once and forget it (the guard keeps it closed). Winners
     * of the round are all decided by then: they are due at or before its close, and decided first.
     */
    private void closeRounds() throws Exception {
        for (Iterator<Map.Entry<Integer, Map<Integer, ShardRound>>> open = spending.entrySet().iterator();
                open.hasNext(); ) {
            Map.Entry<Integer, Map<Integer, ShardRound>> round = open.next();
            RoundInForce inForce = rulesInForce.of(rules, round.getKey());
            long closesAt = EventIdentity.closeTimeOf(inForce.round().endsAtMs());
            if (closesAt > watermark) {
                continue;
            }
            open.remove();
            for (Map.Entry<Integer, ShardRound> shard : round.getValue().entrySet()) {
                ShardRound spent = shard.getValue();
                output.collect(SHARD_REPORTS, new StreamRecord<>(ShardReport.of(round.getKey(), shard.getKey(),
                        spent.spentFen, spent.paidPerTier), closesAt));
                setCurrentKey(shard.getKey());
                roundsState.remove(round.getKey());
                roundsToWrite.remove(shardRound(shard.getKey(), round.getKey()));
            }
        }
    }

    /** The rules of a round after a change the {@link RoundChangeDesk} applied: put in place. */
    @Override
    public void processElement2(StreamRecord<RoundInForce> element) throws Exception {
        RoundInForce changed = element.getValue();
        rules.put(changed.round().roundId(), changed);
        paidMetrics.budget(changed.round());
    }

    /** What changed since the last checkpoint goes to keyed state, under each shard's key. */
    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        for (long userId : usersToWrite) {
            setCurrentKey(settings.shardOf(userId));
            usersState.put(userId, users.get(userId));
        }
        usersToWrite.clear();
        for (long key : roundsToWrite) {
            int shard = (int) (key >>> 32);
            int roundId = (int) key;
            setCurrentKey(shard);
            roundsState.put(roundId, spending.get(roundId).get(shard));
        }
        roundsToWrite.clear();
        waiting.write(this::setCurrentKey);
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        paidMetrics.snapshot();
        eventTime.snapshot();
    }

    /** Winners waiting for the watermark (for tests). */
    int winnersWaiting() {
        return (int) waiting.size();
    }

    private static long shardRound(int shard, int roundId) {
        return ((long) shard << 32) | (roundId & 0xFFFFFFFFL);
    }

    private <S extends org.apache.flink.api.common.state.State> S keyedState(
            org.apache.flink.api.common.state.StateDescriptor<S, ?> descriptor) throws Exception {
        return getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE, descriptor);
    }

    private List<Integer> shardsIn(String state) {
        KeyedStateBackend<Integer> keyed = getKeyedStateBackend();
        try (Stream<Integer> keys = keyed.getKeys(state, VoidNamespace.INSTANCE)) {
            return keys.toList();
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
