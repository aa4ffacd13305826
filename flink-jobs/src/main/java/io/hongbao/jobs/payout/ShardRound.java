package io.hongbao.jobs.payout;

/** A shard's spending in one open round (keyed state, removed when the round closes). A Flink POJO. */
public class ShardRound {
    public long spentFen;
    /** Packets paid per tier, aligned with the round's tiers (by tier id). */
    public long[] paidPerTier;
    /** Overflow candidates handed to the sweeper so far; bounded per shard. */
    public long forwarded;

    public ShardRound() {}

    public static ShardRound open(int tiers) {
        ShardRound s = new ShardRound();
        s.paidPerTier = new long[tiers];
        return s;
    }
}
