package io.hongbao.jobs.counting;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.ingest.event.Channel;
import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.settlement.analytics.InteractionCount;
import java.time.Duration;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

class CellSumsTest {
    private static final long MINUTE = 1_764_000_000_000L / 60_000L * 60_000L;

    @Test
    void shouldHandOnOneSumPerCellBeforeTheCheckpointBarrier() throws Exception {
        try (var harness = harness()) {
            harness.processElement(shake(1, MINUTE + 5_000, Channel.IOS, "CN-11"), 1);
            harness.processElement(shake(1, MINUTE + 59_999, Channel.IOS, "CN-11"), 2);
            harness.processElement(shake(1, MINUTE + 60_000, Channel.IOS, "CN-11"), 3); // next minute
            harness.processElement(shake(1, MINUTE + 6_000, Channel.TV, "CN-11"), 4);
            harness.processElement(shake(2, MINUTE + 8_000, Channel.IOS, "CN-11"), 5);
            assertThat(harness.extractOutputValues()).as("nothing before a flush").isEmpty();

            harness.prepareSnapshotPreBarrier(1);

            assertThat(harness.extractOutputValues()).containsExactlyInAnyOrder(
                    new InteractionCount(1, MINUTE, "ios", "CN-11", 2),
                    new InteractionCount(1, MINUTE + 60_000, "ios", "CN-11", 1),
                    new InteractionCount(1, MINUTE, "tv", "CN-11", 1),
                    new InteractionCount(2, MINUTE, "ios", "CN-11", 1));
            assertThat(harness.snapshot(1, 10).getManagedOperatorState()).as("keeps no state").isEmpty();
        }
    }

    @Test
    void shouldFlushOnItsIntervalAndAtTheEndOfInput() throws Exception {
        try (var harness = harness()) {
            harness.processElement(shake(1, MINUTE, Channel.H5, "CN-44"), 1);
            harness.setProcessingTime(1_000);
            assertThat(harness.extractOutputValues()).extracting(c -> c.shakes).containsExactly(1L);

            harness.processElement(shake(1, MINUTE, Channel.H5, "CN-44"), 2);
            harness.processElement(shake(1, MINUTE, Channel.H5, "CN-44"), 3);
            harness.endInput();
            assertThat(harness.extractOutputValues()).extracting(c -> c.shakes).containsExactly(1L, 2L);
        }
    }

    private static OneInputStreamOperatorTestHarness<ShakeRecord, InteractionCount> harness() throws Exception {
        var harness = new OneInputStreamOperatorTestHarness<>(new CellSums(Duration.ofSeconds(1)));
        harness.setProcessingTime(0);
        harness.open();
        return harness;
    }

    private static ShakeRecord shake(int round, long gatewayTsMs, Channel channel, String region) {
        ShakeRecord r = new ShakeRecord();
        r.event = new ShakeEvent(gatewayTsMs, round, 7L, 8L, round, channel, region, gatewayTsMs, gatewayTsMs,
                ShakeEvent.NO_SEQUENCE);
        return r;
    }
}
