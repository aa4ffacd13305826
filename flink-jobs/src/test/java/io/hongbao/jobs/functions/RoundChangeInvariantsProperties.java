package io.hongbao.jobs.functions;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.jobs.functions.PayoutInvariantsProperties.Change;
import io.hongbao.jobs.functions.PayoutInvariantsProperties.Checkpoint;
import io.hongbao.jobs.functions.PayoutInvariantsProperties.Crash;
import io.hongbao.jobs.functions.PayoutInvariantsProperties.Run;
import io.hongbao.jobs.functions.PayoutInvariantsProperties.Shake;
import io.hongbao.jobs.functions.PayoutInvariantsProperties.Step;
import io.hongbao.jobs.functions.PayoutInvariantsProperties.Trial;
import io.hongbao.money.Payout;
import io.hongbao.jobs.payout.PayoutSettings;
import io.hongbao.jobs.payout.RoundChange;
import io.hongbao.jobs.payout.RoundRulebook;
import io.hongbao.jobs.payout.RoundInForce;
import io.hongbao.money.Round;
import io.hongbao.money.Tier;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;

/**
 * The money invariants when the round's config keeps changing: budgets raised and lowered (also below what
 * was paid, and before or after spending), pauses and resumes, interleaved with shakes, client retries,
 * checkpoints and crashes that replay everything since the last checkpoint (changes included), and changes
 * whose timestamps claim they were issued before the round opened. Beyond
 * {@link PayoutInvariantsProperties}, it checks the budget <em>at every checkpoint</em> against the budget in
 * force then (a lowered budget must never leave committed payouts above it), and that no shake first seen
 * while the round was paused is ever paid, by a shard or by the sweeper.
 */
class RoundChangeInvariantsProperties {

    @Property(tries = 100)
    void configChangesNeverLetARoundOverpay(@ForAll("trials") Trial trial, @ForAll("steps") List<Step> steps)
            throws Exception {
        Round initial = trial.rules();
        PayoutSettings settings = PayoutFixtures.settings(trial.shards(), trial.reservePerMillion());
        Run run = new Run(initial, settings);
        Map<Long, Boolean> pausedAtFirstSight = new HashMap<>();
        int refused = 0;
        int lowered = 0;
        for (Step generated : steps) {
            RoundInForce inForce = rulesAfter(initial, run.changes, settings);
            Step step = concrete(generated, inForce);
            if (step instanceof Shake s && (s.retryOf() < 0 || s.retryOf() >= run.sent.size())) {
                pausedAtFirstSight.put((long) run.sent.size(), inForce.round().paused()); // the next shake's event id
            }
            if (step instanceof Change c) {
                // A third of the changes claim a time a day before the round opened (a producer's wrong or lying
                // clock): the record's timestamp is producer-set, so no rule may let it lower what shards hold.
                long issuedAt = Math.floorMod(c.budgetFen(), 3) == 0 ? PayoutFixtures.ROUND_START - 86_400_000L
                        : run.clock;
                int n = run.changes.size();
                RoundChange change = RoundChange.of("c" + n, 1, c.action(), c.budgetFen(), issuedAt, "control/0/" + n);
                run.changes.add(change);
                run.feed(change);
            } else {
                run.apply(step);
            }
            if (step instanceof Change) {
                RoundChange change = run.changes.get(run.changes.size() - 1);
                RoundInForce after = RoundRulebook.apply(inForce, change, settings.reservePerMillion()).rules();
                refused += after == null ? 1 : 0;
                lowered += after != null && after.round().budgetFen() < inForce.round().budgetFen() ? 1 : 0;
            }
            if (step instanceof Checkpoint) {
                assertThat(fen(run.committedPayouts)).as("paid at checkpoint %d against the budget in force",
                        run.checkpointId).isLessThanOrEqualTo(rulesAfter(initial, run.changes, settings).round().budgetFen());
            }
        }
        run.closeRound();
        List<Payout> paid = new ArrayList<>(run.committedPayouts);
        paid.addAll(run.sweep());
        Round last = rulesAfter(initial, run.changes, settings).round();
        Statistics.label("budget changes refused").collect(refused > 0);
        Statistics.label("budget lowered").collect(lowered > 0);
        Statistics.label("paused at the end").collect(last.paused());
        Statistics.label("crashes").collect(run.crashes > 0);

        assertThat(fen(paid)).as("paid against the final budget").isLessThanOrEqualTo(last.budgetFen());
        for (Tier tier : initial.tiers()) {
            List<Payout> inTier = paid.stream().filter(p -> p.tierId() == tier.tierId()).toList();
            assertThat(inTier).hasSizeLessThanOrEqualTo((int) Math.min(Integer.MAX_VALUE, tier.countCap()));
            assertThat(inTier).allSatisfy(p -> assertThat(p.amountFen()).isBetween(tier.minFen(), tier.maxFen()));
        }
        for (List<Payout> wins : paid.stream().collect(Collectors.groupingBy(p -> p.userId())).values()) {
            assertThat(wins).hasSizeLessThanOrEqualTo(initial.winsPerRound());
            assertThat(fen(wins)).isLessThanOrEqualTo(initial.fenPerGala());
        }
        assertThat(paid.stream().map(Payout::payoutId).distinct().count()).as("no shake paid twice")
                .isEqualTo(paid.size());
        for (Payout p : paid) {
            assertThat(pausedAtFirstSight).as("payout %s is for a shake that was sent", p.payoutId())
                    .containsKey(PayoutFixtures.eventIdLo(p));
            assertThat(pausedAtFirstSight.get(PayoutFixtures.eventIdLo(p))).as("payout %s for a shake first seen while paused",
                    p.payoutId()).isFalse();
        }
    }

