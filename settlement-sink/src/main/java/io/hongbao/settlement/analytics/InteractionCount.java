package io.hongbao.settlement.analytics;

import java.util.Objects;

/**
 * The running number of distinct valid shakes in one cell: a round, an event-time minute, a channel and a
 * region. An absolute value, never an increment, so writing it again (a replay) changes nothing. A Flink POJO.
 */
public class InteractionCount {
    public int roundId;
    /** Start of the event-time minute, epoch milliseconds (a multiple of 60,000). */
    public long minuteStartMs;
    /** Lower case channel key, as in the profile: ios, android, h5, tv, mini_program. */
    public String channel;
    public String region;
    public long shakes;

    public InteractionCount() {}

    public InteractionCount(int roundId, long minuteStartMs, String channel, String region, long shakes) {
        this.roundId = roundId;
        this.minuteStartMs = minuteStartMs;
        this.channel = channel;
        this.region = region;
        this.shakes = shakes;
    }

    /** The minute an event time falls in. */
    public static long minuteOf(long eventTimeMs) {
        return Math.floorDiv(eventTimeMs, 60_000L) * 60_000L;
    }

    /** The cell as one string: the key the counter is partitioned by and the writer keeps the latest value of. */
    public String cell() {
        return cell(roundId, minuteStartMs, channel, region);
    }

    public static String cell(int roundId, long minuteStartMs, String channel, String region) {
        return roundId + "|" + minuteStartMs + "|" + channel + "|" + region;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof InteractionCount c && roundId == c.roundId && minuteStartMs == c.minuteStartMs
                && Objects.equals(channel, c.channel) && Objects.equals(region, c.region) && shakes == c.shakes;
    }

    @Override
    public int hashCode() {
        return Objects.hash(roundId, minuteStartMs, channel, region, shakes);
    }

    @Override
    public String toString() {
        return "InteractionCount{" + cell() + "=" + shakes + "}";
    }
}
