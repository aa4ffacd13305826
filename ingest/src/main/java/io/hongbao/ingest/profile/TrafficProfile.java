package io.hongbao.ingest.profile;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Duration;
import java.util.Map;

/**
 * The shape of the generated traffic: how many users and shakes, how bursty a round's start is, and which
 * share of records are retries, malformed, for unknown rounds, outside a round's window, or from bots.
 * Shares are fractions of a round's valid shakes. These are traffic knobs, not money: doubles are fine.
 *
 * <p>A round's shakes: {@code burst_share} of them in the burst, the rest spread evenly over the round. The
 * burst's rate rises linearly from nothing at the round's start to its peak {@code burst_ramp} later (the host
 * counts down, the crowd picks up its phones), then decays exponentially with {@code burst_decay}. Without
 * {@code burst_ramp} (or {@code PT0S}) the burst starts at its peak, as it did before the ramp existed, and the
 * same seed gives the same bytes as then.
 */
public record TrafficProfile(
        @JsonProperty(value = "users", required = true) int users,
        @JsonProperty(value = "user_zipf_exponent", required = true) double userZipfExponent,
        @JsonProperty(value = "events_per_round", required = true) long eventsPerRound,
        @JsonProperty(value = "burst_share", required = true) double burstShare,
        @JsonProperty(value = "burst_decay", required = true) Duration burstDecay,
        @JsonProperty("burst_ramp") Duration burstRamp,
        @JsonProperty(value = "channels", required = true) Map<String, Integer> channels,
        @JsonProperty(value = "regions", required = true) Map<String, Integer> regions,
        @JsonProperty(value = "retry_share", required = true) double retryShare,
        @JsonProperty(value = "retry_delay_max", required = true) Duration retryDelayMax,
        @JsonProperty(value = "malformed_share", required = true) double malformedShare,
        @JsonProperty(value = "unknown_round_share", required = true) double unknownRoundShare,
        @JsonProperty(value = "out_of_window_share", required = true) double outOfWindowShare,
        @JsonProperty(value = "bot_devices", required = true) int botDevices,
        @JsonProperty(value = "bot_shakes_per_second", required = true) int botShakesPerSecond,
        @JsonProperty(value = "partitions", required = true) int partitions) {

    public TrafficProfile {
        burstRamp = burstRamp == null ? Duration.ZERO : burstRamp;
    }

    /**
     * The burst's part of a round's shakes that falls in {@code [t0Ms, t1Ms)} after its start, of a round
     * {@code lengthMs} long: {@code burst_share} times the burst's share of that span (over the whole round the
     * spans add up to {@code burst_share}). With no ramp it is computed exactly as before the ramp existed, so a
     * profile without {@code burst_ramp} draws the same slot quotas, double for double, and the same bytes.
     */
    public double burstWeightBetween(double t0Ms, double t1Ms, double lengthMs) {
        double tau = burstDecay.toMillis();
        if (burstRamp.isZero()) {
            return burstShare * (Math.exp(-t0Ms / tau) - Math.exp(-t1Ms / tau)) / (1 - Math.exp(-lengthMs / tau));
        }
        return burstShare * (burstBefore(t1Ms) - burstBefore(t0Ms)) / burstBefore(lengthMs);
    }

    /**
     * A round's rate at its peak ({@code burst_ramp} after its start, or at the start without a ramp) over its
     * steady rate (the evenly spread part alone), for a round {@code lengthMs} long: what "a 10x peak" means.
     */
    public double peakOverSteady(double lengthMs) {
        double ramp = Math.min(burstRamp.toMillis(), lengthMs);
        double peakMs = ramp > 0 ? ramp - 1 : 0; // the millisecond before the peak, or the first one
        double burstPerMs = burstWeightBetween(peakMs, peakMs + 1, lengthMs);
        double steadyPerMs = (1 - burstShare) / lengthMs;
        return (steadyPerMs + burstPerMs) / steadyPerMs;
    }

    /** The burst's unnormalised mass before {@code t} ms: t^2 / 2R on the ramp (rate t / R), then the decay's. */
    private double burstBefore(double tMs) {
        double ramp = burstRamp.toMillis();
        double tau = burstDecay.toMillis();
        if (tMs <= ramp) {
            return tMs * tMs / (2 * ramp);
        }
        return ramp / 2 + tau * (1 - Math.exp(-(tMs - ramp) / tau));
    }

    void validate() {
        ProfileException.require(users > 0, "traffic.users must be positive");
        ProfileException.require(userZipfExponent > 0, "traffic.user_zipf_exponent must be positive");
        ProfileException.require(eventsPerRound > 0, "traffic.events_per_round must be positive");
        requireShare("burst_share", burstShare);
        ProfileException.require(burstDecay.toMillis() > 0, "traffic.burst_decay must be positive");
        ProfileException.require(!burstRamp.isNegative(), "traffic.burst_ramp must not be negative");
        requireWeights("channels", channels);
        for (String channel : channels.keySet()) {
            try {
                io.hongbao.ingest.event.Channel.ofKey(channel);
            } catch (IllegalArgumentException e) {
                throw new ProfileException("traffic.channels: unknown channel '" + channel + "'");
            }
        }
        requireWeights("regions", regions);
        for (String region : regions.keySet()) {
            ProfileException.require(region.matches("[A-Z0-9-]{1,16}"),
                    "traffic.regions: '" + region + "' is not 1-16 chars of [A-Z0-9-]");
        }
        requireShare("retry_share", retryShare);
        ProfileException.require(retryDelayMax.toMillis() >= 200, "traffic.retry_delay_max must be at least 200ms");
        requireShare("malformed_share", malformedShare);
        requireShare("unknown_round_share", unknownRoundShare);
        requireShare("out_of_window_share", outOfWindowShare);
        ProfileException.require(botDevices >= 0, "traffic.bot_devices must not be negative");
        ProfileException.require(botShakesPerSecond > 0 && botShakesPerSecond <= 1000,
                "traffic.bot_shakes_per_second must be within 1..1000");
        ProfileException.require(partitions > 0, "traffic.partitions must be positive");
    }

    private static void requireShare(String field, double share) {
        ProfileException.require(share >= 0 && share < 1, "traffic." + field + " must be within [0, 1)");
    }

    private static void requireWeights(String field, Map<String, Integer> weights) {
        ProfileException.require(weights != null && !weights.isEmpty(), "traffic." + field + " must not be empty");
        weights.forEach((k, w) -> ProfileException.require(w != null && w > 0,
                "traffic." + field + "." + k + " must be a positive weight"));
    }
}
