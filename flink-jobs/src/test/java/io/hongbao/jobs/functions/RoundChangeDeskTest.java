package io.hongbao.jobs.functions;

import static io.hongbao.jobs.functions.PayoutFixtures.ROUND_END;
import static io.hongbao.jobs.functions.PayoutFixtures.ROUND_START;
import static io.hongbao.jobs.functions.PayoutFixtures.round;
import static io.hongbao.jobs.functions.PayoutFixtures.settings;
import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.jobs.payout.RoundChange;
import io.hongbao.jobs.payout.RoundInForce;
import io.hongbao.money.LedgerEntry;
import io.hongbao.money.Round;
import java.util.List;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.junit.jupiter.api.Test;

/**
 * The {@link RoundChangeDesk} on Flink's real operator state, through checkpoints and restores: each change is
 * decided once, a schedule change only ahead of the promise the desk has sent, and what it remembers (change
 * ids, rules, the promise) survives a restore.
 */
class RoundChangeDeskTest {
    private static final Round ROUND = round(1_000_000, 1_000_000, 1000, 10, 5, 1_000_000);
    private static final long LEAD = ChangeDeskHarness.LEAD.toMillis();

    @Test
    void shouldRecogniseAResentChangeAfterARestore() throws Exception {
        var desk = open(null);
        desk.decide(change("ops-1", RoundChange.Action.PAUSE, 0, 0));
        OperatorSubtaskState checkpoint = desk.snapshot(1, ROUND_START);
        List<LedgerEntry> beforeCrash = desk.ledger();
        desk.close();

        var restored = open(checkpoint);
        restored.decide(change("ops-1", RoundChange.Action.PAUSE, 0, 1));
        restored.decide(change("ops-1", RoundChange.Action.RESUME, 0, 2));
        List<RoundInForce> resumed = restored.decide(change("ops-2", RoundChange.Action.RESUME, 0, 3));

        assertThat(beforeCrash).extracting(l -> l.entryId() + " " + l.kind()).containsExactly("change-ops-1 PAUSED");
        assertThat(restored.ledger()).extracting(l -> l.entryId() + " " + l.kind()).containsExactly(
                "change-ops-1/repeat/control/0/1 CHANGE_REPEATED",
                "change-ops-1/conflict/control/0/2 CHANGE_REFUSED",
                "change-ops-2 RESUMED");
        assertThat(resumed).singleElement().satisfies(r -> {
            assertThat(r.round().paused()).isFalse();
            assertThat(r.round().version()).as("the pause before the crash counts").isEqualTo(2);
        });
        restored.close();
    }

    @Test
    void shouldRememberNothingForARecordWithoutAValidId() throws Exception {
        var desk = open(null);

        desk.decide(RoundChangeDeserializationSchemaTest.read("{\"change_id\":\"a b\"}"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8), 8));
        desk.decide(RoundChangeDeserializationSchemaTest.read(null, 9));

