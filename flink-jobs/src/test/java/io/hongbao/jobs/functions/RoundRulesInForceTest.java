package io.hongbao.jobs.functions;

import static io.hongbao.jobs.functions.PayoutFixtures.ROUND_START;
import static io.hongbao.jobs.functions.PayoutFixtures.round;
import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.money.LedgerEntry;
import io.hongbao.jobs.payout.RoundChange;
import io.hongbao.jobs.payout.RoundRulebook;
import io.hongbao.money.Round;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.streaming.api.operators.co.CoBroadcastWithKeyedOperator;
import org.apache.flink.util.Collector;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * {@link RoundRulesInForce#apply(org.apache.flink.streaming.api.functions.co.BaseBroadcastProcessFunction.Context,
 * RoundChange)} on Flink's real broadcast state, through checkpoints and restores: the change ids it remembers
 * survive a restore, so an operator's resend after a crash is still recognised.
 */
class RoundRulesInForceTest {

    /** Applies changes as the deciders and the sweeper do, and emits each ledger line. */
    static final class ControlApplier extends KeyedBroadcastProcessFunction<Integer, Integer, RoundChange, LedgerEntry> {
        private static final long serialVersionUID = 1L;
        private final RoundRulesInForce rules;

        ControlApplier(List<Round> configured, int reservePerMillion) {
            this.rules = new RoundRulesInForce(configured, reservePerMillion);
        }

        @Override
        public void processElement(Integer value, ReadOnlyContext ctx, Collector<LedgerEntry> out) {}

        @Override
        public void processBroadcastElement(RoundChange change, Context ctx, Collector<LedgerEntry> out)
                throws Exception {
            RoundRulebook.Outcome outcome = rules.apply(ctx, change);
            out.collect(outcome.ledger());
        }
    }

    @Test
    void shouldRecogniseAResentChangeAfterARestore() throws Exception {
        Round configured = round(1_000_000, 1_000_000, 1000, 10, 5, 1_000_000);
        var harness = open(configured, null);
        harness.processBroadcastElement(change("ops-1", RoundChange.Action.PAUSE, 0, 0), ROUND_START);
        OperatorSubtaskState checkpoint = harness.snapshot(1, ROUND_START);
        List<LedgerEntry> beforeCrash = harness.extractOutputValues();
        harness.close();

        var restored = open(configured, checkpoint);
        restored.processBroadcastElement(change("ops-1", RoundChange.Action.PAUSE, 0, 1), ROUND_START + 1);
        restored.processBroadcastElement(change("ops-1", RoundChange.Action.RESUME, 0, 2), ROUND_START + 2);
        restored.processBroadcastElement(change("ops-2", RoundChange.Action.RESUME, 0, 3), ROUND_START + 3);
        List<LedgerEntry> afterRestore = restored.extractOutputValues();

        assertThat(beforeCrash).extracting(l -> l.entryId() + " " + l.kind()).containsExactly("change-ops-1 PAUSED");
        assertThat(afterRestore).extracting(l -> l.entryId() + " " + l.kind()).containsExactly(
                "change-ops-1/repeat/control/0/1 CHANGE_REPEATED",
                "change-ops-1/conflict/control/0/2 CHANGE_REFUSED",
                "change-ops-2 RESUMED");
        assertThat(restored.getBroadcastState(RoundRulesInForce.CHANGE_IDS).get("ops-1").source)
                .isEqualTo("control/0/0");
        assertThat(restored.getBroadcastState(RoundRulesInForce.CHANGE_IDS).contains("ops-2")).isTrue();
        assertThat(restored.getBroadcastState(ShardPayoutDecider.RULES).get(1).round().paused()).isFalse();
        restored.close();
    }

    @Test
    void shouldRememberNothingForARecordWithoutAValidId() throws Exception {
        var harness = open(round(1_000_000, 1_000_000, 1000, 10, 5, 1_000_000), null);

        harness.processBroadcastElement(RoundChangeDeserializationSchemaTest.read("{\"change_id\":\"a b\"}"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8), 8), ROUND_START);
        harness.processBroadcastElement(RoundChangeDeserializationSchemaTest.read(null, 9), ROUND_START);

        assertThat(harness.extractOutputValues()).extracting(l -> l.entryId())
                .containsExactly("change-control/0/8", "change-control/0/9");
        assertThat(harness.getBroadcastState(RoundRulesInForce.CHANGE_IDS).entries()).isEmpty();
        harness.close();
    }

    private static RoundChange change(String id, RoundChange.Action action, long budget, long offset) {
        return RoundChange.of(id, 1, action, budget, ROUND_START, "control/0/" + offset);
    }

    private static KeyedBroadcastOperatorTestHarness<Integer, Integer, RoundChange, LedgerEntry> open(Round rules,
            OperatorSubtaskState restore) throws Exception {
        var h = new KeyedBroadcastOperatorTestHarness<>(
                new CoBroadcastWithKeyedOperator<>(new ControlApplier(List.of(rules), 10_000),
                        List.of(ShardPayoutDecider.RULES, RoundRulesInForce.CHANGE_IDS)),
                (Integer i) -> i, Types.INT, 128, 1, 0);
        h.setup();
        if (restore != null) {
            h.initializeState(restore);
        }
        h.open();
        return h;
    }
}
