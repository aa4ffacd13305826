package io.hongbao.ingest.generator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hongbao.ingest.profile.GalaProfile;
import io.hongbao.ingest.testing.Datasets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.junit.jupiter.api.Test;

class PartitionLanesTest {
    private static final GalaProfile TINY = GalaProfile.load(Datasets.file("tiny.yaml"));

    @Test
    void shouldSendEachPartitionsRecordsInOrderThroughTheLaneThatOwnsIt() {
        List<GeneratedRecord> generated = new ArrayList<>();
        new ShakeTrafficGenerator(TINY, 3, 0).withTicks(4, Duration.ofSeconds(1)).generate(generated::add);
        List<List<GeneratedRecord>> sent = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        List<Consumer<GeneratedRecord>> senders = sent.stream().<Consumer<GeneratedRecord>>map(l -> l::add).toList();

        // Little room ahead: generation waits for the lanes again and again.
        try (PartitionLanes lanes = new PartitionLanes(senders, 4, PartitionLanes.CHUNK, null, Long.MAX_VALUE, () -> {})) {
            generated.forEach(lanes);
        }

        Map<Integer, List<String>> expected = new TreeMap<>();
        for (GeneratedRecord r : generated) {
            int partition = r.isTick() ? r.partition() : BuiltInPartitioner.partitionForKey(r.key(), 4);
            expected.computeIfAbsent(partition, p -> new ArrayList<>()).add(HexFormat.of().formatHex(r.value()));
        }
        Map<Integer, List<String>> actual = new TreeMap<>();
        for (int lane = 0; lane < 3; lane++) {
            for (GeneratedRecord r : sent.get(lane)) {
                assertThat(r.partition() % 3).as("partition %d in lane %d", r.partition(), lane).isEqualTo(lane);
                assertThat(r.event()).as("no shake object kept while waiting").isNull();
                actual.computeIfAbsent(r.partition(), p -> new ArrayList<>()).add(HexFormat.of().formatHex(r.value()));
            }
        }
        assertThat(actual).isEqualTo(expected);
        assertThat(sent.get(0)).as("lane 0 has partitions 0 and 3").extracting(GeneratedRecord::partition)
                .containsOnly(0, 3);
    }

    @Test
    void shouldStopTheRunWhenALaneFails() {
        List<GeneratedRecord> generated = new ArrayList<>();
        new ShakeTrafficGenerator(TINY, 3, 0).generate(generated::add);
        int[] count = {0};
        Consumer<GeneratedRecord> failing = r -> {
            if (++count[0] == 100) {
                throw new IllegalStateException("broker gone");
            }
        };

        assertThatThrownBy(() -> {
            try (PartitionLanes lanes = new PartitionLanes(List.of(failing, r -> {}), 4, PartitionLanes.CHUNK, null,
                    Long.MAX_VALUE, () -> {})) {
                generated.forEach(lanes);
            }
        }).isInstanceOf(IllegalStateException.class).hasMessageContaining("broker gone");
    }

    @Test
    void shouldStartThePaceOnceAtTheFirstRecordWithAGatewayTime() {
        long[] now = {5_000_000_000L}; // never moves: every record is due at once or already late
        PaceClock clock = new PaceClock(1.0, () -> now[0]);
        int[] starts = {0};
        List<GeneratedRecord> sent = new ArrayList<>();
        try (PartitionLanes lanes = new PartitionLanes(List.of(sent::add), 4, PartitionLanes.CHUNK, clock,
                Long.MAX_VALUE, () -> starts[0]++)) {
            lanes.accept(GeneratedRecord.tick(0, 10_000));
            lanes.accept(GeneratedRecord.tick(1, 10_000));
            lanes.accept(GeneratedRecord.tick(0, 9_000)); // earlier: paced by the latest gateway time, 10 s
        }

        assertThat(starts[0]).isEqualTo(1);
        assertThat(clock.originTsMs()).isEqualTo(10_000);
        assertThat(sent).hasSize(3);
        assertThat(clock.behindMs()).isZero();
    }
}
