package io.hongbao.settlement.testing;

import io.hongbao.settlement.SettlementRecord;
import io.hongbao.settlement.SettlementRecord.RoundConfig;
import io.hongbao.settlement.SettlementRecord.Tier;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Test fixtures: settlement records with readable defaults. */
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
    public static SettlementRecord payout(int round, long n) {
        return SettlementRecord.payout(round, 1, n % 1000, 1 + n % 100, eventId(n), TOPIC, (int) (n % 4), n,
                ROUND_START_MS + n);
    }

    public static SettlementRecord payout(int round, int tier, long user, long amountFen, long n) {
        return SettlementRecord.payout(round, tier, user, amountFen, eventId(n), TOPIC, (int) (n % 4), n,
                ROUND_START_MS + n);
    }

    public static RoundConfig round(int roundId, long budgetFen, int version, Tier... tiers) {
        RoundConfig r = new RoundConfig();
        r.roundId = roundId;
        r.name = "round " + roundId;
        r.startsAtMs = ROUND_START_MS + (roundId - 1) * ONE_HOUR_MS;
        r.endsAtMs = r.startsAtMs + 10 * 60_000L;
        r.budgetFen = budgetFen;
        r.winPerMillion = 100_000;
        r.winsPerRound = 2;
        r.fenPerGala = 20_000;
        r.version = version;
        r.tiers = new ArrayList<>(List.of(tiers));
        return r;
    }

    /**
     * Rounds 1 and 2, each with tiers 1 and 2 paying 1 to 1,000 fen: the reference data the payouts of these
     * fixtures need (they pay 1 to 1,000 fen in tier 1 or 2).
     */
    public static List<RoundConfig> referenceRounds() {
        return List.of(round(1, 10_000_000, 0, tier(1, 1, 1_000, 1_000_000), tier(2, 1, 1_000, 1_000_000)),
                round(2, 10_000_000, 0, tier(1, 1, 1_000, 1_000_000), tier(2, 1, 1_000, 1_000_000)));
    }

    public static Tier tier(int tierId, long minFen, long maxFen, long countCap) {
        return Tier.of(tierId, "tier " + tierId, minFen, maxFen, countCap, 1);
    }
}
