package io.hongbao.ingest.profile;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.Serializable;

/**
 * One prize tier of a round: the amount in fen (fixed when {@code minFen == maxFen}, else drawn from the
 * range), how many packets the tier pays at most, and its weight among the tiers when a shake wins.
 */
public record PrizeTier(int id, String name, long minFen, long maxFen, long countCap, int weight)
        implements Serializable {

    @JsonCreator
    static PrizeTier fromYaml(@JsonProperty(value = "id", required = true) int id,
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
        return new PrizeTier(id, name == null ? "tier-" + id : name, min, max, countCap, weight == null ? 1 : weight);
    }

    public boolean isFixedAmount() {
        return minFen == maxFen;
    }

    void validate(String where) {
        String at = where + " tier " + id;
        ProfileException.require(id > 0, at + ": id must be positive");
        ProfileException.require(minFen > 0, at + ": amount must be at least 1 fen");
        ProfileException.require(maxFen >= minFen, at + ": max_fen " + maxFen + " < min_fen " + minFen);
        ProfileException.require(countCap > 0, at + ": count_cap must be positive");
        ProfileException.require(weight > 0, at + ": weight must be positive");
    }
}
