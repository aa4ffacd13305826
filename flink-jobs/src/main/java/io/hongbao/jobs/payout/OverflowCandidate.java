package io.hongbao.jobs.payout;

import io.hongbao.ingest.flink.ShakeRecord;

/**
 * A winning shake its shard could not fund, handed to the round's sweeper with the prize already drawn and
 * the user's caps already reserved at the shard. The sweeper pays it at the round's end if money and tier
 * packets are left. A Flink POJO.
 */
public class OverflowCandidate {
    public ShakeRecord shake;
    public int tierId;
    public long amountFen;

    public OverflowCandidate() {}

    public static OverflowCandidate of(ShakeRecord shake, int tierId, long amountFen) {
        OverflowCandidate c = new OverflowCandidate();
        c.shake = shake;
        c.tierId = tierId;
        c.amountFen = amountFen;
        return c;
    }
}
