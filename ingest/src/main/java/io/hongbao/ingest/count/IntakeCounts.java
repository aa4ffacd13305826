package io.hongbao.ingest.count;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.hongbao.ingest.event.RejectReason;
import io.hongbao.ingest.event.ShakeEvent;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What a stream of shake records amounts to: distinct valid shakes per round, channel, region and minute,
 * duplicates (retries of an event already counted), and rejections per reason.
 *
 * <p>The generator fills one from what it meant to produce, the read-back counter from what it decoded; the
 * two must be equal. Sorted maps so that equal counts print and serialize identically.
 */
@JsonPropertyOrder({"distinct_valid_events", "duplicates", "rejected", "rounds"})
public final class IntakeCounts {
    @JsonProperty("distinct_valid_events")
    private long distinctValidEvents;

    @JsonProperty("duplicates")
    private long duplicates;

    @JsonProperty("rejected")
    private final TreeMap<RejectReason, Long> rejected = new TreeMap<>();

    @JsonProperty("rounds")
    private final TreeMap<Integer, RoundCounts> rounds = new TreeMap<>();

    /** Per-round figures. */
    @JsonPropertyOrder({"distinct_events", "by_channel", "by_region", "by_minute"})
    public static final class RoundCounts {
        @JsonProperty("distinct_events")
        long distinctEvents;

        @JsonProperty("by_channel")
        final TreeMap<String, Long> byChannel = new TreeMap<>();

        @JsonProperty("by_region")
        final TreeMap<String, Long> byRegion = new TreeMap<>();

        /** Keyed by the minute's start in UTC, ISO-8601. */
        @JsonProperty("by_minute")
        final TreeMap<String, Long> byMinute = new TreeMap<>();

        public long distinctEvents() {
            return distinctEvents;
        }

        public Map<String, Long> byChannel() {
            return byChannel;
        }

        public Map<String, Long> byRegion() {
            return byRegion;
        }

        public Map<String, Long> byMinute() {
            return byMinute;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof RoundCounts r && distinctEvents == r.distinctEvents && byChannel.equals(r.byChannel)
                    && byRegion.equals(r.byRegion) && byMinute.equals(r.byMinute);
        }

        @Override
        public int hashCode() {
            return Objects.hash(distinctEvents, byChannel, byRegion, byMinute);
        }
    }

    /** A valid shake seen for the first time. */
    public void countDistinct(ShakeEvent event) {
        distinctValidEvents++;
        RoundCounts round = rounds.computeIfAbsent(event.roundId, id -> new RoundCounts());
        round.distinctEvents++;
        round.byChannel.merge(event.channel.key(), 1L, Long::sum);
        round.byRegion.merge(event.region, 1L, Long::sum);
        round.byMinute.merge(minuteOf(event.gatewayTsMs), 1L, Long::sum);
    }

    /** A valid shake whose event id was counted before. */
    public void countDuplicate() {
        duplicates++;
    }

    public void countRejected(RejectReason reason) {
        rejected.merge(reason, 1L, Long::sum);
    }

    public static String minuteOf(long epochMs) {
        return Instant.ofEpochMilli(epochMs).truncatedTo(ChronoUnit.MINUTES).toString();
    }

    public long distinctValidEvents() {
        return distinctValidEvents;
    }

    public long duplicates() {
        return duplicates;
    }

    public long rejectedTotal() {
        return rejected.values().stream().mapToLong(Long::longValue).sum();
    }

    public long records() {
        return distinctValidEvents + duplicates + rejectedTotal();
    }

    public Map<RejectReason, Long> rejected() {
        return rejected;
    }

    public Map<Integer, RoundCounts> rounds() {
        return rounds;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IntakeCounts c && distinctValidEvents == c.distinctValidEvents
                && duplicates == c.duplicates && rejected.equals(c.rejected) && rounds.equals(c.rounds);
    }

    @Override
    public int hashCode() {
        return Objects.hash(distinctValidEvents, duplicates, rejected, rounds);
    }
}
