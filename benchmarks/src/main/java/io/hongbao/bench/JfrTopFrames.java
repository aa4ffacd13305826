package io.hongbao.bench;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * Summarises a JFR recording's {@code jdk.ExecutionSample}s and {@code jdk.NativeMethodSample}s (a thread in
 * native code, RocksDB for one, shows only in the latter): the threads, the methods on top of the stack (self
 * time) and the methods anywhere on the stack (total time), each as a share of all samples. Native samples
 * include threads blocked in native calls (socket reads), so read the threads table along with them.
 *
 * <pre>java -cp ... io.hongbao.bench.JfrTopFrames benchmark.jfr [top-n] [thread-regex]</pre>
 *
 * <p>The thread pattern keeps only matching threads, e.g. {@code '.*\(\d+/\d+\).*'} for Flink's task threads.
 */
public final class JfrTopFrames {
    private JfrTopFrames() {}

    public static void main(String[] args) throws Exception {
        int top = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        java.util.regex.Pattern keep = java.util.regex.Pattern.compile(args.length > 2 ? args[2] : ".*");
        Map<String, Long> self = new HashMap<>();
        Map<String, Long> total = new HashMap<>();
        Map<String, Long> threads = new HashMap<>();
        long samples = 0;
        for (RecordedEvent e : RecordingFile.readAllEvents(Path.of(args[0]))) {
            String type = e.getEventType().getName();
            if (!type.equals("jdk.ExecutionSample") && !type.equals("jdk.NativeMethodSample")) {
                continue;
            }
            RecordedStackTrace stack = e.getStackTrace();
            if (stack == null || stack.getFrames().isEmpty()) {
                continue;
            }
            String thread = e.getThread("sampledThread") == null ? null : e.getThread("sampledThread").getJavaName();
            thread = thread == null ? null : (type.endsWith("NativeMethodSample") ? "[native] " : "") + thread;
            thread = thread == null ? "?" : thread;
            if (!keep.matcher(thread).matches()) {
                continue;
            }
            samples++;
            threads.merge(thread.replaceAll("\\d+", "#"), 1L, Long::sum);
            List<RecordedFrame> frames = stack.getFrames();
            self.merge(name(frames.get(0)), 1L, Long::sum);
            Set<String> seen = new HashSet<>();
            for (RecordedFrame f : frames) {
                String n = name(f);
                if (seen.add(n)) {
                    total.merge(n, 1L, Long::sum);
                }
            }
        }
        System.out.printf(Locale.ROOT, "%,d samples (Java and native)%n", samples);
        print("threads", threads, samples, top);
        print("self (top of stack)", self, samples, top);
        print("total (anywhere on the stack)", total, samples, top);
    }

    private static String name(RecordedFrame f) {
        return f.getMethod().getType().getName() + "." + f.getMethod().getName();
    }

    private static void print(String title, Map<String, Long> counts, long samples, int top) {
        System.out.printf(Locale.ROOT, "%n%s%n", title);
        counts.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(top)
                .forEach(e -> System.out.printf(Locale.ROOT, "%6.2f%%  %s%n", 100.0 * e.getValue() / samples, e.getKey()));
    }
}
