package io.hongbao.jobs.functions;

import static io.hongbao.jobs.functions.PayoutFixtures.ROUND_END;
import static io.hongbao.jobs.functions.PayoutFixtures.ROUND_START;
import static io.hongbao.jobs.functions.PayoutFixtures.keyedStateEntries;
import static io.hongbao.jobs.functions.PayoutFixtures.round;
import static io.hongbao.jobs.functions.PayoutFixtures.settings;
import static io.hongbao.jobs.functions.PayoutFixtures.shake;
import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.money.LedgerEntry;
import io.hongbao.jobs.payout.OverflowCandidate;
import io.hongbao.money.Payout;
import io.hongbao.jobs.payout.RoundInForce;
import io.hongbao.money.Round;
import io.hongbao.jobs.payout.ShardReport;
import io.hongbao.jobs.payout.SweepInput;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

class RoundSweeperTest {
    private static final long MANY = 1_000_000_000L;

    @Test
    void shouldPayTheOverflowInEventTimeOrderFromWhatTheShardsLeft() throws Exception {
        Round rules = round(10_000, 1_000_000, 100, 10, 1, MANY);
        var harness = harness(rules);

        // Shards spent 8,000 of 10,000 fen: 2,000 remain for the sweeper.
        harness.processElement(SweepInput.of(ShardReport.of(1, 0, 5_000, new long[] {10, 0})), ROUND_END - 1);
        harness.processElement(SweepInput.of(ShardReport.of(1, 1, 3_000, new long[] {6, 0})), ROUND_END - 1);
        harness.processElement(candidate(3, 30, 800), ROUND_START + 30);
        harness.processElement(candidate(1, 10, 800), ROUND_START + 10);
        harness.processElement(candidate(2, 20, 800), ROUND_START + 20);
        harness.processElement(candidate(4, 40, 300), ROUND_START + 40);
        harness.processWatermark(ROUND_END - 1);

        List<Payout> paid = harness.extractOutputValues();
        assertThat(paid).extracting(p -> p.userId()).containsExactly(1L, 2L, 4L);
        List<LedgerEntry> ledger = ShardPayoutDeciderTest.values(harness.getSideOutput(ShardPayoutDecider.LEDGER));
        assertThat(ledger).singleElement().satisfies(l -> {
            assertThat(l.kind()).isEqualTo("SWEPT");
            assertThat(l.detail()).contains("unspent 100 fen");
        });
    }

    @Test
    void shouldRespectWhatIsLeftOfATierCap() throws Exception {
        var harness = harness(round(MANY, 1_000_000, 100, 2, 1, MANY));

        harness.processElement(SweepInput.of(ShardReport.of(1, 0, 8_888, new long[] {0, 1})), ROUND_END - 1);
        harness.processElement(bigCandidate(1, 10), ROUND_START + 10);
        harness.processElement(bigCandidate(2, 20), ROUND_START + 20);
        harness.processWatermark(ROUND_END - 1);

        assertThat(harness.extractOutputValues()).extracting(p -> p.userId()).containsExactly(1L);
    }

    @Test
    void shouldPayNothingAfterTheSweep() throws Exception {
        var harness = harness(round(MANY, 1_000_000, 100, 2, 1, MANY));
        harness.processElement(candidate(1, 10, 500), ROUND_START + 10);
        harness.processWatermark(ROUND_END - 1);

        harness.processElement(candidate(2, 20, 500), ROUND_START + 20);
        harness.processWatermark(ROUND_END + 1000);

        assertThat(harness.extractOutputValues()).extracting(p -> p.userId()).containsExactly(1L);
    }

    @Test
    void shouldForgetASweptRoundAndNeverSweepItAgainAfterARestore() throws Exception {
        Round rules = round(10_000, 1_000_000, 100, 10, 1, MANY);
        var harness = harness(rules);
        harness.processElement(SweepInput.configured(1), ROUND_START);
        harness.processElement(SweepInput.of(ShardReport.of(1, 0, 5_000, new long[] {10, 0})), ROUND_END - 1);
        harness.processElement(candidate(1, 10, 800), ROUND_START + 10);
        harness.processWatermark(ROUND_END - 1);

        assertThat(harness.extractOutputValues()).extracting(p -> p.userId()).containsExactly(1L);
        assertThat(keyedStateEntries(harness)).as("keyed state after the sweep").isZero();
        assertThat(harness.numEventTimeTimers()).as("timers after the sweep").isZero();

        // Restored from a checkpoint taken after the sweep: the watermark starts again from nothing, and a copy of a
        // candidate, a report and the announcement arrive before it is back. None of them opens the round again.
        var restored = PayoutFixtures.restored(new RoundSweeper(List.of(rules), settings(4, 10_000)),
                SweepInput::roundId, harness.snapshot(1, 1));
        restored.processElement(SweepInput.configured(1), ROUND_START);
        restored.processElement(candidate(2, 20, 800), ROUND_START + 20);
        restored.processElement(SweepInput.of(ShardReport.of(1, 1, 0, new long[] {0, 0})), ROUND_END - 1);
        assertThat(keyedStateEntries(restored)).as("keyed state after the restore").isZero();
        assertThat(restored.numEventTimeTimers()).as("timers after the restore").isZero();
        restored.processWatermark(ROUND_END + 1_000);

        assertThat(restored.extractOutputValues()).as("paid after the restore").isEmpty();
        assertThat(ShardPayoutDeciderTest.values(restored.getSideOutput(ShardPayoutDecider.LEDGER)))
                .as("a second SWEPT line").isEmpty();
    }

    private static SweepInput candidate(long user, long eventLo, long amount) {
        return SweepInput.of(OverflowCandidate.of(shake(user, eventLo, ROUND_START + eventLo), 1, amount));
    }

    private static SweepInput bigCandidate(long user, long eventLo) {
        return SweepInput.of(OverflowCandidate.of(shake(user, eventLo, ROUND_START + eventLo), 2,
                PayoutFixtures.BIG));
    }

    private static KeyedBroadcastOperatorTestHarness<Integer, SweepInput, RoundInForce, Payout> harness(
            Round rules) throws Exception {
        var harness = ProcessFunctionTestHarnesses.forKeyedBroadcastProcessFunction(
                new RoundSweeper(List.of(rules), settings(4, 10_000)), SweepInput::roundId, Types.INT,
                ShardPayoutDecider.RULES);
        harness.processBroadcastWatermark(Long.MAX_VALUE);
        return harness;
    }
}
