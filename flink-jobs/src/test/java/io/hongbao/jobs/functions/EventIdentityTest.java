package io.hongbao.jobs.functions;

import static io.hongbao.jobs.functions.PayoutFixtures.ROUND_END;
import static io.hongbao.jobs.functions.PayoutFixtures.ROUND_START;
import static io.hongbao.jobs.functions.PayoutFixtures.round;
import static io.hongbao.jobs.functions.PayoutFixtures.shake;
import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.ingest.event.RejectReason;
import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.jobs.payout.PayoutSettings;
import io.hongbao.money.Round;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** One identity per event id: retries, copies under another user or round, late shakes, forgetting. */
class EventIdentityTest {
    private static final Round ROUND_1 = round(1_000_000, 1_000_000, 1000, 10, 1, 1_000_000);
    private static final Round ROUND_2 = round2();

    @Test
    void shouldDropARetryOfAnEventAlreadySeenHoweverLateInProcessingTime() throws Exception {
        var h = harness(null);
        ShakeRecord first = shake(100, 1, ROUND_START + 1);

        h.processElement(first, ROUND_START + 1);
        h.setProcessingTime(Long.MAX_VALUE / 2); // an outage, a held savepoint: no wall-clock horizon applies
        h.processElement(retry(first, ROUND_START + 40_000), ROUND_START + 40_000);
        h.processElement(shake(100, 2, ROUND_START + 2), ROUND_START + 2);

        assertThat(h.extractOutputValues()).extracting(r -> r.event.eventIdLo).containsExactly(1L, 2L);
        assertThat(rejects(h)).isEmpty();
    }

    @Test
    void shouldRefuseTheSameEventIdUnderAnotherUserOrInAnotherRound() throws Exception {
        var h = harness(null);
        ShakeRecord first = shake(100, 7, ROUND_START + 1);
        ShakeRecord otherUser = shake(200, 7, ROUND_START + 5);
        ShakeRecord otherRound = shake(100, 7, ROUND_2.startsAtMs() + 5);
        otherRound.event.roundId = 2;

        h.processElement(first, ROUND_START + 1);
        h.processElement(otherUser, ROUND_START + 5);
        h.processElement(otherRound, ROUND_2.startsAtMs() + 5);

        assertThat(h.extractOutputValues()).extracting(r -> r.event.userId).containsExactly(100L);
        assertThat(rejects(h)).containsExactly(RejectReason.EVENT_ID_REUSED, RejectReason.EVENT_ID_REUSED);
    }

    @Test
    void shouldRememberAcrossARestoreAndForgetARoundOnlyWhenItCloses() throws Exception {
        var h = harness(null);
        ShakeRecord first = shake(100, 1, ROUND_START + 1);
        h.processElement(first, ROUND_START + 1);
        OperatorSubtaskState checkpoint = h.snapshot(1, 0);
        h.close();

        var restored = harness(checkpoint);
        restored.processElement(retry(first, ROUND_START + 30_000), ROUND_START + 30_000);
        restored.processWatermark(ROUND_END - 2);
        restored.processElement(retry(first, ROUND_END - 1), ROUND_END - 1);
        assertThat(restored.extractOutputValues()).isEmpty();
        assertThat(rejects(restored)).isEmpty();
        assertThat(restored.numKeyedStateEntries()).isPositive();

        restored.processWatermark(ROUND_END - 1); // the round closes: its ids are dropped, its shakes are late
        restored.processElement(retry(first, ROUND_END - 1), ROUND_END - 1);
        restored.processElement(shake(300, 9, ROUND_END - 10), ROUND_END - 10);

        assertThat(restored.extractOutputValues()).isEmpty();
        assertThat(rejects(restored)).containsExactly(RejectReason.LATE, RejectReason.LATE);
        assertThat(restored.numKeyedStateEntries()).as("the round's ids are gone").isZero();
        assertThat(restored.numEventTimeTimers()).as("and its timers").isZero();
    }

    /**
     * Flink does not checkpoint watermarks: right after a restore the watermark is back at its minimum, and a
     * round closed (its ids forgotten) before the checkpoint looked open again, so a late copy of one of its
     * paid winners passed as new. The identity's event time survives the restore, so the copy stays late.
     */
    @Test
    void shouldKeepAClosedRoundClosedRightAfterARestore() throws Exception {
        var h = harness(null);
        ShakeRecord winner = shake(100, 1, ROUND_START + 1);
        h.processElement(winner, ROUND_START + 1);
        h.processWatermark(ROUND_END - 1); // round 1 closes, its ids are forgotten
        OperatorSubtaskState checkpoint = h.snapshot(1, 0);
        h.close();

        var restored = harness(checkpoint); // no watermark yet
        restored.processElement(retry(winner, ROUND_END + 5_000), ROUND_END + 5_000);

        assertThat(restored.extractOutputValues()).as("a copy of a closed round's id passed as new").isEmpty();
        assertThat(rejects(restored)).containsExactly(RejectReason.LATE);
        assertThat(restored.numKeyedStateEntries()).isZero();
    }

    @Test
    void shouldKeepTheIdsOfARoundStillOpenWhenAnotherCloses() throws Exception {
        var h = harness(null);
        ShakeRecord inRound2 = shake(100, 5, ROUND_2.startsAtMs() + 1);
        inRound2.event.roundId = 2;
        h.processElement(inRound2, ROUND_2.startsAtMs() + 1);
        h.processWatermark(ROUND_END - 1);
        h.processElement(retry(inRound2, ROUND_2.startsAtMs() + 2), ROUND_2.startsAtMs() + 2);

        assertThat(h.extractOutputValues()).hasSize(1);
        assertThat(rejects(h)).isEmpty();
    }

    private static ShakeRecord retry(ShakeRecord original, long gatewayTs) {
        ShakeRecord r = new ShakeRecord();
        r.event = original.event.copy();
        r.event.gatewayTsMs = gatewayTs; // the gateway stamps a retry anew
        r.topic = original.topic;
        r.partition = original.partition;
        r.offset = original.offset + 1_000;
        return r;
    }

    private static Round round2() {
        Round r = round(1_000_000, 1_000_000, 1000, 10, 1, 1_000_000);
        return new Round(2, r.name(), ROUND_END + 600_000, ROUND_END + 660_000, r.budgetFen(), r.winPerMillion(),
                r.winsPerRound(), r.fenPerGala(), r.paused(), r.version(), r.tiers());
    }

    private static List<RejectReason> rejects(KeyedOneInputStreamOperatorTestHarness<Integer, ShakeRecord, ShakeRecord> h) {
        var out = h.getSideOutput(EventIdentity.REJECTED);
        return out == null ? List.of() : out.stream().map(r -> r.getValue().rejectReason).toList();
    }

    private static KeyedOneInputStreamOperatorTestHarness<Integer, ShakeRecord, ShakeRecord> harness(
            OperatorSubtaskState restore) throws Exception {
        return identityHarness(List.of(ROUND_1, ROUND_2), restore);
    }

    /** EventIdentity keyed as in the pipeline, opened (and restored from {@code restore} when given). */
    static KeyedOneInputStreamOperatorTestHarness<Integer, ShakeRecord, ShakeRecord> identityHarness(
            List<Round> rounds, OperatorSubtaskState restore) throws Exception {
        var h = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new EventIdentity(rounds)),
                (ShakeRecord r) -> PayoutSettings.identityShardOf(r.event.eventIdHi, r.event.eventIdLo),
                Types.INT, 128, 1, 0);
        h.setup();
        if (restore != null) {
            h.initializeState(restore);
        }
        h.open();
        return h;
    }
}
