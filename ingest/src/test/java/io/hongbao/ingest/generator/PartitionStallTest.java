package io.hongbao.ingest.generator;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PartitionStallTest {
    @Test
    void shouldHoldOnePartitionsRecordsInOrderDuringTheStallAndLetTheOthersThrough() {
        List<GeneratedRecord> sent = new ArrayList<>();
        long[] now = {0};
        PartitionStall stall = new PartitionStall(sent::add, 1, 2, Duration.ofSeconds(10), Duration.ofSeconds(5),
                () -> now[0]);

        stall.accept(GeneratedRecord.tick(1, 1)); // t=0: before the stall
        now[0] = Duration.ofSeconds(11).toNanos();
        stall.accept(GeneratedRecord.tick(1, 2)); // held
        stall.accept(GeneratedRecord.tick(0, 3)); // other partition: through
        stall.accept(GeneratedRecord.tick(1, 4)); // held
        assertThat(sent).as("partition 1 held, partition 0 through").hasSize(2);
        now[0] = Duration.ofSeconds(16).toNanos();
        stall.accept(GeneratedRecord.tick(0, 5)); // the stall is over: held ones first, in order

        assertThat(sent).extracting(GeneratedRecord::partition).containsExactly(1, 0, 1, 1, 0);
        assertThat(sent.subList(2, 4)).extracting(r -> io.hongbao.ingest.event.ShakeEventCodec.decode(r.value()).tickMs())
                .containsExactly(2L, 4L);
    }

    @Test
    void shouldReleaseWhatIsHeldWhenTheRunEndsFirst() {
        List<GeneratedRecord> sent = new ArrayList<>();
        long[] now = {0};
        PartitionStall stall = new PartitionStall(sent::add, 0, 1, Duration.ZERO, Duration.ofHours(1), () -> now[0]);
        stall.accept(GeneratedRecord.tick(0, 1));
        assertThat(sent).isEmpty();
        stall.release();
        assertThat(sent).hasSize(1);
    }
}
