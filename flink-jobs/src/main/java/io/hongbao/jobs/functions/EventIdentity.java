package io.hongbao.jobs.functions;

import static io.hongbao.ingest.SplitMix64.mix;

import io.hongbao.ingest.event.RejectReason;
import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.jobs.counting.CellTally;
import io.hongbao.jobs.functions.EventIdTable.Verdict;
import io.hongbao.jobs.payout.PayoutDraw;
import io.hongbao.jobs.payout.PayoutSettings;
import io.hongbao.jobs.payout.RoundInForce;
import io.hongbao.money.Round;
import io.hongbao.settlement.analytics.InteractionCount;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.base.IntSerializer;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.state.KeyedStateBackend;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedMultiInput;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

/**
 * One identity per event id, gala-wide while the id matters, and the first judgement of every shake. Keyed by
 * the id's identity shard, so every copy of an id meets here whatever its user, round or payload, and no key is
 * hot (ids are spread by hash).
 *
 * <p>The schedule. The second input brings the rules of every round the {@link RoundChangeDesk} changed or
 * added, and, as its watermark, the desk's promise: no schedule change takes effect before it. A shake whose
 * event time is before the promise is judged at once against its round's window in force (not a round of the
 * gala: {@link RejectReason#UNKNOWN_ROUND}; outside the window: {@link RejectReason#OUT_OF_WINDOW}). A shake at
 * or past the promise waits, on the heap and in keyed state at each barrier, until the promise passes it; only a
 * shake that far ahead of the watermark waits (the promise is the watermark plus the desk's lead), e.g. while a
 * stalled partition holds the watermark back. Its gauge: {@code shakesAwaitingSchedule}.
 *
 * <p>Per shake in its window: if its round has closed in this task's event time it is {@link RejectReason#LATE} (its
 * round's ids are forgotten, so it could not be told from a retry of a paid winner); a repeat of a seen id with
 * the same content is a retry, dropped and counted in {@code dedupeHits}; a seen id with other content is
 * {@link RejectReason#EVENT_ID_REUSED}. A new id is an interaction: counted here ({@code shakes}, and its cell's
 * sum to {@link #CELL_SUMS}) and drawn; only a shake whose draw wins at its round's rate goes on (the main
 * output) to the budget decision. The draw is a pure function of the round and the event id
 * ({@link PayoutDraw}) and the win rate is the profile's (no live change sets it), so a losing shake is fully
 * decided here and the second network hop carries the winners only. Rejects go to {@link #REJECTED} with their
 * reason, so they are counted and dead-lettered.
 *
 * <p>Why "late" is decided here and agrees with the decider downstream: a shake that passes before this task's
 * watermark reaches its round's end precedes that watermark on the same channel, and the decider's watermark is
 * the minimum over its channels, so the decider's round is still open when the winner arrives.
 *
 * <p>The memory. The ids of a live round are an exact primitive hash table on the heap ({@link RoundIds}): no
 * state read per shake. What the table learns is written to keyed state in chunks per key group (a chunk
 * as it fills, the rest before each barrier), so checkpoints are incremental and the barrier's write is small,
 * and a restore or a rescale rebuilds the table from exactly the ids of the key groups this subtask owns:
 * nothing forgotten, nothing extra. A round's
 * memory is dropped whole when its close passes in event time, not by a processing-time TTL: an outage, a held
 * savepoint or a backlog of any length does not change what is a repeat. The event time this task reached
 * survives a restore ({@link RestoredEventTime}): a round closed, and its ids forgotten, before the checkpoint
 * stays closed while the restored watermark catches up, so a copy of one of its ids is {@code LATE}, never new.
 * The heap holds 32–64 bytes per remembered id of the live rounds (24-byte slots, 37–75% full; gauge
 * {@code eventIdTableBytes}); the job's identity parallelism must give each subtask the memory for its share of
 * a round's ids.
 */
