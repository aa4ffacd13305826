package io.hongbao.jobs.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.ingest.event.Channel;
import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.ingest.profile.GalaProfile;
import io.hongbao.ingest.testing.Datasets;
import io.hongbao.jobs.functions.ControlWatermarks;
import io.hongbao.jobs.functions.ShakeWatermarks;
import io.hongbao.money.Payout;
import io.hongbao.jobs.payout.PayoutSettings;
import io.hongbao.jobs.payout.RoundChange;
import io.hongbao.money.Round;
import io.hongbao.money.Tier;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Pattern;
import java.util.stream.LongStream;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Demand far above supply at parallelism 2: the budget drains to within 0.01% and never past it, and the
 * job's own metrics tell the same story as its output.
 */
class PayoutPipelineDrainITCase {
    private static final InMemoryReporter METRICS = InMemoryReporter.createWithRetainedMetrics();

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setConfiguration(METRICS.addToConfiguration(new Configuration()))
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(2)
            .build());

    private static final GalaProfile TINY = GalaProfile.load(Datasets.file("tiny.yaml"));
    private static final long BUDGET = 5_000_000;
    private static final int WINNERS = 100_000;

    @Test
    void shouldDrainTheBudgetToWithinOneTenThousandthAndNeverPastIt() throws Exception {
        Round profile = TINY.roundConfig(TINY.round(1));
        Round round = new Round(profile.roundId(), profile.name(), profile.startsAtMs(), profile.endsAtMs(), BUDGET,
                1_000_000, 1, profile.fenPerGala(), false, 0, List.of(new Tier(1, "small", 100, 888, 1_000_000, 95),
                        new Tier(2, "big", 8_888, 8_888, 40, 5)));
        PayoutSettings settings = new PayoutSettings(64, 10_000, 1L, 2L);

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        DataStream<ShakeRecord> shakes = env.fromData(shakes(round)).assignTimestampsAndWatermarks(
                ShakeWatermarks.strategy(TINY.windows(), Duration.ofMillis(500), Duration.ZERO));
        DataStream<RoundChange> noChanges = env.fromSequence(0, 0).filter(x -> false)
                .map(x -> new RoundChange()).returns(RoundChange.class)
                .assignTimestampsAndWatermarks(ControlWatermarks.neverHoldBack());
        PayoutPipeline.Outputs outputs = PayoutPipeline.build(shakes, noChanges, List.of(round), TINY.windows(),
                settings);

        List<Payout> payouts = new ArrayList<>();
        List<Payout> swept = new ArrayList<>();
        JobID job;
        try (CloseableIterator<Payout> collected = outputs.payouts().collectAsync();
                CloseableIterator<Payout> collectedSwept = outputs.sweptPayouts().collectAsync()) {
            job = env.executeAsync("drain").getJobID();
            // Both collections are drained at once: one left unread would hold the job back.
            var sweptDone = java.util.concurrent.CompletableFuture.runAsync(() -> collectedSwept.forEachRemaining(swept::add));
            collected.forEachRemaining(payouts::add);
            sweptDone.join();
        }

        long paid = payouts.stream().mapToLong(p -> p.amountFen()).sum();
        System.out.printf("drain: %,d winners, %,d paid (%,d by the sweeper), %,d of %,d fen paid, %,d unspent%n",
                WINNERS, payouts.size(), swept.size(), paid,
                BUDGET, BUDGET - paid);
        assertThat(paid).isLessThanOrEqualTo(BUDGET);
        assertThat(BUDGET - paid).as("unspent fen").isLessThan(BUDGET / 10_000);
        assertThat(payouts.stream().map(Payout::payoutId).distinct()).hasSize(payouts.size());
        assertThat(payouts.stream().filter(p -> p.tierId() == 2)).hasSizeLessThanOrEqualTo(40);
        assertThat(swept).isNotEmpty();
        assertThat(payouts).containsAll(swept);
        assertThat(new HashSet<>(payouts.stream().map(p -> p.userId()).toList())).hasSize(payouts.size());

        assertThat(sum(job, ".hongbao.round.1.paidFen")).as("paidFen gauges, all subtasks").isEqualTo(paid);
        assertThat(max(job, ".hongbao.round.1.budgetFen")).isEqualTo(BUDGET);
        assertThat(sum(job, ".hongbao.shakes")).as("shakes decided").isEqualTo(WINNERS);
        assertThat(sum(job, ".hongbao.wins")).as("won at the shards")
                .isEqualTo(payouts.size() - swept.size());
    }

    private static long sum(JobID job, String suffix) {
        return figures(job, suffix).sum();
    }

    private static long max(JobID job, String suffix) {
        return figures(job, suffix).max().orElse(-1);
    }

    private static LongStream figures(JobID job, String suffix) {
        Map<String, Metric> found = METRICS.findMetrics(job, Pattern.quote(suffix) + "$");
        assertThat(found).as("metrics ending in %s", suffix).isNotEmpty();
        return found.values().stream().mapToLong(m -> m instanceof Counter c ? c.getCount()
                : ((Number) ((Gauge<?>) m).getValue()).longValue());
    }

    private static List<ShakeRecord> shakes(Round round) {
        SplittableRandom random = new SplittableRandom(5);
        List<ShakeRecord> out = new ArrayList<>(WINNERS);
        long span = round.endsAtMs() - round.startsAtMs();
        for (int i = 0; i < WINNERS; i++) {
            long ts = round.startsAtMs() + (span * i) / WINNERS;
            long user = 100_000_000L + i;
            ShakeRecord r = new ShakeRecord();
            r.event = new ShakeEvent(random.nextLong() | 1, random.nextLong() | 1, user, user * 3, round.roundId(),
                    Channel.ANDROID, "CN-GD", ts - 10, ts, i + 1);
            r.topic = "shakes";
            r.partition = i % 4;
            r.offset = i / 4;
            out.add(r);
        }
        return out;
    }
}
