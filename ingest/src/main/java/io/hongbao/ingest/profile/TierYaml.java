package io.hongbao.ingest.profile;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.util.StdConverter;
import io.hongbao.money.Tier;

/**
 * How a prize tier is written in a profile: a fixed {@code amount_fen}, or {@code min_fen} and {@code max_fen};
 * name and weight optional. Only the reader: {@link RoundProfile#tiers()} holds the model's {@link Tier}.
 */
final class TierYaml extends StdConverter<TierYaml.Fields, Tier> {

    /** The fields as written. */
    record Fields(Tier tier) {
        @JsonCreator
        static Fields fromYaml(@JsonProperty(value = "id", required = true) int id,
                @JsonProperty("name") String name,
                @JsonProperty("amount_fen") Long amountFen,
                @JsonProperty("min_fen") Long minFen,
                @JsonProperty("max_fen") Long maxFen,
                @JsonProperty(value = "count_cap", required = true) long countCap,
                @JsonProperty("weight") Integer weight) {
            if (amountFen != null && (minFen != null || maxFen != null)) {
                throw new ProfileException("tier " + id + ": give amount_fen or min_fen/max_fen, not both");
            }
            if (amountFen == null && (minFen == null || maxFen == null)) {
                throw new ProfileException("tier " + id + ": needs amount_fen, or both min_fen and max_fen");
            }
            long min = amountFen != null ? amountFen : minFen;
            long max = amountFen != null ? amountFen : maxFen;
            return new Fields(new Tier(id, name == null ? "tier-" + id : name, min, max, countCap,
                    weight == null ? 1 : weight));
        }
    }

    @Override
    public Tier convert(Fields written) {
        return written.tier();
    }

    static void validate(Tier tier, String where) {
        String at = where + " tier " + tier.tierId();
        ProfileException.require(tier.tierId() > 0, at + ": id must be positive");
        ProfileException.require(tier.minFen() > 0, at + ": amount must be at least 1 fen");
        ProfileException.require(tier.maxFen() >= tier.minFen(),
                at + ": max_fen " + tier.maxFen() + " < min_fen " + tier.minFen());
        ProfileException.require(tier.countCap() > 0, at + ": count_cap must be positive");
        ProfileException.require(tier.weight() > 0, at + ": weight must be positive");
    }
}
