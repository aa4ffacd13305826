package io.hongbao.ingest.profile;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.hongbao.money.Tier;
import java.io.Serializable;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A red-packet round as a profile writes it: its window relative to the gala start, its budget in fen, the
 * win probability in parts per million (no floating point near money), the prize tiers and the user caps. The
 * reader of the YAML only: {@link GalaProfile#roundConfig} makes the money model's {@link io.hongbao.money.Round}
 * of it, with the window in epoch time.
 */
public record RoundProfile(
        @JsonProperty(value = "id", required = true) int id,
        @JsonProperty("name") String name,
        @JsonProperty(value = "start_offset", required = true) Duration startOffset,
        @JsonProperty(value = "duration", required = true) Duration duration,
        @JsonProperty(value = "budget_fen", required = true) long budgetFen,
        @JsonProperty(value = "win_per_million", required = true) int winPerMillion,
        @JsonProperty(value = "tiers", required = true) @JsonDeserialize(contentConverter = TierYaml.class)
        List<Tier> tiers,
        @JsonProperty(value = "user_caps", required = true) UserCaps userCaps) implements Serializable {

    public RoundProfile {
        tiers = List.copyOf(tiers);
    }

    void validate() {
        String at = "round " + id;
        ProfileException.require(id > 0, "round id must be positive, was " + id);
        ProfileException.require(!startOffset.isNegative(), at + ": start_offset must not be negative");
        ProfileException.require(!duration.isNegative() && !duration.isZero(), at + ": duration must be positive");
        ProfileException.require(budgetFen > 0, at + ": budget_fen must be positive");
        ProfileException.require(winPerMillion >= 0 && winPerMillion <= 1_000_000,
                at + ": win_per_million must be within 0..1000000");
        ProfileException.require(!tiers.isEmpty(), at + ": needs at least one prize tier");
        Set<Integer> ids = new HashSet<>();
        for (Tier tier : tiers) {
            TierYaml.validate(tier, at);
            ProfileException.require(ids.add(tier.tierId()), at + ": tier id " + tier.tierId() + " repeated");
        }
        userCaps.validate(at);
    }
}
