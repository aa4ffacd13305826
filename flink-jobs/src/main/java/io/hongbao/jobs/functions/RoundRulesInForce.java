package io.hongbao.jobs.functions;

import io.hongbao.jobs.payout.ChangeReceipt;
import io.hongbao.jobs.payout.RoundChange;
import io.hongbao.jobs.payout.RoundRulebook;
import io.hongbao.jobs.payout.RoundInForce;
import io.hongbao.money.Round;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ReadOnlyBroadcastState;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;

/**
 * The rules in force for each round: the profile's, until a live change applied through
 * {@link ShardPayoutDecider#RULES} broadcast state replaces them (or adds a round). Shared by the desk that
 * decides changes and the tasks that read rules, so all read a round's rules the same way.
 *
 * <p>The change ids already used live in a second operator state of the {@link RoundChangeDesk},
 * {@link #CHANGE_IDS}: checkpointed, so a resent change is recognised also after a restore.
 */
public final class RoundRulesInForce implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Change id -> what its first record asked for (the desk's). */
    public static final MapStateDescriptor<String, ChangeReceipt> CHANGE_IDS =
            new MapStateDescriptor<>("round-change-ids", Types.STRING, TypeInformation.of(ChangeReceipt.class));

    private final Map<Integer, RoundInForce> configured = new HashMap<>();
    private final int reservePerMillion;

    RoundRulesInForce(List<Round> configured, int reservePerMillion) {
        configured.forEach(r -> this.configured.put(r.roundId(), RoundInForce.configured(r)));
        this.reservePerMillion = reservePerMillion;
    }

    /** The round's rules, or null for a round the profile does not have. */
    RoundInForce of(ReadOnlyBroadcastState<Integer, RoundInForce> broadcast, int roundId) throws Exception {
        RoundInForce changed = broadcast.get(roundId);
        return changed != null ? changed : configured.get(roundId);
    }

    /** Every round in force: the profile's and the added ones. */
    List<RoundInForce> all(ReadOnlyBroadcastState<Integer, RoundInForce> broadcast) throws Exception {
        List<RoundInForce> all = new ArrayList<>(configured.size());
        for (int roundId : configured.keySet()) {
            all.add(of(broadcast, roundId));
        }
        for (Map.Entry<Integer, RoundInForce> changed : broadcast.immutableEntries()) {
            if (!configured.containsKey(changed.getKey())) {
                all.add(changed.getValue());
            }
        }
        return all;
    }

    /**
     * Applies a live change (when the rulebook accepts it) and says what happened; remembers its change id.
     * Only the {@link RoundChangeDesk} decides changes; the other tasks put what it sends in place.
     */
    RoundRulebook.Outcome apply(BroadcastState<Integer, RoundInForce> broadcast,
            BroadcastState<String, ChangeReceipt> changeIds, RoundChange change, RoundRulebook.Horizon horizon)
            throws Exception {
        ChangeReceipt earlier = RoundRulebook.validChangeId(change.changeId) ? changeIds.get(change.changeId) : null;
        RoundRulebook.Outcome outcome = RoundRulebook.apply(id -> {
            try {
                return of(broadcast, id);
            } catch (Exception e) {
                throw new IllegalStateException("broadcast state unreadable", e);
            }
        }, earlier, change, reservePerMillion, horizon);
        if (outcome.rules() != null) {
            broadcast.put(outcome.rules().round().roundId(), outcome.rules());
        }
        if (outcome.receipt() != null) {
            changeIds.put(change.changeId, outcome.receipt());
        }
        return outcome;
    }
}
