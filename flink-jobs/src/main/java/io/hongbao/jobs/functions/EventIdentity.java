package io.hongbao.jobs.functions;

import io.hongbao.ingest.event.RejectReason;
import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.money.Round;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * One identity per event id, gala-wide while the id matters. Keyed by the id's identity shard, so every copy
 * of an id meets here whatever its user, round or payload, and no key is hot (ids are spread by hash).
 *
 * <p>Per valid shake: if its round has closed in this task's event time it is {@link RejectReason#LATE} (its
 * round's ids are forgotten, so it could not be told from a retry of a paid winner); a repeat of a seen id with
 * the same content is a retry, dropped and counted in {@code dedupeHits}; a seen id with other content is
 * {@link RejectReason#EVENT_ID_REUSED}; a new id goes on to the payout decision. Rejects go to {@link #REJECTED}
 * with their reason, so they are counted and dead-lettered.
 *
 * <p>Why "late" is decided here and agrees with the decider downstream: a shake that passes before this task's
 * watermark reaches its round's end precedes that watermark on the same channel, and the decider's watermark is
 * the minimum over its channels, so the decider's round is still open when the shake arrives.
 *
 * <p>The memory is dropped whole when the round closes (an event-time timer per shard and round), not by a
 * processing-time TTL: an outage, a held savepoint or a backlog of any length does not change what is a repeat.
 * The event time this task reached survives a restore ({@link RestoredEventTime}): a round closed, and its ids
 * forgotten, before the checkpoint stays closed while the restored watermark catches up, so a copy of one of
 * its ids is {@code LATE}, never new.
 */
public class EventIdentity extends KeyedProcessFunction<Integer, ShakeRecord, ShakeRecord>
        implements CheckpointedFunction {
    private static final long serialVersionUID = 1L;

    public static final OutputTag<ShakeRecord> REJECTED = new OutputTag<>("identity-rejects") {};

    private final Map<Integer, Long> roundEndMs = new HashMap<>();
    private transient EventDedupe seen;
    private transient RestoredEventTime eventTime;
    /** (shard, round) pairs whose forget timer this task set since it started; saves a timer write per event. */
    private transient Set<Long> timersSet;
    private transient Counter repeats;
    private transient Counter forgotten;

    public EventIdentity(List<Round> rounds) {
        rounds.forEach(r -> roundEndMs.put(r.roundId(), r.endsAtMs()));
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        eventTime = RestoredEventTime.restore(context, "identity-event-time");
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        eventTime.snapshot();
    }

    @Override
    public void open(OpenContext openContext) {
        seen = EventDedupe.open(getRuntimeContext());
        timersSet = new HashSet<>();
        var metrics = ShardPayoutDecider.metrics(getRuntimeContext());
        repeats = metrics.counter("dedupeHits");
        forgotten = metrics.counter("eventIdsForgotten");
    }

    @Override
    public void processElement(ShakeRecord shake, Context ctx, Collector<ShakeRecord> out) throws Exception {
        int roundId = shake.event.roundId;
        Long end = roundEndMs.get(roundId);
        if (end == null) { // validation lets only configured rounds through; refuse rather than guess
            ctx.output(REJECTED, shake.reject(RejectReason.UNKNOWN_ROUND, "round " + roundId + " is not configured"));
            return;
        }
        long closesAt = closeTimeOf(end);
        long watermark = eventTime.current(ctx.timerService());
        if (watermark >= closesAt) {
            ctx.output(REJECTED, shake.reject(RejectReason.LATE, "round " + roundId + " closed at event time "
                    + Instant.ofEpochMilli(watermark) + " before this shake arrived"));
            return;
        }
        switch (seen.remember(shake.event)) {
            case NEW -> {
                if (timersSet.add(shardRound(ctx.getCurrentKey(), roundId))) {
                    ctx.timerService().registerEventTimeTimer(closesAt);
                }
                out.collect(shake.withoutRaw()); // nothing rejects it later: its original bytes stay here
            }
            case REPEAT -> repeats.inc();
            case CONFLICT -> ctx.output(REJECTED, shake.reject(RejectReason.EVENT_ID_REUSED, "event id "
                    + shake.event.eventIdHex() + " was seen before with other content"));
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<ShakeRecord> out) throws Exception {
        eventTime.current(ctx.timerService()); // a round closes here: what the next checkpoint must remember
        for (Map.Entry<Integer, Long> round : roundEndMs.entrySet()) {
            if (closeTimeOf(round.getValue()) == timestamp) {
                forgotten.inc(seen.forgetRound(round.getKey()));
                timersSet.remove(shardRound(ctx.getCurrentKey(), round.getKey()));
            }
        }
    }

    private static long shardRound(int shard, int roundId) {
        return ((long) shard << 32) | (roundId & 0xffffffffL);
    }

    /** The event time at which a round ending at {@code endMs} (exclusive) is closed: its last millisecond. */
    public static long closeTimeOf(long endMs) {
        return endMs - 1;
    }
}
