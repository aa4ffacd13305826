package io.hongbao.jobs.functions;

import static io.hongbao.jobs.functions.PayoutFixtures.ROUND_END;
import static io.hongbao.jobs.functions.PayoutFixtures.ROUND_START;
import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.jobs.payout.OverflowCandidate;
import io.hongbao.money.Payout;
import io.hongbao.jobs.payout.PayoutSettings;
import io.hongbao.jobs.payout.RoundChange;
import io.hongbao.jobs.payout.RoundRulebook;
import io.hongbao.jobs.payout.RoundInForce;
import io.hongbao.money.Round;
import io.hongbao.jobs.payout.ShardReport;
import io.hongbao.jobs.payout.SweepInput;
import io.hongbao.money.Tier;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;

/**
 * The money invariants under random traffic: shakes from a small crowd (so caps bite), client retries, live
 * budget changes and pauses, checkpoints, and crashes that restore the last checkpoint and replay what came
 * after it, discarding output no checkpoint committed (as the two-phase-commit sink does). Whatever happens,
 * a round never pays more than its budget, a tier more than its cap, a user more than the user caps, and a
 * shake at most once.
 */
class PayoutInvariantsProperties {

    /** One thing that happens to the job. */
    sealed interface Step permits Shake, Change, Checkpoint, Crash {}

    /** A shake by {@code user}; {@code retryOf >= 0} resends an earlier shake's event id. */
    record Shake(int user, int retryOf) implements Step {}

    record Change(RoundChange.Action action, long budgetFen) implements Step {}

    record Checkpoint() implements Step {}

    record Crash() implements Step {}

    /** Round config and knobs of one trial. */
    record Trial(long budgetFen, int winPerMillion, long smallCap, long bigCap, int winsPerRound, long fenPerGala,
            int shards, int reservePerMillion) {
        Round rules() {
            return PayoutFixtures.round(budgetFen, winPerMillion, smallCap, bigCap, winsPerRound, fenPerGala);
        }
    }

    @Property(tries = 300)
    void neverOverpaysAnyCapAndNeverPaysAShakeTwice(@ForAll("trials") Trial trial,
            @ForAll("steps") List<Step> steps) throws Exception {
        Round initial = trial.rules();
        PayoutSettings settings = PayoutFixtures.settings(trial.shards(), trial.reservePerMillion());
        Run run = new Run(initial, settings);
        for (Step step : steps) {
            run.apply(step);
        }
        run.closeRound();
        List<Payout> paid = new ArrayList<>(run.committedPayouts);
        List<Payout> swept = run.sweep();
        paid.addAll(swept);
        net.jqwik.api.statistics.Statistics.label("sweeper paid").collect(!swept.isEmpty());
        net.jqwik.api.statistics.Statistics.label("crashes replayed").collect(run.crashes > 0);
        net.jqwik.api.statistics.Statistics.label("users capped").collect(
                paid.stream().collect(java.util.stream.Collectors.groupingBy(p -> p.userId())).values().stream()
                        .anyMatch(w -> w.size() == initial.winsPerRound()));

        RoundInForce last = RoundInForce.configured(initial);
        for (RoundChange change : run.changes) {
            RoundRulebook.Outcome outcome = RoundRulebook.apply(last, change, settings.reservePerMillion());
            last = outcome.rules() != null ? outcome.rules() : last;
        }
        assertThat(paid.stream().mapToLong(p -> p.amountFen()).sum()).isLessThanOrEqualTo(last.round().budgetFen());
        for (Tier tier : initial.tiers()) {
            assertThat(paid.stream().filter(p -> p.tierId() == tier.tierId()).count()).isLessThanOrEqualTo(tier.countCap());
            paid.stream().filter(p -> p.tierId() == tier.tierId())
                    .forEach(p -> assertThat(p.amountFen()).isBetween(tier.minFen(), tier.maxFen()));
        }
        Map<Long, List<Payout>> byUser = new HashMap<>();
        paid.forEach(p -> byUser.computeIfAbsent(p.userId(), u -> new ArrayList<>()).add(p));
        byUser.values().forEach(wins -> {
            assertThat(wins).hasSizeLessThanOrEqualTo(initial.winsPerRound());
            assertThat(wins.stream().mapToLong(p -> p.amountFen()).sum()).isLessThanOrEqualTo(initial.fenPerGala());
        });
        assertThat(paid.stream().map(Payout::payoutId).distinct().count()).isEqualTo(paid.size());
        assertThat(paid).allSatisfy(p -> assertThat(run.shakesSent).contains(PayoutFixtures.eventIdLo(p)));
    }

