package io.hongbao.jobs.counting;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.settlement.analytics.InteractionCount;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

class InteractionCounterTest {
    private static final long MINUTE = 1_764_000_000_000L / 60_000L * 60_000L;

    @Test
    void shouldAddPartialSumsPerRoundMinuteChannelAndRegion() throws Exception {
        KeyedOneInputStreamOperatorTestHarness<String, InteractionCount, InteractionCount> harness = harness();
        harness.open();

        harness.processElement(sum(1, MINUTE, "ios", "CN-11", 2), 1);
        harness.processElement(sum(1, MINUTE + 60_000, "ios", "CN-11", 1), 3); // next minute
        harness.processElement(sum(1, MINUTE, "tv", "CN-11", 1), 4); // other channel
        harness.processElement(sum(1, MINUTE, "ios", "CN-31", 1), 5); // other region
        harness.processElement(sum(2, MINUTE, "ios", "CN-11", 1), 6); // other round
        harness.processElement(sum(1, MINUTE, "ios", "CN-11", 5), 7);

        assertThat(harness.extractOutputValues()).containsExactly(
                new InteractionCount(1, MINUTE, "ios", "CN-11", 2),
                new InteractionCount(1, MINUTE + 60_000, "ios", "CN-11", 1),
                new InteractionCount(1, MINUTE, "tv", "CN-11", 1),
                new InteractionCount(1, MINUTE, "ios", "CN-31", 1),
                new InteractionCount(2, MINUTE, "ios", "CN-11", 1),
                new InteractionCount(1, MINUTE, "ios", "CN-11", 7));
    }

    @Test
    void shouldContinueFromTheCheckpointAfterARestore() throws Exception {
        KeyedOneInputStreamOperatorTestHarness<String, InteractionCount, InteractionCount> first = harness();
        first.open();
        first.processElement(sum(1, MINUTE, "h5", "CN-44", 1), 1);
        first.processElement(sum(1, MINUTE, "h5", "CN-44", 1), 2);
        OperatorSubtaskState checkpoint = first.snapshot(1, 3);
        first.processElement(sum(1, MINUTE, "h5", "CN-44", 1), 4); // lost with the crash, replayed below
        first.close();

        KeyedOneInputStreamOperatorTestHarness<String, InteractionCount, InteractionCount> restored = harness();
        restored.initializeState(checkpoint);
        restored.open();
        restored.processElement(sum(1, MINUTE, "h5", "CN-44", 1), 4);
        restored.processElement(sum(1, MINUTE, "h5", "CN-44", 3), 5);

        assertThat(restored.extractOutputValues()).extracting(c -> c.shakes).containsExactly(3L, 6L);
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, InteractionCount, InteractionCount> harness()
            throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(new InteractionCounter()),
                InteractionCounter::cellOf, Types.STRING);
    }

    private static InteractionCount sum(int round, long minute, String channel, String region, long shakes) {
        return new InteractionCount(round, minute, channel, region, shakes);
    }
}
