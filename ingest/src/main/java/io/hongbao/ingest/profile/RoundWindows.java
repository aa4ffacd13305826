package io.hongbao.ingest.profile;

import io.hongbao.ingest.event.RejectReason;
import io.hongbao.ingest.event.ShakeEvent;
import java.io.Serializable;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * When each round accepts shakes: {@code [start, end)} in gateway time. Decides the two rejections that need
 * round config, {@link RejectReason#UNKNOWN_ROUND} and {@link RejectReason#OUT_OF_WINDOW}.
 */
public final class RoundWindows implements Serializable {
    private static final long serialVersionUID = 1L;

    private final Map<Integer, long[]> startEndByRound;

    private RoundWindows(Map<Integer, long[]> startEndByRound) {
        this.startEndByRound = startEndByRound;
    }

    public static RoundWindows of(GalaProfile profile) {
        Map<Integer, long[]> windows = new HashMap<>();
        for (RoundProfile round : profile.rounds()) {
            windows.put(round.id(), new long[] {profile.roundStartMs(round), profile.roundEndMs(round)});
        }
        return new RoundWindows(windows);
    }

    /** The reason this event is not a shake of a running round, or null when it is. */
    public RejectReason check(ShakeEvent event) {
        long[] window = startEndByRound.get(event.roundId);
        if (window == null) {
            return RejectReason.UNKNOWN_ROUND;
        }
        return event.gatewayTsMs >= window[0] && event.gatewayTsMs < window[1] ? null : RejectReason.OUT_OF_WINDOW;
    }

    /** The latest end of any round: no in-window shake has a gateway time at or past it. */
    public long lastEndMs() {
        return startEndByRound.values().stream().mapToLong(w -> w[1]).max().orElse(Long.MIN_VALUE);
    }

    /** A one-line explanation of {@link #check}'s verdict, for the dead-letter record. */
    public String explain(ShakeEvent event) {
        long[] window = startEndByRound.get(event.roundId);
        if (window == null) {
            return "round " + event.roundId + " is not configured";
        }
        return "gateway time " + Instant.ofEpochMilli(event.gatewayTsMs) + " outside round " + event.roundId
                + " [" + Instant.ofEpochMilli(window[0]) + ", " + Instant.ofEpochMilli(window[1]) + ")";
    }
}