    @Provide
    Arbitrary<Trial> trials() {
        return Combinators.combine(
                Arbitraries.longs().between(1_000, 60_000),
                Arbitraries.integers().between(100_000, 1_000_000),
                Arbitraries.longs().between(1, 300),
                Arbitraries.longs().between(0, 5),
                Arbitraries.integers().between(1, 4),
                Arbitraries.longs().between(500, 50_000),
                Arbitraries.integers().between(1, 8),
                Arbitraries.of(0, 10_000, 200_000))
                .as(Trial::new);
    }

    @Provide
    Arbitrary<List<Step>> steps() {
        Arbitrary<Step> shake = Combinators.combine(Arbitraries.integers().between(0, 29),
                Arbitraries.integers().between(-1, 60).map(i -> i < 45 ? -1 : i - 45))
                .as(Shake::new);
        Arbitrary<Step> change = Combinators.combine(
                Arbitraries.of(RoundChange.Action.class),
                Arbitraries.longs().between(500, 300_000)).as(Change::new);
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(80, shake),
                net.jqwik.api.Tuple.of(4, change),
                net.jqwik.api.Tuple.of(8, Arbitraries.just(new Checkpoint())),
                net.jqwik.api.Tuple.of(5, Arbitraries.just(new Crash())))
                .list().ofMinSize(30).ofMaxSize(300);
    }

    /** The decider under test with checkpoint/crash/replay bookkeeping. */
    static final class Run {
        final Round initial;
        final PayoutSettings settings;
        final List<Payout> committedPayouts = new ArrayList<>();
        final List<OverflowCandidate> committedOverflow = new ArrayList<>();
        final List<ShardReport> committedReports = new ArrayList<>();
        final List<RoundChange> changes = new ArrayList<>();
        final Set<Long> shakesSent = new HashSet<>();
        final List<Object> sinceCheckpoint = new ArrayList<>();
        final List<ShakeRecord> sent = new ArrayList<>();
        DeciderHarness harness;
        /** EventIdentity, the stage in front of the decider in the pipeline: retries stop there. */
        IdentityHarness identity;
        OperatorSubtaskState checkpoint;
        OperatorSubtaskState identityCheckpoint;
        /** This run's event time; a restore starts it over, as a restored job's is. */
        long watermark = Long.MIN_VALUE;
        long checkpointId;
        long clock = ROUND_START;
        int crashes;

        Run(Round initial, PayoutSettings settings) throws Exception {
            this.initial = initial;
            this.settings = settings;
            this.harness = open(null);
            this.identity = openIdentity(null);
        }

        void apply(Step step) throws Exception {
            if (step instanceof Shake s) {
                clock += 37;
                ShakeRecord shake;
                if (s.retryOf() >= 0 && s.retryOf() < sent.size()) {
                    shake = sent.get(s.retryOf());
                } else {
                    shake = PayoutFixtures.shake(1_000 + s.user(), sent.size(), clock);
                    sent.add(shake);
                    shakesSent.add(shake.event.eventIdLo);
                }
                feed(shake);
            } else if (step instanceof Change c) {
                RoundChange change = PayoutFixtures.change("c" + changes.size(), c.action(), c.budgetFen(), clock);
                changes.add(change);
                feed(change);
            } else if (step instanceof Checkpoint) {
                checkpoint();
            } else {
                crashes++;
                harness.close();
                harness = open(checkpoint);
                identity.close();
                identity = openIdentity(identityCheckpoint);
                watermark = Long.MIN_VALUE;
                for (Object replayed : new ArrayList<>(sinceCheckpoint)) {
                    process(replayed);
                }
            }
        }

        void feed(Object input) throws Exception {
            sinceCheckpoint.add(input);
            process(input);
        }

        void process(Object input) throws Exception {
            if (input instanceof ShakeRecord shake) {
                identity.processElement(shake, shake.event.gatewayTsMs);
                for (ShakeRecord distinct : identity.extractOutputValues()) {
                    harness.processElement(distinct, distinct.event.gatewayTsMs);
                }
                identity.getOutput().clear();
                // Event time follows the shakes (a bound of 100 ms), so winners are decided as the run goes,
                // interleaved with changes, checkpoints and crashes, not all at the round's end.
                long next = Math.min(shake.event.gatewayTsMs - 100, ROUND_END - 2);
                if (next > watermark) { // watermarks only rise, as Flink's input valve makes them
                    watermark = next;
                    identity.processWatermark(watermark);
                    harness.processWatermark(watermark);
                }
            } else {
                harness.processBroadcastElement((RoundChange) input, clock);
            }
        }

        void checkpoint() throws Exception {
            checkpoint = harness.snapshot(++checkpointId, clock);
            identity.prepareSnapshotPreBarrier(checkpointId);
            identityCheckpoint = identity.snapshot(checkpointId, clock);
            committedPayouts.addAll(harness.extractOutputValues());
            committedOverflow.addAll(ShardPayoutDeciderTest.values(harness.getSideOutput(ShardPayoutDecider.OVERFLOW)));
            committedReports.addAll(
                    ShardPayoutDeciderTest.values(harness.getSideOutput(ShardPayoutDecider.SHARD_REPORTS)));
            harness.getOutput().clear();
            clear(harness.getSideOutput(ShardPayoutDecider.OVERFLOW));
            clear(harness.getSideOutput(ShardPayoutDecider.SHARD_REPORTS));
            sinceCheckpoint.clear();
        }

        void closeRound() throws Exception {
            harness.processWatermark(ROUND_END - 1);
            checkpoint();
            harness.close();
            identity.close();
        }

        List<Payout> sweep() throws Exception {
            var sweeper = ProcessFunctionTestHarnessesAccess.sweeper(initial, settings);
            var desk = ChangeDeskHarness.open(List.of(initial), settings, Long.MAX_VALUE, null);
            for (RoundChange change : changes) {
                for (RoundInForce rules : desk.decide(change)) {
                    sweeper.processBroadcastElement(rules, change.issuedAtMs);
                }
            }
            desk.close();
            for (OverflowCandidate c : committedOverflow) {
                sweeper.processElement(SweepInput.of(c), c.shake.event.gatewayTsMs);
            }
            for (ShardReport r : committedReports) {
                sweeper.processElement(SweepInput.of(r), ROUND_END - 1);
            }
            sweeper.processWatermark(ROUND_END - 1);
            List<Payout> paid = sweeper.extractOutputValues();
            sweeper.close();
            return paid;
        }

        private DeciderHarness open(OperatorSubtaskState restore) throws Exception {
            return DeciderHarness.open(List.of(initial), settings, restore);
        }

        private IdentityHarness openIdentity(
                OperatorSubtaskState restore) throws Exception {
            return EventIdentityTest.identityHarness(List.of(initial), restore, 1, 0);
        }

        private static void clear(java.util.Collection<?> queue) {
            if (queue != null) {
                queue.clear();
            }
        }
    }

    /** Builds the sweeper harness the same way the sweeper tests do. */
    static final class ProcessFunctionTestHarnessesAccess {
        private ProcessFunctionTestHarnessesAccess() {}

        static KeyedBroadcastOperatorTestHarness<Integer, SweepInput, RoundInForce, Payout> sweeper(
                Round rules, PayoutSettings settings) throws Exception {
            var h = org.apache.flink.streaming.util.ProcessFunctionTestHarnesses.forKeyedBroadcastProcessFunction(
                    new RoundSweeper(List.of(rules), settings), SweepInput::roundId, Types.INT,
                    ShardPayoutDecider.RULES);
            h.processBroadcastWatermark(Long.MAX_VALUE);
            return h;
        }
    }
}
