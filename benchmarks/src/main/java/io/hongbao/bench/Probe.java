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

    public static Probe named(String run) {
        return PROBES.computeIfAbsent(run, r -> new Probe());
    }

    /** A record entered the job. */
    public void in() {
        if (firstNanos.get() == Long.MAX_VALUE) {
            firstNanos.compareAndSet(Long.MAX_VALUE, System.nanoTime());
        }
        records.incrementAndGet();
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
