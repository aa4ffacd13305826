package io.hongbao.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * CPU seconds used by this JVM and, when its pid is known, by the Kafka broker, sampled every
 * {@value #SAMPLE_MS} ms in the background so a run's CPU can be read between its first and last record
 * (MiniCluster start-up and job deployment excluded). Every {@value #THREAD_SAMPLE_EVERY}th sample also reads
 * the CPU time of every Java thread, so a run's CPU can be split by thread (a Flink task thread is named after
 * its operator chain): {@link #byThread}.
 */
public final class CpuClock implements AutoCloseable {
    static final long SAMPLE_MS = 50;
    private static final double TICKS_PER_SECOND = 100.0; // USER_HZ on Linux

    /** Per-thread CPU is read on every this many samples (~{@value}x50 ms): cheap enough not to show. */
    static final int THREAD_SAMPLE_EVERY = 5;

    /** One sample: wall clock (System.nanoTime), CPU seconds of this JVM and of the broker. */
    public record Sample(long nanos, double jvmCpu, double brokerCpu) {}

    /**
     * The CPU nanoseconds of every live Java thread at one instant, with the thread names, and of the JVM's
     * native threads by kind (from /proc/self/task, in clock ticks turned into nanoseconds).
     */
    private record ThreadSample(long nanos, Map<Long, String> names, Map<Long, Long> cpuNanos,
            Map<Long, String> nativeKinds, Map<Long, Long> nativeCpuNanos) {}

    /** Native threads by the name the JVM or RocksDB gives them (Linux keeps 15 characters of it). */
    private static final Map<Pattern, String> NATIVE_KINDS = nativeKinds();

    private static Map<Pattern, String> nativeKinds() {
        Map<Pattern, String> kinds = new java.util.LinkedHashMap<>();
        kinds.put(Pattern.compile("^(GC Thread|G1 |VM Periodic).*"), "(native: garbage collector)");
        kinds.put(Pattern.compile("^C[12] Compiler.*"), "(native: JIT compiler)");
        kinds.put(Pattern.compile("^rocksdb:.*"), "(native: RocksDB background flush and compaction)");
        kinds.put(Pattern.compile("^VM Thread$"), "(native: VM thread, safepoints)");
        return kinds;
    }

    /** Digits and a task's "(i/n)#attempt" suffix go, so the subtasks and attempts of one chain add up. */
    private static final Pattern TASK_SUFFIX = Pattern.compile(" \\(\\d+/\\d+\\)#\\d+$");
    private static final Pattern DIGITS = Pattern.compile("\\d+");

    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private final List<ThreadSample> threadSamples = new ArrayList<>();

    private final com.sun.management.OperatingSystemMXBean os =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private final Path brokerStat;
    private final List<Sample> samples = new ArrayList<>();
    private final Thread sampler;
    private volatile boolean running = true;

    public CpuClock(long brokerPid) {
        this.brokerStat = brokerPid > 0 ? Path.of("/proc", Long.toString(brokerPid), "stat") : null;
        sampler = new Thread(() -> {
            for (long n = 0; running; n++) {
                Sample s = now();
                synchronized (samples) {
                    samples.add(s);
                }
                if (n % THREAD_SAMPLE_EVERY == 0) {
                    ThreadSample t = threadsNow();
                    synchronized (threadSamples) {
                        threadSamples.add(t);
                    }
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

    /**
     * CPU seconds per thread group between two instants, the largest first. A group is a thread name without
     * digits and task suffix; a thread started or ended in between counts from or to its nearest reading. The
     * JVM's own threads (GC, JIT compiler, VM) and RocksDB's background threads are not Java threads: they are
     * read from /proc by kind, and what is left of the JVM's total is {@code "(other: ...)"}, so the groups add
     * up to the total.
     */
    public Map<String, Double> byThread(long fromNanos, long toNanos) {
        List<ThreadSample> inWindow = new ArrayList<>();
        synchronized (threadSamples) {
            for (ThreadSample t : threadSamples) {
                if (t.nanos >= fromNanos - SAMPLE_MS * THREAD_SAMPLE_EVERY * 1_000_000L
                        && t.nanos <= toNanos + SAMPLE_MS * THREAD_SAMPLE_EVERY * 1_000_000L) {
                    inWindow.add(t);
                }
            }
        }
        Map<String, Double> groups = new TreeMap<>();
        if (inWindow.size() < 2) {
            return groups;
        }
        // Per thread: its CPU at its first and last reading within the window.
        Map<Long, long[]> span = new HashMap<>();
        Map<Long, String> names = new HashMap<>();
        for (ThreadSample t : inWindow) {
            t.cpuNanos.forEach((id, cpu) -> span.computeIfAbsent(id, k -> new long[] {cpu, cpu})[1] = cpu);
            names.putAll(t.names);
        }
        double javaThreads = 0;
        for (var e : span.entrySet()) {
            double seconds = (e.getValue()[1] - e.getValue()[0]) / 1e9;
            javaThreads += seconds;
            groups.merge(group(names.get(e.getKey())), seconds, Double::sum);
        }
        Map<Long, long[]> nativeSpan = new HashMap<>();
        Map<Long, String> kinds = new HashMap<>();
        for (ThreadSample t : inWindow) {
            t.nativeCpuNanos.forEach((tid, cpu) -> nativeSpan.computeIfAbsent(tid, k -> new long[] {cpu, cpu})[1] = cpu);
            kinds.putAll(t.nativeKinds);
        }
        double nativeThreads = 0;
        for (var e : nativeSpan.entrySet()) {
            double seconds = (e.getValue()[1] - e.getValue()[0]) / 1e9;
            nativeThreads += seconds;
            groups.merge(kinds.get(e.getKey()), seconds, Double::sum);
        }
        Sample total = between(inWindow.get(0).nanos, inWindow.get(inWindow.size() - 1).nanos);
        groups.put("(other: the rest of the JVM's CPU)", Math.max(0, total.jvmCpu() - javaThreads - nativeThreads));
        Map<String, Double> sorted = new java.util.LinkedHashMap<>();
        groups.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                .forEach(e -> sorted.put(e.getKey(), e.getValue()));
        return sorted;
    }

    static String group(String threadName) {
        return DIGITS.matcher(TASK_SUFFIX.matcher(threadName).replaceAll("")).replaceAll("#");
    }

    private ThreadSample threadsNow() {
        long at = System.nanoTime();
        Map<Long, String> names = new HashMap<>();
        Map<Long, Long> cpu = new HashMap<>();
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds(), 0)) {
            if (info == null) {
                continue; // ended meanwhile
            }
            long nanos = threads.getThreadCpuTime(info.getThreadId());
            if (nanos >= 0) {
                names.put(info.getThreadId(), info.getThreadName());
                cpu.put(info.getThreadId(), nanos);
            }
        }
        Map<Long, String> kinds = new HashMap<>();
        Map<Long, Long> nativeCpu = new HashMap<>();
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    String comm = Files.readString(task.resolve("comm")).strip();
                    String kind = NATIVE_KINDS.entrySet().stream().filter(k -> k.getKey().matcher(comm).matches())
                            .map(Map.Entry::getValue).findFirst().orElse(null);
                    if (kind != null) {
                        String stat = Files.readString(task.resolve("stat"));
                        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                        long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
                        long tid = Long.parseLong(task.getFileName().toString());
                        kinds.put(tid, kind);
                        nativeCpu.put(tid, (long) (ticks / TICKS_PER_SECOND * 1e9));
                    }
                } catch (IOException | RuntimeException e) {
                    // the thread ended meanwhile
                }
            }
        } catch (IOException e) {
            // no /proc (not Linux): the native threads stay in "other"
        }
        return new ThreadSample(at, names, cpu, kinds, nativeCpu);
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
