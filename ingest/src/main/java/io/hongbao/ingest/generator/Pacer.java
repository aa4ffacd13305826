package io.hongbao.ingest.generator;

import java.nio.ByteBuffer;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Replays gateway time in wall time, for rehearsals: a record whose gateway time is {@code t} goes out no earlier
 * than {@code (t - t0) / speed} after the first record (gateway time {@code t0}), so the traffic curve of a
 * profile, its bursts and the quiet gaps between rounds, reaches Kafka with the same shape in wall time
 * (speed 1: as written; 30: a 4.5-hour gala in 9 minutes). Without it the generator sends as fast as it can
 * and every round arrives as one flat run of records.
 *
 * <p>Gateway time is the record's shake time, a tick's own time, or for a record without either (a malformed
 * one) the latest time seen. It never goes back: a retry carries its later gateway time, and the slot shuffle
 * is under {@link ShakeTrafficGenerator#SLOT_MS}. Records are never dropped or reordered, so the manifest is the
 * same as unpaced. If the producer cannot keep up, records go out late, not faster; {@link #behindMs()} tells by
 * how much at the worst. One sending thread; {@link PartitionLanes} paces several by one {@link PaceClock}.
 */
public final class Pacer implements Consumer<GeneratedRecord> {
    private final Consumer<GeneratedRecord> next;
    private final PaceClock clock;
    private long latestTsMs = Long.MIN_VALUE;
    private Runnable onStart = () -> {};
    private long paceUntilTsMs = Long.MAX_VALUE;

    public Pacer(Consumer<GeneratedRecord> next, double speed) {
        this(next, new PaceClock(speed));
    }

    Pacer(Consumer<GeneratedRecord> next, double speed, LongSupplier clock) {
        this(next, new PaceClock(speed, clock));
    }

    private Pacer(Consumer<GeneratedRecord> next, PaceClock clock) {
        this.next = next;
        this.clock = clock;
    }

    /** Runs once, at the first record, when {@link #originTsMs()} is known (say, to tell a driving script). */
    public Pacer onStart(Runnable action) {
        this.onStart = action;
        return this;
    }

    /**
     * Records past this gateway time go out at once: after the last round's last record only ticks are left, up to
     * the final one a minute on ({@link ShakeTrafficGenerator#FINAL_TICK_LEAD_MS}), and there is no shape to keep.
     */
    public Pacer paceUntil(long gatewayTsMs) {
        this.paceUntilTsMs = gatewayTsMs;
        return this;
    }

    @Override
    public void accept(GeneratedRecord record) {
        long ts = paceTsMs(record);
        if (ts != Long.MIN_VALUE && clock.start(ts)) {
            onStart.run();
        }
        if (ts != Long.MIN_VALUE && ts <= paceUntilTsMs) {
            clock.awaitDue(ts);
        }
        next.accept(record);
    }

    /**
     * The gateway time a record is paced by: its own ({@link #gatewayTsMs}), or for one without (a malformed
     * record) the latest seen; never going back. {@link Long#MIN_VALUE} until a record with a time came.
     */
    long paceTsMs(GeneratedRecord record) {
        long ts = gatewayTsMs(record);
        if (ts != Long.MIN_VALUE) {
            latestTsMs = Math.max(latestTsMs, ts);
        }
        return latestTsMs;
    }

    /** The gateway time of the first record, which the pace starts from; {@link Long#MIN_VALUE} before it. */
    public long originTsMs() {
        return clock.originTsMs();
    }

    /** The most a record went out after its due time, in ms: what the producer could not keep up with. */
    public long behindMs() {
        return clock.behindMs();
    }

    /** A record's own gateway time: a shake's, a tick's; {@link Long#MIN_VALUE} for a record without one. */
    static long gatewayTsMs(GeneratedRecord record) {
        if (record.isTick()) {
            return ByteBuffer.wrap(record.value(), 1, Long.BYTES).getLong(); // format byte, then the gateway time
        }
        return record.event() != null ? record.event().gatewayTsMs : Long.MIN_VALUE;
    }
}
