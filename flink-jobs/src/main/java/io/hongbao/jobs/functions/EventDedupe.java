package io.hongbao.jobs.functions;

import java.time.Duration;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.java.tuple.Tuple2;

/**
 * The retry filter: remembers the event ids a key has seen for {@code ttl} (processing time) and says whether
 * an event is new. One class, so the payout decider and the state-size benchmark measure the same layout.
 */
public final class EventDedupe {
    public static final String STATE_NAME = "seen-event-ids";

    private final MapState<Tuple2<Long, Long>, Boolean> seen;

    private EventDedupe(MapState<Tuple2<Long, Long>, Boolean> seen) {
        this.seen = seen;
    }

    public static MapStateDescriptor<Tuple2<Long, Long>, Boolean> descriptor(Duration ttl) {
        MapStateDescriptor<Tuple2<Long, Long>, Boolean> seen = new MapStateDescriptor<>(STATE_NAME,
                Types.TUPLE(Types.LONG, Types.LONG), Types.BOOLEAN);
        seen.enableTimeToLive(StateTtlConfig.newBuilder(ttl)
                .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
                .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                .cleanupInRocksdbCompactFilter(1000)
                .build());
        return seen;
    }

    /** The filter over the current key's state, for a keyed function's {@code open}. */
    public static EventDedupe open(RuntimeContext context, Duration ttl) {
        return new EventDedupe(context.getMapState(descriptor(ttl)));
    }

    /** True the first time the current key sees this event id within the TTL; remembers it. */
    public boolean firstSeen(long eventIdHi, long eventIdLo) throws Exception {
        Tuple2<Long, Long> eventId = Tuple2.of(eventIdHi, eventIdLo);
        if (seen.contains(eventId)) {
            return false;
        }
        seen.put(eventId, Boolean.TRUE);
        return true;
    }
}
