package io.hongbao.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * CPU seconds used by this JVM and, when its pid is known, by the Kafka broker, sampled every
 * {@value #SAMPLE_MS} ms in the background so a run's CPU can be read between its first and last record
 * (MiniCluster start-up and job deployment excluded).
 */
public final class CpuClock implements AutoCloseable {
    static final long SAMPLE_MS = 50;
    private static final double TICKS_PER_SECOND = 100.0; // USER_HZ on Linux

    /** One sample: wall clock (System.nanoTime), CPU seconds of this JVM and of the broker. */
    public record Sample(long nanos, double jvmCpu, double brokerCpu) {}

    private final com.sun.management.OperatingSystemMXBean os =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private final Path brokerStat;
    private final List<Sample> samples = new ArrayList<>();
    private final Thread sampler;
    private volatile boolean running = true;

    public CpuClock(long brokerPid) {
        this.brokerStat = brokerPid > 0 ? Path.of("/proc", Long.toString(brokerPid), "stat") : null;
        sampler = new Thread(() -> {
            while (running) {
                Sample s = now();
                synchronized (samples) {
                    samples.add(s);
                }
                try {
                    Thread.sleep(SAMPLE_MS);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "cpu-clock");
        sampler.setDaemon(true);
        sampler.start();
    }

    public Sample now() {
        return new Sample(System.nanoTime(), os.getProcessCpuTime() / 1e9, brokerCpu());
    }

    /** The CPU used between two wall-clock instants, from the samples nearest them. */
    public Sample between(long fromNanos, long toNanos) {
        Sample a = nearest(fromNanos);
        Sample b = nearest(toNanos);
        return new Sample(b.nanos - a.nanos, b.jvmCpu - a.jvmCpu, b.brokerCpu - a.brokerCpu);
    }

    private Sample nearest(long nanos) {
        synchronized (samples) {
            Sample best = samples.get(0);
            for (Sample s : samples) {
                if (Math.abs(s.nanos - nanos) < Math.abs(best.nanos - nanos)) {
                    best = s;
                }
            }
            return best;
        }
    }

    private double brokerCpu() {
        if (brokerStat == null) {
            return 0;
        }
        try {
            String stat = Files.readString(brokerStat);
            // Fields after the command name (which may hold spaces) start after the last ')'.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS_PER_SECOND; // utime, stime
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    @Override
    public void close() {
        running = false;
        sampler.interrupt();
    }
}
