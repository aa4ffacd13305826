package io.hongbao.jobs.functions;

import static io.hongbao.jobs.functions.PayoutFixtures.ROUND_END;
import static io.hongbao.jobs.functions.PayoutFixtures.ROUND_START;
import static io.hongbao.jobs.functions.PayoutFixtures.change;
import static io.hongbao.jobs.functions.PayoutFixtures.round;
import static io.hongbao.jobs.functions.PayoutFixtures.settings;
import static io.hongbao.jobs.functions.PayoutFixtures.shake;
import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.money.LedgerEntry;
import io.hongbao.jobs.payout.OverflowCandidate;
import io.hongbao.money.Payout;
import io.hongbao.jobs.payout.PayoutSettings;
import io.hongbao.jobs.payout.RoundChange;
import io.hongbao.money.Round;
import io.hongbao.jobs.payout.ShardReport;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.junit.jupiter.api.Test;

class ShardPayoutDeciderTest {
    private static final long MANY = 1_000_000_000L;

    @Test
    void shouldRejectAShakeOfAClosedRoundAsLateInsteadOfPayingIt() throws Exception {
        var harness = harness(round(MANY, 1_000_000, 1000, 10, 1, MANY), settings(4, 0));

        harness.processElement(shake(100, 1, ROUND_START + 1), ROUND_START + 1);
        harness.processWatermark(ROUND_END - 1);
        harness.processElement(shake(101, 2, ROUND_END - 5), ROUND_END - 5);

        assertThat(values(harness.getSideOutput(ShardPayoutDecider.LATE)))
                .extracting(r -> r.rejectReason).containsExactly(io.hongbao.ingest.event.RejectReason.LATE);
        assertThat(payouts(harness)).extracting(PayoutFixtures::eventIdLo).containsExactly(1L);
    }

    @Test
    void shouldPayACappedUsersWinsInEventTimeOrderWhateverOrderTheyArriveIn() throws Exception {
        // Every shake wins; the user may win twice: the two earliest in event time are paid, however they arrive
        // (a shard hears from every identity subtask, so arrival order differs from run to run).
        List<Long> inOrder = new ArrayList<>();
        List<Long> reversed = new ArrayList<>();
        for (boolean reverse : new boolean[] {false, true}) {
            var harness = harness(round(MANY, 1_000_000, 1000, 10, 2, MANY), settings(4, 0));
            for (int i = 0; i < 6; i++) {
                int n = reverse ? 5 - i : i;
                harness.processElement(shake(42, 100 + n, ROUND_START + 10 * n), ROUND_START + 10 * n);
            }
            (reverse ? reversed : inOrder).addAll(payouts(harness).stream().map(PayoutFixtures::eventIdLo).toList());
        }
        assertThat(inOrder).containsExactly(100L, 101L);
        assertThat(reversed).isEqualTo(inOrder);
    }

    @Test
    void shouldDecideTheSameOnReplay() throws Exception {
        Round rules = round(MANY, 300_000, 1000, 10, 3, MANY);
        PayoutSettings settings = settings(4, 0);
        List<ShakeRecord> shakes = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            shakes.add(shake(i % 40, i, ROUND_START + i));
        }
        var whole = harness(rules, settings);
        shakes.forEach(s -> send(whole, s));
        whole.processWatermark(ROUND_END - 1);
        List<String> uninterrupted = decisions(whole);
        assertThat(uninterrupted.stream().filter(d -> d.startsWith("payout"))).hasSizeBetween(10, 110);

        // A checkpoint halfway, with winners still waiting for the watermark (state and timers), then a failure:
        // the task is restored from it and the source replays what came after it.
        var failed = harness(rules, settings);
        shakes.subList(0, 100).forEach(s -> send(failed, s));
        failed.processWatermark(ROUND_START + 50);
        assertThat(failed.winnersWaiting()).as("winners waiting at the checkpoint").isPositive();
        var checkpoint = failed.snapshot(1, 1);
        List<String> beforeCheckpoint = decisions(failed);
        shakes.subList(100, 150).forEach(s -> send(failed, s)); // lost with the failed task

        var restored = DeciderHarness.open(List.of(rules), settings, checkpoint);
        shakes.subList(100, 200).forEach(s -> send(restored, s));
        restored.processWatermark(ROUND_END - 1);

