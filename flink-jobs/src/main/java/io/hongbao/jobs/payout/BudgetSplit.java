package io.hongbao.jobs.payout;

/**
 * How a round's budget and tier caps are split over the payout shards, so no single key counts every
 * payout. Each shard pays from its own share; a reserve (and, at the round's end, whatever the shards did
 * not spend) goes to the round's sweeper. Integer arithmetic: the shares and the reserve add up to the whole
 * exactly.
 */
public final class BudgetSplit {
    private BudgetSplit() {}

    /** The part of {@code total} held back for the sweeper. */
    public static long reserve(long total, int reservePerMillion) {
        return total - shared(total, reservePerMillion);
    }

    /** Shard {@code shard}'s share of {@code total} (fen or packets). */
    public static long share(long total, int reservePerMillion, int shards, int shard) {
        if (shard < 0 || shard >= shards) {
            throw new IllegalArgumentException("shard " + shard + " not in [0, " + shards + ")");
        }
        long shared = shared(total, reservePerMillion);
        return shared / shards + (shard < shared % shards ? 1 : 0);
    }

    private static long shared(long total, int reservePerMillion) {
        if (reservePerMillion < 0 || reservePerMillion > 1_000_000) {
            throw new IllegalArgumentException("reserve must be 0..1000000 per million, was " + reservePerMillion);
        }
        // total <= 2^63 / 1e6 is not guaranteed: split the multiplication to stay exact and in range.
        long reserved = total / 1_000_000L * reservePerMillion + total % 1_000_000L * reservePerMillion / 1_000_000L;
        return total - reserved;
    }
}
