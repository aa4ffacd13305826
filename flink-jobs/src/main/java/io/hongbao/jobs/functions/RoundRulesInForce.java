package io.hongbao.jobs.functions;

import io.hongbao.jobs.payout.RoundChange;
import io.hongbao.jobs.payout.RoundRulebook;
import io.hongbao.jobs.payout.RoundRules;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.ReadOnlyBroadcastState;

/**
 * The rules in force for each round: the profile's, until a live change applied through
 * {@link ShardPayoutDecider#RULES} broadcast state replaces them. Shared by the deciders and the sweeper so
 * both read, and change, a round's rules the same way.
 */
final class RoundRulesInForce implements Serializable {
    private static final long serialVersionUID = 1L;

    private final Map<Integer, RoundRules> configured = new HashMap<>();
    private final int reservePerMillion;

    RoundRulesInForce(List<RoundRules> configured, int reservePerMillion) {
        configured.forEach(r -> this.configured.put(r.roundId, r));
        this.reservePerMillion = reservePerMillion;
    }

    /** The round's rules, or null for a round the profile does not have. */
    RoundRules of(ReadOnlyBroadcastState<Integer, RoundRules> broadcast, int roundId) throws Exception {
        RoundRules changed = broadcast.get(roundId);
        return changed != null ? changed : configured.get(roundId);
    }

    List<RoundRules> all(ReadOnlyBroadcastState<Integer, RoundRules> broadcast) throws Exception {
        List<RoundRules> all = new ArrayList<>(configured.size());
        for (int roundId : configured.keySet()) {
            all.add(of(broadcast, roundId));
        }
        return all;
    }

    /** Applies a live change to the broadcast state (when the rulebook accepts it) and says what happened. */
    RoundRulebook.Outcome apply(BroadcastState<Integer, RoundRules> broadcast, RoundChange change) throws Exception {
        RoundRulebook.Outcome outcome = RoundRulebook.apply(of(broadcast, change.roundId), change, reservePerMillion);
        if (outcome.rules() != null) {
            broadcast.put(change.roundId, outcome.rules());
        }
        return outcome;
    }
}
