package io.hongbao.ingest.generator;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * Gateway time replayed in wall time, shared by whoever sends ({@link Pacer}, or every lane of
 * {@link PartitionLanes}): gateway time {@code t} is due {@code (t - t0) / speed} after the origin, the first
 * gateway time {@link #start started} with. Thread-safe: the origin is fixed once, lateness is a running maximum.
 */
public final class PaceClock {
    private final double speed;
    private final LongSupplier nanoClock;
    private volatile long originTsMs = Long.MIN_VALUE;
    private volatile long originNanos;
    private final AtomicLong behindNanos = new AtomicLong();

    public PaceClock(double speed) {
        this(speed, System::nanoTime);
    }

    PaceClock(double speed, LongSupplier nanoClock) {
        if (!(speed > 0) || Double.isInfinite(speed)) {
            throw new IllegalArgumentException("pace must be a positive number, was " + speed);
        }
        this.speed = speed;
        this.nanoClock = nanoClock;
    }

    /** Fixes the origin at gateway time {@code tsMs}, now; true for the call that did, false once it was fixed. */
    public synchronized boolean start(long tsMs) {
        if (originTsMs != Long.MIN_VALUE) {
            return false;
        }
        originNanos = nanoClock.getAsLong();
        originTsMs = tsMs;
        return true;
    }

    public boolean started() {
        return originTsMs != Long.MIN_VALUE;
    }

    /** The gateway time the pace starts from; {@link Long#MIN_VALUE} before {@link #start}. */
    public long originTsMs() {
        return originTsMs;
    }

    /**
     * Returns when gateway time {@code tsMs} is due (at once if it is past), and notes how late that was. Sleeps
     * only when at least a millisecond ahead: parking per record would cost more than the send.
     */
    public void awaitDue(long tsMs) {
        long due = originNanos + (long) ((tsMs - originTsMs) * 1e6 / speed);
        long now = nanoClock.getAsLong();
        while (due - now >= 1_000_000) {
            LockSupport.parkNanos(due - now);
            now = nanoClock.getAsLong();
        }
        long late = now - due;
        behindNanos.accumulateAndGet(late, Math::max);
    }

    /** The most a due time was missed by, in ms: what the sending side could not keep up with. */
    public long behindMs() {
        return behindNanos.get() / 1_000_000;
    }
}
