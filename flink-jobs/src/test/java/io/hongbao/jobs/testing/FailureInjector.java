package io.hongbao.jobs.testing;

import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.functions.MapFunction;

/**
 * Fails the job at chosen points: after the N-th record passing through (counted across all subtasks and
 * attempts in this JVM), it throws once per point. Static counters, because every attempt gets fresh
 * function instances; call {@link #reset} before each test.
 */
public final class FailureInjector<T> implements MapFunction<T, T> {
    private static final long serialVersionUID = 1L;
    private static final AtomicLong SEEN = new AtomicLong();
    private static final AtomicLong FAILED = new AtomicLong();
    private static volatile long[] points = new long[0];

    public static void reset(long... failAfter) {
        SEEN.set(0);
        FAILED.set(0);
        points = failAfter.clone();
    }

    public static long failures() {
        return FAILED.get();
    }

    /** Waits until at least {@code records} passed through (all attempts); false if the wait timed out. */
    public static boolean awaitSeen(long records, java.time.Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (SEEN.get() < records) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
    }

    @Override
    public T map(T value) {
        long seen = SEEN.incrementAndGet();
        long[] p = points;
        long failed = FAILED.get();
        if (failed < p.length && seen >= p[(int) failed] && FAILED.compareAndSet(failed, failed + 1)) {
            throw new InjectedFailure("injected failure " + (failed + 1) + " of " + p.length + " after " + seen
                    + " records");
        }
        return value;
    }

    /** The exception the injector throws, so a test can tell it from a real one. */
    public static final class InjectedFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        InjectedFailure(String message) {
            super(message);
        }
    }
}
