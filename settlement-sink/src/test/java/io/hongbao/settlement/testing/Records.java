package io.hongbao.settlement.testing;

import io.hongbao.money.Payout;
import io.hongbao.money.Round;
import io.hongbao.money.Tier;
import java.time.Instant;
import java.util.List;

/** Test fixtures: settlement rows with readable defaults. */
public final class Records {
    public static final String TOPIC = "hongbao.shakes";
    public static final Instant ROUND_START = Instant.parse("2026-02-16T12:00:00Z");
    public static final long ROUND_START_MS = ROUND_START.toEpochMilli();
    public static final long ONE_HOUR_MS = 3_600_000L;

    private Records() {}

    /** The 32-hex event id of shake number {@code n}. */
    public static String eventId(long n) {
        return String.format("%032x", n);
    }

    /** Payout for shake {@code n}: user n % 1000, tier 1, 1 + n % 100 fen, Kafka record (n % 4, n). */
    public static Payout payout(int round, long n) {
        return payout(round, 1, n % 1000, 1 + n % 100, n);
    }

    public static Payout payout(int round, int tier, long user, long amountFen, long n) {
        return new Payout(round, tier, user, amountFen, eventId(n), TOPIC, (int) (n % 4), n, ROUND_START_MS + n);
    }

    public static Round round(int roundId, long budgetFen, int version, Tier... tiers) {
        long startsAtMs = ROUND_START_MS + (roundId - 1) * ONE_HOUR_MS;
        return new Round(roundId, "round " + roundId, startsAtMs, startsAtMs + 10 * 60_000L, budgetFen, 100_000, 2,
                20_000, false, version, List.of(tiers));
    }

    /**
     * Rounds 1 and 2, each with tiers 1 and 2 paying 1 to 1,000 fen: the reference data the payouts of these
     * fixtures need (they pay 1 to 1,000 fen in tier 1 or 2).
     */
    public static List<Round> referenceRounds() {
        return List.of(round(1, 10_000_000, 0, tier(1, 1, 1_000, 1_000_000), tier(2, 1, 1_000, 1_000_000)),
                round(2, 10_000_000, 0, tier(1, 1, 1_000, 1_000_000), tier(2, 1, 1_000, 1_000_000)));
    }

    public static Tier tier(int tierId, long minFen, long maxFen, long countCap) {
        return new Tier(tierId, "tier " + tierId, minFen, maxFen, countCap, 1);
    }
}
