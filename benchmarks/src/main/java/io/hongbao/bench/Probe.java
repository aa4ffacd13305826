package io.hongbao.bench;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * When the first record entered a measured job and when the last one left it, per named run. Static because
 * the benchmark runs its jobs in a MiniCluster inside its own JVM: the operators' probes and the harness
 * share this class. Marks cost two volatile accesses per record, the same for every run measured.
 */
public final class Probe {
    private static final ConcurrentHashMap<String, Probe> PROBES = new ConcurrentHashMap<>();

    private final AtomicLong firstNanos = new AtomicLong(Long.MAX_VALUE);
    private final AtomicLong lastNanos = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong records = new AtomicLong();
    /** (nanoTime, records) every {@value #MARK_EVERY} records. */
    private final java.util.concurrent.ConcurrentLinkedQueue<long[]> marks = new java.util.concurrent.ConcurrentLinkedQueue<>();
    static final long MARK_EVERY = 1 << 16;

    public static Probe named(String run) {
        return PROBES.computeIfAbsent(run, r -> new Probe());
    }

    /** A record entered the job. */
    public void in() {
        if (firstNanos.get() == Long.MAX_VALUE) {
            firstNanos.compareAndSet(Long.MAX_VALUE, System.nanoTime());
        }
        long n = records.incrementAndGet();
        if ((n & (MARK_EVERY - 1)) == 0) {
            marks.add(new long[] {System.nanoTime(), n});
        }
    }

    /**
     * The instants at which the {@code from}-th and the {@code to}-th share of the records came in (nearest
     * marks), and the records between them: a window of the run after its start-up, for a steady-state rate.
     * Null when the run has too few marks.
     */
    public long[] window(double from, double to) {
        long total = records.get();
        long[] a = null;
        long[] b = null;
        for (long[] m : marks) {
            if (a == null && m[1] >= from * total) {
                a = m;
            }
            if (m[1] <= to * total) {
                b = m;
            }
        }
        return a == null || b == null || b[1] <= a[1] ? null : new long[] {a[0], b[0], b[1] - a[1]};
    }

    /** A record left the job's last measured operator. */
    public void out() {
        lastNanos.accumulateAndGet(System.nanoTime(), Math::max);
    }

    public long firstNanos() {
        return firstNanos.get();
    }

    public long lastNanos() {
        return lastNanos.get();
    }

    public long records() {
        return records.get();
    }

    /** Seconds from the first record in to the last record out; NaN before both were seen. */
    public double seconds() {
        long first = firstNanos.get();
        long last = lastNanos.get();
        return first == Long.MAX_VALUE || last == Long.MIN_VALUE ? Double.NaN : (last - first) / 1e9;
    }
}
