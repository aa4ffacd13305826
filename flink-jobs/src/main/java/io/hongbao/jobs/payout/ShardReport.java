package io.hongbao.jobs.payout;

/**
 * What one shard paid in a round, sent to the round's sweeper when the round closes (the watermark passes its
 * end). The sweeper funds the overflow from what no shard spent. A Flink POJO.
 */
public class ShardReport {
    public int roundId;
    public int shard;
    public long spentFen;
    /** Packets paid per tier, aligned with the round's tiers (by tier id). */
    public long[] paidPerTier;

    public ShardReport() {}

    public static ShardReport of(int roundId, int shard, long spentFen, long[] paidPerTier) {
        ShardReport r = new ShardReport();
        r.roundId = roundId;
        r.shard = shard;
        r.spentFen = spentFen;
        r.paidPerTier = paidPerTier.clone();
        return r;
    }
}