        assertThat(desk.ledger()).extracting(l -> l.entryId())
                .containsExactly("change-control/0/8", "change-control/0/9");
        assertThat(desk.getOperator().getOperatorStateBackend().getBroadcastState(RoundRulesInForce.CHANGE_IDS)
                .entries()).isEmpty();
        desk.close();
    }

    @Test
    void shouldPromiseTheShakesWatermarkPlusTheLeadAndRefuseAChangeBeforeIt() throws Exception {
        var desk = open(null);
        long watermark = ROUND_START + 10_000;
        desk.shakesAt(watermark);
        assertThat(desk.promises()).containsExactly(watermark + LEAD);

        // Extending the end from ROUND_END: the change takes effect at the old end, which is past the promise.
        List<RoundInForce> extended = desk.decide(window("late-1", ROUND_START, ROUND_END + 60_000, ROUND_END, 1));
        // Closing at a time the promise has already passed reaches into decided event time.
        List<RoundInForce> tooEarly = desk.decide(window("close-1", ROUND_START, watermark + LEAD - 1,
                watermark + LEAD - 1, 2));

        assertThat(extended).singleElement().satisfies(r -> {
            assertThat(r.round().endsAtMs()).isEqualTo(ROUND_END + 60_000);
            assertThat(r.round().startsAtMs()).isEqualTo(ROUND_START);
            assertThat(r.round().version()).isEqualTo(1);
        });
        assertThat(tooEarly).isEmpty();
        assertThat(desk.ledger()).extracting(l -> l.entryId() + " " + l.kind() + " " + l.effectiveAtMs())
                .containsExactly("change-late-1 RESCHEDULED " + ROUND_END,
                        "change-close-1 CHANGE_REFUSED " + ROUND_START);
        assertThat(desk.ledger().get(1).detail()).contains("event time already decided");
        assertThat(desk.appliedRules()).extracting(Round::endsAtMs).containsExactly(ROUND_END + 60_000);
        desk.close();
    }

    @Test
    void shouldKeepItsPromiseAcrossARestoreThoughTheWatermarkStartsAgain() throws Exception {
        var desk = open(null);
        desk.shakesAt(ROUND_START + 40_000);
        OperatorSubtaskState checkpoint = desk.snapshot(1, 1);
        desk.close();

        var restored = open(checkpoint);
        restored.shakesAt(ROUND_START + 1_000); // a replay: the watermark is back behind the checkpoint's
        List<RoundInForce> refused = restored.decide(window("close-2", ROUND_START, ROUND_START + 50_000,
                ROUND_START + 50_000, 3));

        assertThat(refused).as("before the promise sent before the crash").isEmpty();
        assertThat(restored.ledger()).extracting(LedgerEntry::kind).containsExactly("CHANGE_REFUSED");
        restored.close();
    }

    @Test
    void shouldRefuseToMoveABoundaryBeforeTheChangeTakesEffect() throws Exception {
        var desk = open(null);
        // Opening earlier from a time after the new start: shakes between the two would be judged both ways.
        desk.decide(window("early", ROUND_START - 20_000, ROUND_END, ROUND_START - 10_000, 1));
        // Moving the start of a round already open (its old start is behind the effective time).
        desk.decide(window("shift", ROUND_START + 5_000, ROUND_END, ROUND_START + 1_000, 2));
        // The same window again.
        desk.decide(window("same", ROUND_START, ROUND_END, ROUND_START - 1, 3));
        // Past the latest end the gateway's ticks still close.
        desk.decide(window("far", ROUND_START, LATEST_END + 1, ROUND_START - 1, 4));
        List<RoundInForce> ok = desk.decide(window("open-early", ROUND_START - 20_000, ROUND_END,
                ROUND_START - 20_000, 5));

        assertThat(desk.ledger()).extracting(LedgerEntry::kind).containsExactly("CHANGE_REFUSED", "CHANGE_REFUSED",
                "CHANGE_REFUSED", "CHANGE_REFUSED", "RESCHEDULED");
        assertThat(desk.ledger().get(0).detail()).contains("start");
        assertThat(desk.ledger().get(2).detail()).contains("nothing to change");
        assertThat(desk.ledger().get(3).detail()).contains("latest end");
        assertThat(ok).singleElement().extracting(r -> r.round().startsAtMs()).isEqualTo(ROUND_START - 20_000);
        desk.close();
    }

    @Test
    void shouldAddARoundWithTheRulesOfAnotherAndRefuseItTwice() throws Exception {
        var desk = open(null);
        RoundChange add = window("add-7", ROUND_END + 60_000, ROUND_END + 120_000, ROUND_END, 1);
        add.action = RoundChange.Action.ADD_ROUND;
        add.roundId = 7;
        add.likeRoundId = 1;
        add.budgetFen = 500_000;
        RoundChange again = window("add-7b", ROUND_END + 60_000, ROUND_END + 120_000, ROUND_END, 2);
        again.action = RoundChange.Action.ADD_ROUND;
        again.roundId = 7;
        again.likeRoundId = 1;
        again.budgetFen = 500_000;
        RoundChange unknownModel = window("add-8", ROUND_END + 60_000, ROUND_END + 120_000, ROUND_END, 3);
        unknownModel.action = RoundChange.Action.ADD_ROUND;
        unknownModel.roundId = 8;
        unknownModel.likeRoundId = 99;
        unknownModel.budgetFen = 500_000;

        List<RoundInForce> added = desk.decide(add);
        desk.decide(again);
        desk.decide(unknownModel);

        assertThat(added).singleElement().satisfies(r -> {
            assertThat(r.round().roundId()).isEqualTo(7);
            assertThat(r.round().budgetFen()).isEqualTo(500_000L);
            assertThat(r.shardBaseFen()).isEqualTo(500_000L);
            assertThat(r.round().tiers()).isEqualTo(ROUND.tiers());
            assertThat(r.round().winPerMillion()).isEqualTo(ROUND.winPerMillion());
            assertThat(r.round().name()).isEqualTo("round 7");
        });
        assertThat(desk.ledger()).extracting(l -> l.entryId() + " " + l.kind() + " " + l.amountFen())
                .containsExactly("change-add-7 ROUND_ADDED 500000", "change-add-7b CHANGE_REFUSED 0",
                        "change-add-8 CHANGE_REFUSED 0");
        desk.close();
    }

    private static final long LATEST_END = ROUND_END + 3_600_000;

    private static ChangeDeskHarness open(OperatorSubtaskState restore) throws Exception {
        return ChangeDeskHarness.open(List.of(ROUND), settings(4, 10_000), LATEST_END, restore);
    }

    private static RoundChange change(String id, RoundChange.Action action, long budget, long offset) {
        return RoundChange.of(id, 1, action, budget, ROUND_START, "control/0/" + offset);
    }

    static RoundChange window(String id, long startsAt, long endsAt, long effectiveAt, long offset) {
        RoundChange c = RoundChange.of(id, 1, RoundChange.Action.SET_WINDOW, 0, ROUND_START, "control/0/" + offset);
        c.startsAtMs = startsAt;
        c.endsAtMs = endsAt;
        c.effectiveAtMs = effectiveAt;
        return c;
    }
}
