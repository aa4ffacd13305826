package io.hongbao.jobs.payout;

import java.io.Serializable;
import java.time.Duration;

/**
 * Knobs of the payout decision that are not round config.
 *
 * @param shards virtual budget shards; users are spread over them by hash, each shard pays from its share.
 *     Keep it well above the operator's parallelism so shards spread evenly over subtasks.
 * @param reservePerMillion the part of each budget and tier cap held back for the round's sweeper
 * @param dedupeTtl how long an event id is remembered to drop retries (processing time)
 * @param drawKey0 first half of the 128-bit campaign secret keying the draw
 * @param drawKey1 second half
 */
public record PayoutSettings(int shards, int reservePerMillion, Duration dedupeTtl, long drawKey0, long drawKey1)
        implements Serializable {

    public PayoutSettings {
        if (shards <= 0) {
            throw new IllegalArgumentException("shards must be positive, was " + shards);
        }
        if (reservePerMillion < 0 || reservePerMillion > 1_000_000) {
            throw new IllegalArgumentException("reserve must be within 0..1000000 per million");
        }
        if (dedupeTtl.isNegative() || dedupeTtl.isZero()) {
            throw new IllegalArgumentException("dedupe TTL must be positive");
        }
    }

    /** The shard a user's shakes, wins and caps live in. */
    public int shardOf(long userId) {
        return (int) Long.remainderUnsigned(PayoutDraw.mix(userId), shards);
    }

    /**
     * How many overflow candidates one shard may hand to the sweeper in a round: enough for the sweeper to
     * spend twice its reserve on the smallest prizes, so the tail of the budget is paid, but bounded, so the
     * round's single sweeper key never sees the whole flood of a sold-out round.
     */
    public long overflowPerShard(RoundRules rules) {
        long reserve = BudgetSplit.reserve(rules.budgetFen, reservePerMillion);
        long smallest = Math.max(1, rules.smallestPrizeFen());
        return 16 + 2 * (reserve / smallest) / shards;
    }

    public PayoutDraw draw() {
        return new PayoutDraw(drawKey0, drawKey1);
    }
}