        List<String> replayed = new ArrayList<>(beforeCheckpoint);
        replayed.addAll(decisions(restored));
        assertThat(replayed).containsExactlyInAnyOrderElementsOf(uninterrupted);
    }

    /**
     * The round gauges after a restore, before any new shake of the round (a round already over gets none): the
     * paid fen and the budget both as checkpointed. With the budget at 0 the over-budget alert fired on every
     * restart (sum of paid above the max of the budgets).
     */
    @Test
    void shouldRestoreTheRoundGaugesBudgetWithItsPaidFen() throws Exception {
        Round rules = round(5_000_000, 1_000_000, 1000, 10, 1, MANY);
        PayoutSettings settings = settings(4, 0);
        var harness = harness(rules, settings);
        for (int user = 0; user < 20; user++) {
            send(harness, shake(user + 1, user, ROUND_START + user));
        }
        harness.processWatermark(ROUND_END - 1);
        long paid = payouts(harness).stream().mapToLong(Payout::amountFen).sum();
        assertThat(paid).as("paid in the round").isPositive();

        var restored = DeciderHarness.open(List.of(rules), settings, harness.snapshot(1, 1));
        ShardPayoutDecider decider = (ShardPayoutDecider) restored.getOperator();

        assertThat(decider.paidMetrics().paidFen(1)).as("paidFen gauge after the restore").isEqualTo(paid);
        assertThat(decider.paidMetrics().budgetFen(1)).as("budgetFen gauge after the restore")
                .isEqualTo(rules.budgetFen());
    }

    @Test
    void shouldDecideTheSameWhenRescaledAtACheckpoint() throws Exception {
        // 16 shards over 1 subtask, then 2, then 1 again: each shard's users, spending and waiting winners move
        // with its key group, so caps (2 wins a user, 300 small packets) and shares hold as in one run.
        Round rules = round(60_000, 500_000, 300, 10, 2, MANY);
        PayoutSettings settings = settings(16, 0);
        List<ShakeRecord> shakes = new ArrayList<>();
        for (int i = 0; i < 1_200; i++) {
            shakes.add(shake(i % 150, i, ROUND_START + 20 * i));
        }
        var whole = harness(rules, settings);
        shakes.forEach(s -> send(whole, s));
        whole.processWatermark(ROUND_END - 1);
        List<String> uninterrupted = decisions(whole);
        assertThat(uninterrupted.stream().filter(d -> d.startsWith("overflow"))).as("shares run out").isNotEmpty();

        var one = harness(rules, settings);
        shakes.subList(0, 400).forEach(s -> send(one, s));
        one.processWatermark(ROUND_START + 20 * 350);
        assertThat(one.winnersWaiting()).as("winners waiting at the checkpoint").isPositive();
        var atOne = one.snapshot(1, 1);
        List<String> replayed = new ArrayList<>(decisions(one));

        List<DeciderHarness> two = new ArrayList<>();
        for (int subtask = 0; subtask < 2; subtask++) {
            two.add(DeciderHarness.open(List.of(rules), settings, DeciderHarness.repartitionOperatorState(atOne,
                    DeciderHarness.MAX_PARALLELISM, 1, 2, subtask), 2, subtask));
        }
        for (ShakeRecord s : shakes.subList(400, 800)) {
            send(two.get(subtaskOf(settings, s, 2)), s);
        }
        List<org.apache.flink.runtime.checkpoint.OperatorSubtaskState> atTwo = new ArrayList<>();
        for (DeciderHarness h : two) {
            h.processWatermark(ROUND_START + 20 * 750);
            atTwo.add(h.snapshot(2, 2));
            replayed.addAll(decisions(h));
        }
        assertThat(two).allMatch(h -> h.shardsIn(ShardPayoutDecider.USERS_STATE) > 0);

        var back = DeciderHarness.open(List.of(rules), settings, DeciderHarness.repartitionOperatorState(
                org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness.repackageState(
                        atTwo.toArray(new org.apache.flink.runtime.checkpoint.OperatorSubtaskState[0])),
                DeciderHarness.MAX_PARALLELISM, 2, 1, 0), 1, 0);
        shakes.subList(800, 1_200).forEach(s -> send(back, s));
        back.processWatermark(ROUND_END - 1);
        replayed.addAll(decisions(back));

        assertThat(replayed).containsExactlyInAnyOrderElementsOf(uninterrupted);
    }

    private static int subtaskOf(PayoutSettings settings, ShakeRecord shake, int parallelism) {
        return org.apache.flink.runtime.state.KeyGroupRangeAssignment.assignKeyToParallelOperator(
                settings.shardOf(shake.event.userId), DeciderHarness.MAX_PARALLELISM, parallelism);
    }

    @Test
    void shouldForgetAClosedRoundAndKeepItClosedAfterARestore() throws Exception {
        Round rules = round(MANY, 1_000_000, 1000, 10, 1, MANY);
        PayoutSettings settings = settings(4, 0);
        var harness = harness(rules, settings);
        for (int user = 0; user < 20; user++) {
            send(harness, shake(user + 1, user, ROUND_START + user));
        }
        harness.processWatermark(ROUND_END - 1);

        assertThat(values(harness.getSideOutput(ShardPayoutDecider.SHARD_REPORTS))).hasSize(4);
        harness.snapshot(1, 1); // the books go to keyed state before the barrier
        assertThat(harness.shardsIn(ShardPayoutDecider.ROUNDS_STATE)).as("shard rounds after the close").isZero();
        assertThat(harness.shardsIn(ShardPayoutDecider.WAITING_STATE)).as("waiting winners after the close").isZero();
        assertThat(harness.winnersWaiting()).as("winners waiting after the close").isZero();
        // What stays is per user for the whole gala (the fen-per-gala cap), nothing of the round.
        assertThat(harness.shardsIn(ShardPayoutDecider.USERS_STATE)).isEqualTo(4);
        assertThat((long) harness.numKeyedStateEntries()).isEqualTo(harness.shardsIn(ShardPayoutDecider.USERS_STATE));

        // Restored after the close, before the watermark is back: a shake of the closed round is late, not paid.
        var restored = DeciderHarness.open(List.of(rules), settings, harness.snapshot(2, 2));
        send(restored, shake(999, 999, ROUND_END - 5));
        restored.processWatermark(ROUND_END + 1_000);

        assertThat(restored.extractOutputValues()).as("paid after the restore").isEmpty();
        assertThat(values(restored.getSideOutput(ShardPayoutDecider.LATE))).extracting(r -> r.rejectReason)
                .containsExactly(io.hongbao.ingest.event.RejectReason.LATE);
        assertThat(values(restored.getSideOutput(ShardPayoutDecider.SHARD_REPORTS))).as("second reports").isEmpty();
        restored.snapshot(3, 3);
        assertThat(restored.shardsIn(ShardPayoutDecider.ROUNDS_STATE)).isZero();
        assertThat(restored.winnersWaiting()).isZero();
    }

    private static void send(DeciderHarness h,
            ShakeRecord shake) {
        try {
            h.processElement(shake, shake.event.gatewayTsMs);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Payouts and shard reports so far, as comparable lines. */
    private static List<String> decisions(
            DeciderHarness h) {
        List<String> out = new ArrayList<>();
        h.extractOutputValues().forEach(p -> out.add("payout " + p.payoutId() + " " + p.tierId() + " " + p.amountFen()));
        values(h.getSideOutput(ShardPayoutDecider.OVERFLOW)).forEach(c -> out.add("overflow "
                + c.shake.event.eventIdLo + " " + c.tierId + " " + c.amountFen));
        values(h.getSideOutput(ShardPayoutDecider.SHARD_REPORTS)).forEach(r -> out.add("report " + r.shard + " "
                + r.spentFen + " " + java.util.Arrays.toString(r.paidPerTier)));
        return out;
    }

    @Test
    void shouldPayAUserAtMostWinsPerRound() throws Exception {
        var harness = harness(round(MANY, 1_000_000, 1000, 10, 2, MANY), settings(4, 0));

        for (int i = 0; i < 20; i++) {
            harness.processElement(shake(7, i, ROUND_START + i), ROUND_START + i);
        }

        assertThat(payouts(harness)).hasSize(2);
    }

    @Test
    void shouldPayAUserAtMostFenPerGala() throws Exception {
        var harness = harness(round(MANY, 1_000_000, 1000, 0, 100, 1_000), settings(4, 0));

        for (int i = 0; i < 50; i++) {
            harness.processElement(shake(7, i, ROUND_START + i), ROUND_START + i);
        }

        long paid = payouts(harness).stream().mapToLong(p -> p.amountFen()).sum();
        assertThat(paid).isLessThanOrEqualTo(1_000).isGreaterThan(1_000 - PayoutFixtures.SMALL_MIN);
    }

    @Test
    void shouldNeverPayMoreThanTheShardShareOrTierCap() throws Exception {
        long budget = 50_000;
        var harness = harness(round(budget, 1_000_000, 1000, 2, 1, MANY), settings(1, 0));

        for (int user = 0; user < 2_000; user++) {
            harness.processElement(shake(1_000 + user, user, ROUND_START + user), ROUND_START + user);
        }

        List<Payout> paid = payouts(harness);
        assertThat(paid.stream().mapToLong(p -> p.amountFen()).sum()).isLessThanOrEqualTo(budget)
                .isGreaterThan(budget - PayoutFixtures.SMALL_MAX);
        assertThat(paid.stream().filter(p -> p.tierId() == 2)).hasSizeLessThanOrEqualTo(2);
        // Winners past the share go to the sweeper, but only a bounded number of them.
        assertThat(values(harness.getSideOutput(ShardPayoutDecider.OVERFLOW)))
                .hasSize((int) settings(1, 0).overflowPerShard(round(budget, 1_000_000, 1000, 2, 1, MANY)));
    }

    @Test
    void shouldReportWhatTheShardSpentWhenTheRoundCloses() throws Exception {
        PayoutSettings settings = settings(8, 10_000);
        var harness = harness(round(MANY, 1_000_000, 1000, 10, 1, MANY), settings);
        for (int user = 0; user < 50; user++) {
            harness.processElement(shake(user + 1, user, ROUND_START + user), ROUND_START + user);
        }

        harness.processWatermark(ROUND_END - 1);
        harness.processElement(shake(999, 999, ROUND_END - 2), ROUND_END - 2); // late: round closed here

        List<ShardReport> reports = values(harness.getSideOutput(ShardPayoutDecider.SHARD_REPORTS));
        assertThat(reports).extracting(r -> r.shard).doesNotHaveDuplicates();
        assertThat(reports.stream().mapToLong(r -> r.spentFen).sum())
                .isEqualTo(payouts(harness).stream().mapToLong(p -> p.amountFen()).sum());
        // Every shake wins; a big packet drawn on a shard whose share of the 10 big packets is used up goes to
        // the sweeper instead of turning into a small one.
        List<OverflowCandidate> forwarded = values(harness.getSideOutput(ShardPayoutDecider.OVERFLOW));
        assertThat(payouts(harness).size() + forwarded.size()).isEqualTo(50);
        assertThat(forwarded).allSatisfy(c -> assertThat(c.tierId).isEqualTo(2));
    }

    @Test
    void shouldKeepTheTierMixWhenAShardHoldsNoPacketOfARareTier() throws Exception {
        // 64 shards share 10 big packets: most shards hold none. The draw still picks big about 1 time in 10,
        // and those winners go to the sweeper rather than being paid a small packet.
        PayoutSettings settings = settings(64, 10_000);
        var harness = harness(round(MANY, 1_000_000, MANY, 10, 10, MANY), settings);
        for (int user = 0; user < 2_000; user++) {
            harness.processElement(shake(user + 1, user, ROUND_START + user), ROUND_START + user);
        }

        long big = payouts(harness).stream().filter(p -> p.tierId() == 2).count()
                + values(harness.getSideOutput(ShardPayoutDecider.OVERFLOW)).stream().filter(c -> c.tierId == 2).count();
        assertThat(payouts(harness).size() + values(harness.getSideOutput(ShardPayoutDecider.OVERFLOW)).size())
                .isEqualTo(2_000);
        assertThat(big).as("big draws among 2,000 wins at weight 1 in 10").isBetween(140L, 260L);
    }

    @Test
    void shouldStopPayingWhilePausedAndLogTheChange() throws Exception {
        var harness = harness(round(MANY, 1_000_000, 1000, 10, 5, MANY), settings(4, 0));

        harness.processBroadcastElement(change("p1", RoundChange.Action.PAUSE, 0, ROUND_START), ROUND_START);
        harness.processElement(shake(1, 1, ROUND_START + 1), ROUND_START + 1);
        harness.processBroadcastElement(change("r1", RoundChange.Action.RESUME, 0, ROUND_START + 2), ROUND_START + 2);
        harness.processElement(shake(1, 2, ROUND_START + 3), ROUND_START + 3);

        assertThat(payouts(harness)).extracting(PayoutFixtures::eventIdLo).containsExactly(2L);
        assertThat(harness.changeLedger())
                .extracting(l -> l.kind()).containsExactly("PAUSED", "RESUMED");
        assertThat(harness.appliedRules())
                .extracting(r -> r.paused() + "@v" + r.version()).containsExactly("true@v1", "false@v2");
    }

    @Test
    void shouldRefuseToLowerARunningRoundBelowItsShardsShares() throws Exception {
        var harness = harness(round(1_000_000, 1_000_000, 1000, 10, 5, MANY), settings(4, 10_000));

        harness.processBroadcastElement(change("low", RoundChange.Action.SET_BUDGET, 500_000, ROUND_START + 5),
                ROUND_START + 5);
        harness.processBroadcastElement(change("ok", RoundChange.Action.SET_BUDGET, 995_000, ROUND_START + 6),
                ROUND_START + 6);
        harness.processBroadcastElement(change("up", RoundChange.Action.SET_BUDGET, 2_000_000, ROUND_START + 7),
                ROUND_START + 7);

        List<LedgerEntry> ledger = harness.changeLedger();
        assertThat(ledger).extracting(l -> l.kind()).containsExactly("CHANGE_REFUSED", "BUDGET_LOWERED", "BUDGET_RAISED");
        assertThat(ledger).extracting(l -> l.budgetFenAfter()).containsExactly(1_000_000L, 995_000L, 2_000_000L);
        assertThat(harness.getBroadcastState(ShardPayoutDecider.RULES).get(1).shardBaseFen()).isEqualTo(2_000_000L);
    }

    @Test
    void shouldNotLetABackdatedChangeLowerARoundBelowWhatItsShardsMayHavePaid() throws Exception {
        var harness = harness(round(1_000_000, 1_000_000, 1000, 10, 5, MANY), settings(4, 10_000));
        for (int i = 0; i < 40; i++) {
            harness.processElement(shake(i, i, ROUND_START + 1 + i), ROUND_START + 1 + i);
        }
        long paid = payouts(harness).stream().mapToLong(p -> p.amountFen()).sum();

        // The record's own timestamp says "a day before the round opened": the producer set it, so it proves nothing.
        harness.processBroadcastElement(change("back", RoundChange.Action.SET_BUDGET, 1_000, ROUND_START - 86_400_000L),
                ROUND_START + 100);

        assertThat(paid).as("the shards have paid").isPositive();
        List<LedgerEntry> ledger = harness.changeLedger();
        assertThat(ledger).extracting(l -> l.kind()).containsExactly("CHANGE_REFUSED");
        assertThat(harness.getBroadcastState(ShardPayoutDecider.RULES).get(1)).as("no rules changed").isNull();
    }

    /**
     * An operator resends a change (same change_id): one "change-<id>" line, whatever comes in between. Resent
     * after a later change, the old budget must not come back either.
     */
    @Test
    void shouldWriteEachChangeIdOnceWhenAnOperatorResendsIt() throws Exception {
        var harness = harness(round(1_000_000, 1_000_000, 1000, 10, 5, MANY), settings(4, 10_000));
        RoundChange raise = RoundChange.of("ops-1", 1, RoundChange.Action.SET_BUDGET, 2_000_000, ROUND_START, "control/0/0");
        RoundChange later = RoundChange.of("ops-2", 1, RoundChange.Action.SET_BUDGET, 3_000_000, ROUND_START, "control/0/1");
        RoundChange resent = RoundChange.of("ops-1", 1, RoundChange.Action.SET_BUDGET, 2_000_000, ROUND_START, "control/0/2");
        RoundChange reused = RoundChange.of("ops-2", 1, RoundChange.Action.PAUSE, 0, ROUND_START, "control/0/3");

        for (RoundChange c : List.of(raise, later, resent, reused)) {
            harness.processBroadcastElement(c, ROUND_START);
        }

        List<LedgerEntry> ledger = harness.changeLedger();
        assertThat(ledger).extracting(l -> l.entryId()).doesNotHaveDuplicates();
        assertThat(ledger).extracting(l -> l.entryId() + " " + l.kind()).containsExactly("change-ops-1 BUDGET_RAISED",
                "change-ops-2 BUDGET_RAISED", "change-ops-1/repeat/control/0/2 CHANGE_REPEATED",
                "change-ops-2/conflict/control/0/3 CHANGE_REFUSED");
        Round inForce = harness.getBroadcastState(ShardPayoutDecider.RULES).get(1).round();
        assertThat(inForce.budgetFen()).isEqualTo(3_000_000L);
        assertThat(inForce.paused()).isFalse();
        assertThat(harness.appliedRules()).hasSize(2);
    }

    static DeciderHarness harness(Round rules, PayoutSettings settings) throws Exception {
        return DeciderHarness.open(rules, settings);
    }

    /**
     * The payouts so far, once event time has caught up with the shakes sent (winners are decided in event-time
     * order when the watermark passes them), short of closing the round.
     */
    static List<Payout> payouts(DeciderHarness h)
            throws Exception {
        h.processWatermark(ROUND_END - 2);
        return h.extractOutputValues();
    }

    @SuppressWarnings("unchecked")
    static <T> List<T> values(java.util.Collection<StreamRecord<T>> records) {
        List<T> out = new ArrayList<>();
        Stream.ofNullable(records).flatMap(java.util.Collection::stream).filter(Objects::nonNull)
                .forEach(r -> out.add(r.getValue()));
        return out;
    }

}
