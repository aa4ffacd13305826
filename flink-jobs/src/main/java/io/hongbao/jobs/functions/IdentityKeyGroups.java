package io.hongbao.jobs.functions;

import io.hongbao.jobs.payout.PayoutSettings;
import java.util.Arrays;
import org.apache.flink.runtime.state.KeyGroupRange;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;

/**
 * The key groups an identity subtask owns, as seen from the identity shards (the operator's keys): which key
 * group a shard falls in, numbered from 0 within the subtask's range, and one shard of each group to file the
 * group's chunks under, so that what is written under that key moves with exactly the ids of its group.
 * Computed once per subtask from Flink's own assignment (shards are 0..16,383; 64 KB of table).
 */
final class IdentityKeyGroups {
    private final int[] groupOfShard = new int[PayoutSettings.IDENTITY_SHARDS];
    private final int[] shardOfGroup;

    IdentityKeyGroups(int maxParallelism, int parallelism, int subtask) {
        KeyGroupRange range = KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex(maxParallelism,
                parallelism, subtask);
        shardOfGroup = new int[range.getNumberOfKeyGroups()];
        Arrays.fill(shardOfGroup, -1);
        for (int shard = 0; shard < groupOfShard.length; shard++) {
            int keyGroup = KeyGroupRangeAssignment.assignToKeyGroup(shard, maxParallelism);
            if (range.contains(keyGroup)) {
                int group = keyGroup - range.getStartKeyGroup();
                groupOfShard[shard] = group;
                if (shardOfGroup[group] < 0) {
                    shardOfGroup[group] = shard;
                }
            } else {
                groupOfShard[shard] = -1;
            }
        }
    }

    /** Key groups in the subtask's range. */
    int size() {
        return shardOfGroup.length;
    }

    /** The shard's key group within the range; a shard of another subtask is a routing error, never guessed at. */
    int of(int shard) {
        int group = groupOfShard[shard];
        if (group < 0) {
            throw new IllegalStateException("identity shard " + shard + " is not in this subtask's key groups");
        }
        return group;
    }

    /** The shard whose key the group's chunks are written under. */
    int fileUnder(int group) {
        return shardOfGroup[group];
    }
}