public class EventIdentity extends AbstractStreamOperator<ShakeRecord>
        implements TwoInputStreamOperator<ShakeRecord, RoundInForce, ShakeRecord>, BoundedMultiInput {
    private static final long serialVersionUID = 3L;

    public static final OutputTag<ShakeRecord> REJECTED = new OutputTag<>("identity-rejects") {};
    /** Partial sums of distinct shakes per count cell ({@link CellTally}). */
    public static final OutputTag<InteractionCount> CELL_SUMS = new OutputTag<>("interaction-cell-sums") {};
    /** Keyed by identity shard, namespace the round id: the shard's remembered ids of the round, in chunks. */
    static final String CHUNKS_STATE = "event-id-chunks";
    /** Keyed by identity shard: the shard's shakes waiting for the schedule promise at the last checkpoint. */
    static final String AWAITING_STATE = "shakes-awaiting-schedule";

    private final RoundRulesInForce rulesInForce;
    private final PayoutDraw draw;
    private final Duration cellSumInterval;

    private transient ListStateDescriptor<byte[]> chunksDescriptor;
    private transient BroadcastState<Integer, RoundInForce> changedRules;
    /** Every round of the gala in force (the profile's and the added), by id: the per-shake lookup. */
    private transient Map<Integer, Round> rounds;
    /** The desk's promise as far as it reached this task (restored). */
    private transient RestoredEventTime promised;
    /** Shakes at or past the promise. */
    private transient HeldShakes awaiting;
    private transient IdentityKeyGroups keyGroups;
    private transient Map<Integer, RoundIds> live;
    /** {@link #live} as arrays, for the per-shake look into the other live rounds. */
    private transient int[] liveRounds;
    private transient RoundIds[] liveIds;
    private transient Set<Integer> closed;
    private transient RestoredEventTime eventTime;
    private transient CellTally cells;
    private transient Counter shakes;
    private transient Counter repeats;
    private transient Counter forgotten;

    public EventIdentity(List<Round> rounds, PayoutSettings settings, Duration cellSumInterval) {
        this.rulesInForce = new RoundRulesInForce(rounds, settings.reservePerMillion());
        this.draw = settings.draw();
        this.cellSumInterval = cellSumInterval;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        chunksDescriptor = new ListStateDescriptor<>(CHUNKS_STATE, PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
        eventTime = RestoredEventTime.restore(context, "identity-event-time");
        promised = RestoredEventTime.restore(context, "identity-schedule-horizon");
        changedRules = context.getOperatorStateStore().getBroadcastState(ShardPayoutDecider.RULES);
        rounds = new HashMap<>();
        for (RoundInForce r : rulesInForce.all(changedRules)) {
            rounds.put(r.round().roundId(), r.round());
        }
        awaiting = new HeldShakes(AWAITING_STATE, getPartitionedState(VoidNamespace.INSTANCE,
                VoidNamespaceSerializer.INSTANCE,
                new ListStateDescriptor<>(AWAITING_STATE, TypeInformation.of(ShakeRecord.class))),
                r -> PayoutSettings.identityShardOf(r.event.eventIdHi, r.event.eventIdLo));
        var task = getRuntimeContext().getTaskInfo();
        keyGroups = new IdentityKeyGroups(task.getMaxNumberOfParallelSubtasks(), task.getNumberOfParallelSubtasks(),
                task.getIndexOfThisSubtask());
        live = new HashMap<>();
        liveChanged();
        closed = new HashSet<>();
        for (Round round : rounds.values()) {
            if (eventTime.reached() >= closeTimeOf(round.endsAtMs())) {
                closed.add(round.roundId()); // its ids were dropped at its close, before the checkpoint
                continue;
            }
            ListState<byte[]> chunks = chunksOf(round.roundId());
            for (int shard : shardsWithChunks(round.roundId())) {
                setCurrentKey(shard);
                for (byte[] chunk : chunks.get()) {
                    idsOf(round.roundId()).restore(chunk);
                }
            }
        }
        awaiting.restore(getKeyedStateBackend(), this::setCurrentKey);
    }

    @Override
    public void open() throws Exception {
        super.open();
        MetricGroup metrics = getMetricGroup().addGroup("hongbao");
        shakes = metrics.counter("shakes");
        repeats = metrics.counter("dedupeHits");
        forgotten = metrics.counter("eventIdsForgotten");
        metrics.gauge("eventIdsRemembered", this::idsRemembered);
        metrics.gauge("eventIdTableBytes", () -> live.values().stream().mapToLong(RoundIds::heapBytes).sum());
        metrics.gauge("shakesAwaitingSchedule", this::shakesAwaiting);
        cells = new CellTally(cellSumInterval, c -> output.collect(CELL_SUMS, new StreamRecord<>(c)));
        cells.start(getProcessingTimeService());
    }

    /**
     * No keyed state is read or written per shake (the table is on the heap; keyed state only at checkpoints,
     * restores and round closes, which set their keys themselves), so Flink need not set the key per record:
     * on RocksDB that is a key serialization per shake.
     */
    @Override
    public boolean hasKeyContext1() {
        return false;
    }

    @Override
    public void processElement1(StreamRecord<ShakeRecord> element) throws Exception {
        ShakeRecord shake = element.getValue();
        if (shake.event.gatewayTsMs >= promised.reached()) {
            awaiting.hold(shake);
            return;
        }
        judge(element);
    }

    /** A change the desk applied: the round's rules, window and all, from now on. */
    @Override
    public void processElement2(StreamRecord<RoundInForce> element) throws Exception {
        RoundInForce changed = element.getValue();
        changedRules.put(changed.round().roundId(), changed);
        rounds.put(changed.round().roundId(), changed.round());
    }

    /**
     * The desk's promise moved: the shakes it now covers are judged, in event-time order, before the combined
     * watermark moves on (so before any round closes by it).
     */
    @Override
    public void processWatermark2(Watermark mark) throws Exception {
        long promise = promised.advance(mark.getTimestamp());
        awaiting.release(promise, false, due -> {
            for (ShakeRecord shake : due) {
                judge(new StreamRecord<>(shake, shake.event.gatewayTsMs));
            }
        });
        super.processWatermark2(mark);
    }

    private void judge(StreamRecord<ShakeRecord> element) throws Exception {
        ShakeRecord shake = element.getValue();
        ShakeEvent e = shake.event;
        Round round = rounds.get(e.roundId);
        if (round == null) {
            reject(element, RejectReason.UNKNOWN_ROUND, "round " + e.roundId + " is not a round of the gala");
            return;
        }
        if (e.gatewayTsMs < round.startsAtMs() || e.gatewayTsMs >= round.endsAtMs()) {
            reject(element, RejectReason.OUT_OF_WINDOW, "gateway time " + Instant.ofEpochMilli(e.gatewayTsMs)
                    + " outside round " + e.roundId + " [" + Instant.ofEpochMilli(round.startsAtMs()) + ", "
                    + Instant.ofEpochMilli(round.endsAtMs()) + ")" + (round.version() > 0 ? " (round config v"
                    + round.version() + ")" : ""));
            return;
        }
        long reached = eventTime.reached();
        if (reached >= closeTimeOf(round.endsAtMs())) {
            reject(element, RejectReason.LATE, "round " + e.roundId + " closed at event time "
                    + Instant.ofEpochMilli(reached) + " before this shake arrived");
            return;
        }
        Verdict verdict = inAnotherLiveRound(e.roundId, e.eventIdHi, e.eventIdLo) ? Verdict.CONFLICT
                : idsOf(e.roundId).remember(PayoutSettings.identityShardOf(e.eventIdHi, e.eventIdLo),
                        e.eventIdHi, e.eventIdLo, fingerprint(e));
        switch (verdict) {
            case NEW -> {
                shakes.inc();
                cells.add(e);
                if (PayoutDraw.wins(draw.draw(e.roundId, e.eventIdHi, e.eventIdLo), round.winPerMillion())) {
                    output.collect(element.replace(shake.withoutRaw())); // nothing rejects it later
                }
            }
            case REPEAT -> repeats.inc();
            case CONFLICT -> reject(element, RejectReason.EVENT_ID_REUSED, "event id " + e.eventIdHex()
                    + " was seen before with other content");
        }
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        long reached = eventTime.advance(mark.getTimestamp());
        for (Round round : rounds.values()) {
            if (reached >= closeTimeOf(round.endsAtMs()) && closed.add(round.roundId())) {
                forget(round.roundId());
            }
        }
        super.processWatermark(mark);
    }

    /** The round is closed: its table goes, and its chunks in keyed state. */
    private void forget(int roundId) throws Exception {
        RoundIds ids = live.remove(roundId);
        if (ids != null) {
            forgotten.inc(ids.size());
            liveChanged();
        }
        ListState<byte[]> chunks = chunksOf(roundId);
        for (int shard : shardsWithChunks(roundId)) {
            setCurrentKey(shard);
            chunks.clear();
        }
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        writePendingIds();
        cells.flush();
        awaiting.write(this::setCurrentKey);
    }

    /** Shakes waiting for the schedule promise. */
    public long shakesAwaiting() {
        return awaiting.size();
    }

    /** What the tables learned and did not write yet goes to keyed state: at most one chunk per shard and round. */
    private void writePendingIds() throws Exception {
        for (RoundIds ids : live.values()) {
            ids.writePending();
        }
    }

    /** Appends a chunk to the shard's list of the round (the key is set here: no key context per shake). */
    private RoundIds.ChunkWriter chunkWriter(int roundId) {
        return (shard, chunk) -> {
            ListState<byte[]> chunks = chunksOf(roundId);
            setCurrentKey(shard);
            chunks.add(chunk);
        };
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        eventTime.snapshot();
        promised.snapshot();
    }

    /** An input is over (a bounded run): the final checkpoint must hold every id. */
    @Override
    public void endInput(int inputId) throws Exception {
        writePendingIds();
        cells.flush();
    }

    private RoundIds idsOf(int roundId) {
        RoundIds ids = live.get(roundId);
        if (ids == null) {
            ids = new RoundIds(keyGroups, chunkWriter(roundId));
            live.put(roundId, ids);
            liveChanged();
        }
        return ids;
    }

    /** {@link #live} changed: its arrays follow (a HashMap's keys and values iterate in the same order, so the two stay aligned). */
    private void liveChanged() {
        liveRounds = live.keySet().stream().mapToInt(Integer::intValue).toArray();
        liveIds = live.values().toArray(RoundIds[]::new);
    }

    /**
     * An id is one identity across the gala, not per round: its copy in another round whose ids are still
     * remembered is a reuse. (A round's ids are forgotten at its close, as they always were.)
     */
    private boolean inAnotherLiveRound(int roundId, long hi, long lo) {
        for (int i = 0; i < liveRounds.length; i++) {
            if (liveRounds[i] != roundId && liveIds[i].contains(hi, lo)) {
                return true;
            }
        }
        return false;
    }

    /** The ids of the live rounds this subtask remembers. */
    public long idsRemembered() {
        return live.values().stream().mapToLong(RoundIds::size).sum();
    }

    /** Shards with ids of any round in keyed state (for tests: what a checkpoint holds). */
    int shardsInState() {
        return rounds.keySet().stream().mapToInt(r -> shardsWithChunks(r).size()).sum();
    }

    private ListState<byte[]> chunksOf(int roundId) throws Exception {
        return getPartitionedState(roundId, IntSerializer.INSTANCE, chunksDescriptor);
    }

    private List<Integer> shardsWithChunks(int roundId) {
        KeyedStateBackend<Integer> keyed = getKeyedStateBackend();
        try (Stream<Integer> keys = keyed.getKeys(CHUNKS_STATE, roundId)) {
            return keys.toList();
        }
    }

    private void reject(StreamRecord<ShakeRecord> element, RejectReason reason, String detail) {
        output.collect(REJECTED, element.replace(element.getValue().reject(reason, detail)));
    }

    /**
     * What makes two records with one id the same event: everything the client sends. Not the gateway time,
     * which a retry gets anew, and not the Kafka lineage. 64 bits: a conflicting copy whose fingerprint happens
     * to collide is treated as a retry, i.e. dropped, never paid or counted.
     */
    public static long fingerprint(ShakeEvent e) {
        long h = mix(e.userId);
        h = mix(h ^ e.deviceId);
        h = mix(h ^ e.roundId);
        h = mix(h ^ (e.channel == null ? -1 : e.channel.ordinal()));
        h = mix(h ^ (e.region == null ? 0 : e.region.hashCode()));
        h = mix(h ^ e.clientTsMs);
        return mix(h ^ e.deviceSeq);
    }

    /** The event time at which a round ending at {@code endMs} (exclusive) is closed: its last millisecond. */
    public static long closeTimeOf(long endMs) {
        return endMs - 1;
    }
}
