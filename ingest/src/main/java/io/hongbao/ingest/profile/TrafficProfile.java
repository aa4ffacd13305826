package io.hongbao.ingest.profile;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Duration;
import java.util.Map;

/**
 * The shape of the generated traffic: how many users and shakes, how bursty a round's start is, and which
 * share of records are retries, malformed, for unknown rounds, outside a round's window, or from bots.
 * Shares are fractions of a round's valid shakes. These are traffic knobs, not money: doubles are fine.
 */
public record TrafficProfile(
        @JsonProperty(value = "users", required = true) int users,
        @JsonProperty(value = "user_zipf_exponent", required = true) double userZipfExponent,
        @JsonProperty(value = "events_per_round", required = true) long eventsPerRound,
        @JsonProperty(value = "burst_share", required = true) double burstShare,
        @JsonProperty(value = "burst_decay", required = true) Duration burstDecay,
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

    void validate() {
        ProfileException.require(users > 0, "traffic.users must be positive");
        ProfileException.require(userZipfExponent > 0, "traffic.user_zipf_exponent must be positive");
        ProfileException.require(eventsPerRound > 0, "traffic.events_per_round must be positive");
        requireShare("burst_share", burstShare);
        ProfileException.require(burstDecay.toMillis() > 0, "traffic.burst_decay must be positive");
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
