package io.hongbao.jobs.payout;

import io.hongbao.money.Round;
import java.io.Serializable;

/**
 * A round's rules as the payout job applies them: the round's config in force (the profile's, then each live
 * change's next version), and the budget the shards' shares are cut from. Kept in broadcast state so every
 * parallel instance applies the same rules; a Flink POJO (the round through the money model's serializer).
 *
 * <p>{@code shardBaseFen} is the job's own bookkeeping, no column of the round: it only ever rises (a lowered
 * budget comes out of the sweeper's reserve), so no shard can have spent more than a share it still has.
 */
public record RoundInForce(Round round, long shardBaseFen) implements Serializable {

    /** The profile's config, before any change: the shards' base is its budget. */
    public static RoundInForce configured(Round round) {
        return new RoundInForce(round, round.budgetFen());
    }
}
