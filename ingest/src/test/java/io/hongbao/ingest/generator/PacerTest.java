package io.hongbao.ingest.generator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hongbao.ingest.event.ShakeEventCodec;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PacerTest {
    @Test
    void shouldSendEachRecordWhenItsGatewayTimeComesAtTheGivenSpeed() {
        List<Long> sentAtNanos = new ArrayList<>();
        List<GeneratedRecord> sent = new ArrayList<>();
        Pacer pacer = new Pacer(r -> {
            sent.add(r);
            sentAtNanos.add(System.nanoTime());
        }, 4.0);
        int[] starts = {0};
        pacer.onStart(() -> starts[0]++);
        long t0 = 1_000_000;
        long before = System.nanoTime();
        // 800 ms of gateway time at speed 4: 200 ms of wall time; the second tick 400 ms in: 100 ms.
        pacer.accept(GeneratedRecord.tick(0, t0));
        pacer.accept(GeneratedRecord.tick(0, t0 + 400));
        pacer.accept(GeneratedRecord.tick(0, t0 + 800));

        assertThat(starts[0]).as("started once, at the first record").isEqualTo(1);
        assertThat(pacer.originTsMs()).isEqualTo(t0);
        assertThat(sent).extracting(r -> ShakeEventCodec.decode(r.value()).tickMs())
                .containsExactly(t0, t0 + 400, t0 + 800);
        assertThat((sentAtNanos.get(1) - before) / 1e6).as("ms until the second record").isBetween(99.0, 400.0);
        assertThat((sentAtNanos.get(2) - before) / 1e6).as("ms until the third record").isBetween(199.0, 600.0);
    }

    @Test
    void shouldNeverGoBackInTimeForAnEarlierRecord() {
        long[] now = {0};
        List<GeneratedRecord> sent = new ArrayList<>();
        Pacer pacer = new Pacer(sent::add, 1.0, () -> now[0]);
        pacer.accept(GeneratedRecord.tick(0, 5_000));
        now[0] = 2_000_000_000L; // 2 s later the clock shows; the record below is due at 0 s
        pacer.accept(GeneratedRecord.tick(0, 4_000));
        assertThat(sent).hasSize(2);
        assertThat(pacer.behindMs()).as("late by the whole 2 s, not sent ahead").isEqualTo(2_000);
    }

    @Test
    void shouldSendWhatComesAfterThePacedSpanAtOnce() {
        long[] now = {0};
        List<GeneratedRecord> sent = new ArrayList<>();
        Pacer pacer = new Pacer(sent::add, 1.0, () -> now[0]).paceUntil(10_000);
        pacer.accept(GeneratedRecord.tick(0, 1_000));
        // Due 59 s after the first record; the clock never moves, so a paced send would never return.
        pacer.accept(GeneratedRecord.tick(0, 60_000));
        assertThat(sent).hasSize(2);
    }

    @Test
    void shouldRefuseASpeedThatIsNotPositive() {
        assertThatThrownBy(() -> new Pacer(r -> {}, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Pacer(r -> {}, Double.NaN)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldFixThePaceClocksOriginOnceAndKeepTheWorstLateness() {
        long[] now = {0};
        PaceClock clock = new PaceClock(2.0, () -> now[0]);
        assertThat(clock.start(1_000)).isTrue();
        assertThat(clock.start(7_000)).as("fixed once").isFalse();
        now[0] = 3_000_000_000L; // 3 s on: gateway time 1,000 + 4,000 was due at 2 s (speed 2)
        clock.awaitDue(5_000);
        clock.awaitDue(1_000);
        assertThat(clock.originTsMs()).isEqualTo(1_000);
        assertThat(clock.behindMs()).as("the worst: the first record, due at 0 s").isEqualTo(3_000);
    }
}
