package io.hongbao.money;

import static io.hongbao.money.SettlementRow.check;

import java.io.Serializable;
import java.util.List;
import java.util.Objects;
import org.apache.flink.api.common.typeinfo.TypeInfo;

/**
 * A round's config (a row of {@code round} and its rows of {@code prize_tier}): window, budget, win rate, per-user
 * caps, tiers by tier id, and whether it is paused. The profile's config is version 0; every change the payout
 * job applies makes the next version, and the settlement tables keep the highest. Immutable.
 *
 * @param startsAtMs the window's start (epoch ms, inclusive)
 * @param endsAtMs the window's end (epoch ms, exclusive)
 * @param winPerMillion the win probability in parts per million (no floating point near money)
 * @param winsPerRound packets one user may win in this round
 * @param fenPerGala fen one user may win over the whole gala
 * @param version changes applied since the profile's config (0); a config never replaces a higher version
 */
@TypeInfo(SettlementRowTypeInfo.Factory.class)
public record Round(int roundId, String name, long startsAtMs, long endsAtMs, long budgetFen, int winPerMillion,
        int winsPerRound, long fenPerGala, boolean paused, int version, List<Tier> tiers)
        implements SettlementRow, Serializable {

    public Round {
        Objects.requireNonNull(name, "round name");
        tiers = List.copyOf(tiers);
    }

    /** The same round one change later, with this budget and pause state. */
    public Round changed(long budgetFen, boolean paused) {
        return new Round(roundId, name, startsAtMs, endsAtMs, budgetFen, winPerMillion, winsPerRound, fenPerGala,
                paused, version + 1, tiers);
    }

    /** The smallest amount any tier pays. */
    public long smallestPrizeFen() {
        return tiers.stream().mapToLong(Tier::minFen).min().orElse(Long.MAX_VALUE);
    }

    @Override
    public void validate() {
        String at = "round config " + roundId + " v" + version;
        check(endsAtMs > startsAtMs, at + ": ends before it starts");
        check(budgetFen >= 0, at + ": negative budget");
        for (Tier t : tiers) {
            check(t.minFen() > 0 && t.maxFen() >= t.minFen() && t.countCap() >= 0, at + ": bad tier " + t);
        }
    }

    @Override
    public String toString() {
        return "round " + roundId + " v" + version + " budget " + budgetFen + (paused ? " paused" : "") + " tiers "
                + tiers;
    }
}
