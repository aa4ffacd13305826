package io.hongbao.jobs.functions;

import static io.hongbao.ingest.SplitMix64.mix;

import io.hongbao.ingest.event.ShakeEvent;
import java.util.Iterator;
import java.util.Map;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;

/**
 * The event ids a key (an identity shard) has seen, each with the round it was accepted in and a fingerprint
 * of its content. No time-to-live: an id is remembered until its round is closed in event time, then the
 * round's ids are dropped together ({@link #forgetRound}). One class, so {@link EventIdentity} and the
 * state-size benchmark measure the same layout.
 */
public final class EventDedupe {
    public static final String STATE_NAME = "event-ids";

    /** What a record's event id says about it. */
    public enum Verdict {
        /** First time this id is seen: the event is new. */
        NEW,
        /** Seen with the same content: a retry or a replay of the same event. */
        REPEAT,
        /** Seen with other content: another record that claims the same id. */
        CONFLICT
    }

    private final MapState<Tuple2<Long, Long>, Tuple2<Integer, Long>> seen;

    private EventDedupe(MapState<Tuple2<Long, Long>, Tuple2<Integer, Long>> seen) {
        this.seen = seen;
    }

    public static MapStateDescriptor<Tuple2<Long, Long>, Tuple2<Integer, Long>> descriptor() {
        return new MapStateDescriptor<>(STATE_NAME, Types.TUPLE(Types.LONG, Types.LONG),
                Types.TUPLE(Types.INT, Types.LONG));
    }

    /** The memory of the current key, for a keyed function's {@code open}. */
    public static EventDedupe open(RuntimeContext context) {
        return new EventDedupe(context.getMapState(descriptor()));
    }

    /** Judges the event by its id and remembers it when new. */
    public Verdict remember(ShakeEvent e) throws Exception {
        return remember(e.eventIdHi, e.eventIdLo, e.roundId, fingerprint(e));
    }

    public Verdict remember(long eventIdHi, long eventIdLo, int roundId, long fingerprint) throws Exception {
        Tuple2<Long, Long> id = Tuple2.of(eventIdHi, eventIdLo);
        Tuple2<Integer, Long> known = seen.get(id);
        if (known == null) {
            seen.put(id, Tuple2.of(roundId, fingerprint));
            return Verdict.NEW;
        }
        return known.f0 == roundId && known.f1 == fingerprint ? Verdict.REPEAT : Verdict.CONFLICT;
    }

    /** Drops every id accepted in the round; returns how many. */
    public long forgetRound(int roundId) throws Exception {
        long dropped = 0;
        Iterator<Map.Entry<Tuple2<Long, Long>, Tuple2<Integer, Long>>> it = seen.iterator();
        while (it.hasNext()) {
            if (it.next().getValue().f0 == roundId) {
                it.remove();
                dropped++;
            }
        }
        if (dropped > 0 && seen.isEmpty()) {
            seen.clear(); // a heap backend keeps an emptied map as an entry otherwise
        }
        return dropped;
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
}
