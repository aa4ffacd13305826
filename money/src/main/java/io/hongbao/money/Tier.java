package io.hongbao.money;

import java.io.Serializable;
import java.util.Objects;

/**
 * A prize tier of a round (a row of {@code prize_tier}): the amount in fen (fixed when {@code minFen == maxFen},
 * else drawn from the range), how many packets it pays at most, and its weight among the tiers when a shake wins.
 */
public record Tier(int tierId, String name, long minFen, long maxFen, long countCap, int weight)
        implements Serializable {

    public Tier {
        Objects.requireNonNull(name, "tier name");
    }

    @Override
    public String toString() {
        return "tier " + tierId + " " + minFen + ".." + maxFen + " fen x" + countCap;
    }
}
