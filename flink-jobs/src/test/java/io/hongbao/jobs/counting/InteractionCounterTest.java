package io.hongbao.jobs.counting;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.ingest.event.Channel;
import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.settlement.analytics.InteractionCount;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

class InteractionCounterTest {
    private static final long MINUTE = 1_764_000_000_000L / 60_000L * 60_000L;

    @Test
    void shouldCountPerRoundMinuteChannelAndRegion() throws Exception {
        KeyedOneInputStreamOperatorTestHarness<String, ShakeRecord, InteractionCount> harness = harness();
        harness.open();

        harness.processElement(shake(1, MINUTE + 5_000, Channel.IOS, "CN-11"), 1);
        harness.processElement(shake(1, MINUTE + 59_999, Channel.IOS, "CN-11"), 2);
        harness.processElement(shake(1, MINUTE + 60_000, Channel.IOS, "CN-11"), 3); // next minute
        harness.processElement(shake(1, MINUTE + 6_000, Channel.TV, "CN-11"), 4); // other channel
        harness.processElement(shake(1, MINUTE + 7_000, Channel.IOS, "CN-31"), 5); // other region
        harness.processElement(shake(2, MINUTE + 8_000, Channel.IOS, "CN-11"), 6); // other round
        harness.processElement(shake(1, MINUTE + 9_000, Channel.IOS, "CN-11"), 7);

        assertThat(harness.extractOutputValues()).containsExactly(
                new InteractionCount(1, MINUTE, "ios", "CN-11", 1),
                new InteractionCount(1, MINUTE, "ios", "CN-11", 2),
                new InteractionCount(1, MINUTE + 60_000, "ios", "CN-11", 1),
                new InteractionCount(1, MINUTE, "tv", "CN-11", 1),
                new InteractionCount(1, MINUTE, "ios", "CN-31", 1),
                new InteractionCount(2, MINUTE, "ios", "CN-11", 1),
                new InteractionCount(1, MINUTE, "ios", "CN-11", 3));
    }

    @Test
    void shouldContinueFromTheCheckpointAfterARestore() throws Exception {
        KeyedOneInputStreamOperatorTestHarness<String, ShakeRecord, InteractionCount> first = harness();
        first.open();
        first.processElement(shake(1, MINUTE, Channel.H5, "CN-44"), 1);
        first.processElement(shake(1, MINUTE, Channel.H5, "CN-44"), 2);
        OperatorSubtaskState checkpoint = first.snapshot(1, 3);
        first.processElement(shake(1, MINUTE, Channel.H5, "CN-44"), 4); // lost with the crash, replayed below
        first.close();

        KeyedOneInputStreamOperatorTestHarness<String, ShakeRecord, InteractionCount> restored = harness();
        restored.initializeState(checkpoint);
        restored.open();
        restored.processElement(shake(1, MINUTE, Channel.H5, "CN-44"), 4);
        restored.processElement(shake(1, MINUTE, Channel.H5, "CN-44"), 5);

        assertThat(restored.extractOutputValues()).extracting(c -> c.shakes).containsExactly(3L, 4L);
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, ShakeRecord, InteractionCount> harness()
            throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(new InteractionCounter()),
                InteractionCounter::cellOf, Types.STRING);
    }

    private static ShakeRecord shake(int round, long gatewayTsMs, Channel channel, String region) {
        ShakeRecord r = new ShakeRecord();
        r.event = new ShakeEvent(gatewayTsMs, round, 7L, 8L, round, channel, region, gatewayTsMs, gatewayTsMs,
                ShakeEvent.NO_SEQUENCE);
        return r;
    }
}
