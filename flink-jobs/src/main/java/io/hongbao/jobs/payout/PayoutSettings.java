package io.hongbao.jobs.payout;

import io.hongbao.ingest.SplitMix64;
import io.hongbao.money.Round;
import java.io.Serializable;

/**
 * Knobs of the payout decision that are not round config.
 *
 * @param shards virtual budget shards; users are spread over them by hash, each shard pays from its share.
 *     Keep it well above the operator's parallelism so shards spread evenly over subtasks.
 * @param reservePerMillion the part of each budget and tier cap held back for the round's sweeper
 * @param drawKey0 first half of the 128-bit campaign secret keying the draw
 * @param drawKey1 second half
 */
public record PayoutSettings(int shards, int reservePerMillion, long drawKey0, long drawKey1)
        implements Serializable {

    public PayoutSettings {
        if (shards <= 0) {
            throw new IllegalArgumentException("shards must be positive, was " + shards);
        }
        if (reservePerMillion < 0 || reservePerMillion > 1_000_000) {
            throw new IllegalArgumentException("reserve must be within 0..1000000 per million");
        }
    }

    /**
     * Identity shards: every copy of an event id meets in one ({@code EventIdentity}). Fixed, not a knob: the
     * remembered ids are keyed state under it, so changing it would scatter them on restore. Many more than
     * any parallelism, so key groups spread them evenly; each holds one timer per live round.
     */
    public static final int IDENTITY_SHARDS = 1 << 14;

    /** The identity shard of an event id. */
    public static int identityShardOf(long eventIdHi, long eventIdLo) {
        return (int) Long.remainderUnsigned(SplitMix64.mix(eventIdHi ^ SplitMix64.mix(eventIdLo)), IDENTITY_SHARDS);
    }

    /** The shard a user's shakes, wins and caps live in. */
    public int shardOf(long userId) {
        return (int) Long.remainderUnsigned(SplitMix64.mix(userId), shards);
    }

    /**
     * How many overflow candidates one shard may hand to the sweeper in a round: enough for the sweeper to
     * spend twice its reserve on the smallest prizes, so the tail of the budget is paid, but bounded, so the
     * round's single sweeper key never sees the whole flood of a sold-out round.
     */
    public long overflowPerShard(Round round) {
        long reserve = BudgetSplit.reserve(round.budgetFen(), reservePerMillion);
        long smallest = Math.max(1, round.smallestPrizeFen());
        return 16 + 2 * (reserve / smallest) / shards;
    }

    public PayoutDraw draw() {
        return new PayoutDraw(drawKey0, drawKey1);
    }
}