    /**
     * A generated budget below zero means "lower to that many per mille of the budget in force", which lands in
     * the band a running round may still be lowered into (above what its shards hold) far more often than an
     * absolute figure would.
     */
    private static Step concrete(Step step, RoundInForce inForce) {
        if (step instanceof Change c && c.action() == RoundChange.Action.SET_BUDGET && c.budgetFen() < 0) {
            return new Change(RoundChange.Action.SET_BUDGET, Math.max(1, inForce.round().budgetFen() * -c.budgetFen() / 1000));
        }
        return step;
    }

    /** The rules after the changes, as the rulebook applies them (a refused change leaves them as they were). */
    private static RoundInForce rulesAfter(Round initial, List<RoundChange> changes, PayoutSettings settings) {
        RoundInForce rules = RoundInForce.configured(initial);
        for (RoundChange change : changes) {
            RoundRulebook.Outcome outcome = RoundRulebook.apply(rules, change, settings.reservePerMillion());
            rules = outcome.rules() != null ? outcome.rules() : rules;
        }
        return rules;
    }

    private static long fen(List<Payout> payouts) {
        return payouts.stream().mapToLong(p -> p.amountFen()).sum();
    }

    @Provide
    Arbitrary<Trial> trials() {
        return new PayoutInvariantsProperties().trials();
    }

    /** More changes than in the general property, and budgets around the trial's (1,000 to 60,000 fen). */
    @Provide
    Arbitrary<List<Step>> steps() {
        Arbitrary<Step> shake = Combinators.combine(Arbitraries.integers().between(0, 29),
                Arbitraries.integers().between(-1, 60).map(i -> i < 50 ? -1 : i - 50)).as(Shake::new);
        Arbitrary<Step> budget = Arbitraries.oneOf(Arbitraries.longs().between(1, 2_000),
                Arbitraries.longs().between(1_000, 60_000), Arbitraries.longs().between(60_000, 200_000),
                Arbitraries.longs().between(-999, -700)) // relative: see concrete()
                .map(fen -> new Change(RoundChange.Action.SET_BUDGET, fen));
        Arbitrary<Step> pause = Arbitraries.of(new Change(RoundChange.Action.PAUSE, 0),
                new Change(RoundChange.Action.RESUME, 0));
        return Arbitraries.frequencyOf(
                Tuple.of(60, shake),
                Tuple.of(10, budget),
                Tuple.of(8, pause),
                Tuple.of(10, Arbitraries.just(new Checkpoint())),
                Tuple.of(5, Arbitraries.just(new Crash())))
                .list().ofMinSize(30).ofMaxSize(250);
    }
}
