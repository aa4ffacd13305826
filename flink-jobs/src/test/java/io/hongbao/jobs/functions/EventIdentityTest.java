package io.hongbao.jobs.functions;

import static io.hongbao.jobs.functions.PayoutFixtures.ROUND_END;
import static io.hongbao.jobs.functions.PayoutFixtures.ROUND_START;
import static io.hongbao.jobs.functions.PayoutFixtures.round;
import static io.hongbao.jobs.functions.PayoutFixtures.shake;
import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.ingest.event.RejectReason;
import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.jobs.payout.PayoutDraw;
import io.hongbao.jobs.payout.PayoutSettings;
import io.hongbao.jobs.payout.RoundInForce;
import io.hongbao.money.Round;
import io.hongbao.settlement.analytics.InteractionCount;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * One identity per event id: retries, copies under another user or round, late shakes, forgetting; what the
 * heap table remembers survives checkpoints, restores and rescaling exactly (on RocksDB, the job's backend).
 */
class EventIdentityTest {
    private static final int MAX_PARALLELISM = 128;
    private static final Round ROUND_1 = round(1_000_000, 1_000_000, 1000, 10, 1, 1_000_000);
    private static final Round ROUND_2 = round2();
    private static final PayoutSettings SETTINGS = PayoutFixtures.settings(8, 0);

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
        OperatorSubtaskState checkpoint = checkpoint(h, 1);
        h.close();

        var restored = harness(checkpoint);
        restored.processElement(retry(first, ROUND_START + 30_000), ROUND_START + 30_000);
        restored.processWatermark(ROUND_END - 2);
        restored.processElement(retry(first, ROUND_END - 1), ROUND_END - 1);
        assertThat(restored.extractOutputValues()).isEmpty();
        assertThat(rejects(restored)).isEmpty();
        assertThat(shardsInState(restored)).isPositive();

        restored.processWatermark(ROUND_END - 1); // the round closes: its ids are dropped, its shakes are late
        restored.processElement(retry(first, ROUND_END - 1), ROUND_END - 1);
        restored.processElement(shake(300, 9, ROUND_END - 10), ROUND_END - 10);

        assertThat(restored.extractOutputValues()).isEmpty();
        assertThat(rejects(restored)).containsExactly(RejectReason.LATE, RejectReason.LATE);
        assertThat(shardsInState(restored)).as("the round's ids are gone").isZero();
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
        checkpoint(h, 1);
        h.processWatermark(ROUND_END - 1); // round 1 closes, its ids are forgotten
        OperatorSubtaskState checkpoint = checkpoint(h, 2);
        h.close();

        var restored = harness(checkpoint); // no watermark yet
        restored.processElement(retry(winner, ROUND_END - 1), ROUND_END - 1); // in the window, after the close

        assertThat(restored.extractOutputValues()).as("a copy of a closed round's id passed as new").isEmpty();
        assertThat(rejects(restored)).containsExactly(RejectReason.LATE);
        assertThat(shardsInState(restored)).isZero();
    }

    @Test
    void shouldKeepTheIdsOfARoundStillOpenWhenAnotherCloses() throws Exception {
        var h = harness(null);
        ShakeRecord inRound2 = shake(100, 5, ROUND_2.startsAtMs() + 1);
        inRound2.event.roundId = 2;
        h.processElement(inRound2, ROUND_2.startsAtMs() + 1);
        OperatorSubtaskState checkpoint = checkpoint(h, 1);
        h.processWatermark(ROUND_END - 1);
        h.processElement(retry(inRound2, ROUND_2.startsAtMs() + 2), ROUND_2.startsAtMs() + 2);
        h.close();
        var restored = harness(checkpoint);
        restored.processWatermark(ROUND_END - 1);
        restored.processElement(retry(inRound2, ROUND_2.startsAtMs() + 3), ROUND_2.startsAtMs() + 3);

        assertThat(h.extractOutputValues()).hasSize(1);
        assertThat(rejects(h)).isEmpty();
        assertThat(restored.extractOutputValues()).isEmpty();
        assertThat(rejects(restored)).isEmpty();
    }

    /**
     * Ids learned over several checkpoints, some learned after the last one: a restore remembers exactly the
     * checkpointed ones (their copies are repeats, or conflicts), and the ones after it are new again, as their
     * replay from the source offsets of that checkpoint needs.
     */
    @Test
    void shouldRestoreExactlyTheIdsOfTheCheckpointAcrossManyCheckpoints() throws Exception {
        var h = harness(null);
        List<ShakeRecord> sent = new ArrayList<>();
        OperatorSubtaskState checkpoint = null;
        for (int batch = 0; batch < 4; batch++) {
            for (int i = 0; i < 500; i++) {
                ShakeRecord s = shake(1_000 + i, batch * 1_000L + i, ROUND_START + batch * 1_000L + i);
                sent.add(s);
                h.processElement(s, s.event.gatewayTsMs);
            }
            checkpoint = checkpoint(h, batch + 1);
        }
        ShakeRecord afterCheckpoint = shake(7, 99_999, ROUND_START + 9_000);
        h.processElement(afterCheckpoint, ROUND_START + 9_000);
        assertThat(h.extractOutputValues()).hasSize(2_001);
        h.close();

        var restored = harness(checkpoint);
        for (ShakeRecord s : sent) {
            restored.processElement(retry(s, ROUND_START + 20_000), ROUND_START + 20_000);
        }
        ShakeRecord conflicting = shake(999_999, sent.get(1_234).event.eventIdLo, ROUND_START + 20_001);
        restored.processElement(conflicting, ROUND_START + 20_001);
        restored.processElement(retry(afterCheckpoint, ROUND_START + 20_002), ROUND_START + 20_002);

        assertThat(restored.extractOutputValues()).extracting(r -> r.event.eventIdLo).containsExactly(99_999L);
        assertThat(rejects(restored)).containsExactly(RejectReason.EVENT_ID_REUSED);
    }

    /**
     * One identity shard with more ids than a chunk holds: its full chunks are written as they fill, between
     * checkpoints, and the rest at the barrier; a restore remembers every one of them.
     */
    @Test
    void shouldRememberAShardsIdsWrittenInFullChunksBetweenCheckpoints() throws Exception {
        var h = harness(null);
        List<ShakeRecord> sameShard = new ArrayList<>();
        int shard = PayoutSettings.identityShardOf(0xABCDL, 0);
        for (long lo = 0; sameShard.size() < 3 * RoundIds.CHUNK_IDS + 5; lo++) {
            if (PayoutSettings.identityShardOf(0xABCDL, lo) == shard) {
                sameShard.add(shake(2_000 + sameShard.size(), lo, ROUND_START + sameShard.size()));
            }
        }
        for (ShakeRecord s : sameShard) {
            h.processElement(s, s.event.gatewayTsMs);
        }
        OperatorSubtaskState checkpoint = checkpoint(h, 1);
        h.close();

        var restored = harness(checkpoint);
        for (ShakeRecord s : sameShard) {
            restored.processElement(retry(s, ROUND_START + 20_000), ROUND_START + 20_000);
        }
        assertThat(restored.extractOutputValues()).as("an id of a full chunk was forgotten").isEmpty();
        assertThat(rejects(restored)).isEmpty();
        assertThat(((EventIdentity) restored.getOperator()).idsRemembered()).isEqualTo(sameShard.size());
    }

    /**
     * Rescaling 1 -> 2 -> 1 on RocksDB: each new subtask rebuilds its table from the key groups it now owns, so
     * every retry still meets the id it repeats, and nothing another subtask owns is kept.
     */
    @Test
    void shouldRememberEveryIdAcrossRescaling() throws Exception {
        var one = harness(null, 1, 0);
        List<ShakeRecord> sent = new ArrayList<>();
        for (long i = 0; i < 2_000; i++) {
            ShakeRecord s = shake(5_000 + i, i, ROUND_START + i);
            sent.add(s);
            one.processElement(s, s.event.gatewayTsMs);
        }
        OperatorSubtaskState atOne = checkpoint(one, 1);
        one.close();

        List<IdentityHarness> two = new ArrayList<>();
        for (int subtask = 0; subtask < 2; subtask++) {
            two.add(harness(AbstractStreamOperatorTestHarness.repartitionOperatorState(atOne, MAX_PARALLELISM, 1, 2,
                    subtask), 2, subtask));
        }
        List<ShakeRecord> moreSent = new ArrayList<>();
        for (ShakeRecord s : sent) {
            route(two, retry(s, ROUND_START + 30_000));
        }
        for (long i = 2_000; i < 3_000; i++) {
            ShakeRecord s = shake(5_000 + i, i, ROUND_START + 30_000 + i);
            moreSent.add(s);
            route(two, s);
        }
        List<Long> newAtTwo = new ArrayList<>();
        List<OperatorSubtaskState> atTwo = new ArrayList<>();
        for (var h : two) {
            h.extractOutputValues().forEach(r -> newAtTwo.add(r.event.eventIdLo));
            assertThat(rejects(h)).isEmpty();
            atTwo.add(checkpoint(h, 2));
            h.close();
        }
        assertThat(newAtTwo).as("only the ids never seen are new")
                .containsExactlyInAnyOrderElementsOf(LongStream.range(2_000, 3_000).boxed().toList());

        var backToOne = harness(AbstractStreamOperatorTestHarness.repartitionOperatorState(
                AbstractStreamOperatorTestHarness.repackageState(atTwo.toArray(new OperatorSubtaskState[0])),
                MAX_PARALLELISM, 2, 1, 0), 1, 0);
        sent.addAll(moreSent);
        for (ShakeRecord s : sent) {
            backToOne.processElement(retry(s, ROUND_START + 50_000), ROUND_START + 50_000);
        }
        assertThat(backToOne.extractOutputValues()).as("every id remembered after 1 -> 2 -> 1").isEmpty();
        assertThat(rejects(backToOne)).isEmpty();
    }

    /**
     * Every distinct shake is counted here; only the winners of the draw go on to the budget decision, and they
     * are exactly the ones the decider's own draw would pay.
     */
    @Test
    void shouldCountEveryDistinctShakeAndSendOnOnlyTheWinners() throws Exception {
        Round oneInTen = new Round(1, "tenth", ROUND_START, ROUND_END, ROUND_1.budgetFen(), 100_000,
                ROUND_1.winsPerRound(), ROUND_1.fenPerGala(), false, 0, ROUND_1.tiers());
        var h = identityHarness(List.of(oneInTen), null, 1, 0);
        PayoutDraw draw = SETTINGS.draw();
        List<Long> winners = new ArrayList<>();
        for (long i = 0; i < 2_000; i++) {
            ShakeRecord s = shake(10 + i % 50, i, ROUND_START + 1_000);
            if (PayoutDraw.wins(draw.draw(1, s.event.eventIdHi, i), 100_000)) {
                winners.add(i);
            }
            h.processElement(s, ROUND_START + 1_000);
            h.processElement(retry(s, ROUND_START + 2_000), ROUND_START + 2_000);
        }
        h.prepareSnapshotPreBarrier(1);

        assertThat(winners).hasSizeBetween(120, 280); // ~1 in 10 of 2,000
        assertThat(h.extractOutputValues()).extracting(r -> r.event.eventIdLo).containsExactlyElementsOf(winners);
        assertThat(h.extractOutputValues()).allSatisfy(r -> assertThat(r.raw).isNull());
        long counted = h.getSideOutput(EventIdentity.CELL_SUMS).stream()
                .mapToLong(r -> ((InteractionCount) r.getValue()).shakes).sum();
        assertThat(counted).isEqualTo(2_000);
    }

    private static int shardsInState(AbstractStreamOperatorTestHarness<ShakeRecord> h) {
        return ((EventIdentity) h.getOperator()).shardsInState();
    }

    private static void route(List<IdentityHarness> subtasks,
            ShakeRecord s) throws Exception {
        int shard = PayoutSettings.identityShardOf(s.event.eventIdHi, s.event.eventIdLo);
        int subtask = KeyGroupRangeAssignment.assignKeyToParallelOperator(shard, MAX_PARALLELISM, subtasks.size());
        subtasks.get(subtask).processElement(s, s.event.gatewayTsMs);
    }

    /** What Flink does at a checkpoint: the hook before the barrier, then the snapshot. */
    /**
     * The live schedule: a shake past the desk's promise waits, and is judged by the window in force when the
     * promise passes it, here extended meanwhile; without the change the same shake is out of its window.
     */
    @Test
    void shouldJudgeAShakePastThePromiseByTheWindowInForceWhenThePromisePassesIt() throws Exception {
        for (boolean extended : new boolean[] {true, false}) {
            var h = IdentityHarness.open(List.of(ROUND_1, ROUND_2), SETTINGS, null, 1, 0, ROUND_END - 20_000);
            ShakeRecord afterOldEnd = shake(100, 1, ROUND_END + 5_000);
            h.processElement(afterOldEnd, ROUND_END + 5_000);
            assertThat(h.shakesAwaiting()).as("waits for the promise").isEqualTo(1);
            assertThat(h.extractOutputValues()).isEmpty();
            assertThat(rejects(h)).isEmpty();

            if (extended) {
                h.rules(new RoundInForce(rescheduled(ROUND_1, ROUND_1.startsAtMs(), ROUND_END + 60_000),
                        ROUND_1.budgetFen()));
            }
            h.promise(ROUND_END + 30_000);

            assertThat(h.shakesAwaiting()).isZero();
            if (extended) {
                assertThat(h.extractOutputValues()).as("a shake of the extended window, new and drawn")
                        .extracting(r -> r.event.eventIdLo).containsExactly(1L);
                assertThat(rejects(h)).isEmpty();
            } else {
                assertThat(h.extractOutputValues()).isEmpty();
                assertThat(rejects(h)).containsExactly(RejectReason.OUT_OF_WINDOW);
            }
            h.close();
        }
    }

    @Test
    void shouldKeepTheShakesAwaitingThePromiseAcrossARestore() throws Exception {
        var h = IdentityHarness.open(List.of(ROUND_1, ROUND_2), SETTINGS, null, 1, 0, ROUND_START + 10_000);
        h.processElement(shake(100, 1, ROUND_START + 5_000), ROUND_START + 5_000); // judged at once
        h.processElement(shake(101, 2, ROUND_START + 15_000), ROUND_START + 15_000); // waits
        OperatorSubtaskState checkpoint = checkpoint(h, 1);
        h.close();

        var restored = IdentityHarness.open(List.of(ROUND_1, ROUND_2), SETTINGS, checkpoint, 1, 0, Long.MIN_VALUE);
        assertThat(restored.shakesAwaiting()).isEqualTo(1);
        restored.processElement(shake(102, 3, ROUND_START + 9_000), ROUND_START + 9_000); // below the restored promise
        assertThat(restored.extractOutputValues()).extracting(r -> r.event.eventIdLo).containsExactly(3L);
        restored.promise(ROUND_START + 20_000);

        assertThat(restored.shakesAwaiting()).isZero();
        assertThat(restored.extractOutputValues()).extracting(r -> r.event.eventIdLo).containsExactly(3L, 2L);
        restored.close();
    }

    @Test
    void shouldTakeTheShakesOfARoundAddedLiveAndNotBefore() throws Exception {
        var h = IdentityHarness.open(List.of(ROUND_1), SETTINGS, null, 1, 0, Long.MAX_VALUE);
        Round added = new Round(7, "round 7", ROUND_END, ROUND_END + 60_000, 500_000, ROUND_1.winPerMillion(),
                ROUND_1.winsPerRound(), ROUND_1.fenPerGala(), false, 1, ROUND_1.tiers());
        h.processElement(inRound(shake(100, 1, ROUND_END + 10), 7), ROUND_END + 10);
        h.rules(new RoundInForce(added, 500_000));
        h.processElement(inRound(shake(101, 2, ROUND_END + 20), 7), ROUND_END + 20);
        h.processWatermark(ROUND_END + 60_000 - 1); // round 7 closes at its own end
        h.processElement(inRound(shake(102, 3, ROUND_END + 30), 7), ROUND_END + 30);

        assertThat(rejects(h)).containsExactly(RejectReason.UNKNOWN_ROUND, RejectReason.LATE);
        assertThat(h.extractOutputValues()).extracting(r -> r.event.eventIdLo).containsExactly(2L);
        h.close();
    }

    private static Round rescheduled(Round r, long startsAt, long endsAt) {
        return new Round(r.roundId(), r.name(), startsAt, endsAt, r.budgetFen(), r.winPerMillion(), r.winsPerRound(),
                r.fenPerGala(), r.paused(), r.version() + 1, r.tiers());
    }

    private static ShakeRecord inRound(ShakeRecord r, int roundId) {
        ShakeEvent e = r.event;
        r.event = new ShakeEvent(e.eventIdHi, e.eventIdLo, e.userId, e.deviceId, roundId, e.channel, e.region,
                e.clientTsMs, e.gatewayTsMs, e.deviceSeq);
        return r;
    }

    private static OperatorSubtaskState checkpoint(AbstractStreamOperatorTestHarness<ShakeRecord> h, long id)
            throws Exception {
        h.prepareSnapshotPreBarrier(id);
        return h.snapshot(id, id);
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

    private static List<RejectReason> rejects(IdentityHarness h) {
        var out = h.getSideOutput(EventIdentity.REJECTED);
        return out == null ? List.of() : out.stream().map(r -> r.getValue().rejectReason).toList();
    }

    private static IdentityHarness harness(
            OperatorSubtaskState restore) throws Exception {
        return harness(restore, 1, 0);
    }

    private static IdentityHarness harness(
            OperatorSubtaskState restore, int parallelism, int subtask) throws Exception {
        return identityHarness(List.of(ROUND_1, ROUND_2), restore, parallelism, subtask);
    }

    /** EventIdentity keyed as in the pipeline, on RocksDB, opened (and restored from {@code restore} when given). */
    static IdentityHarness identityHarness(
            List<Round> rounds, OperatorSubtaskState restore, int parallelism, int subtask) throws Exception {
        return IdentityHarness.open(rounds, SETTINGS, restore, parallelism, subtask);
    }
}
