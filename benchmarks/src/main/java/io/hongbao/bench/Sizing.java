package io.hongbao.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Cores for the reference gala from measured per-core rates: 69.1e9 interactions in a 4-hour night, planned
 * for 10x the average at round starts. A per-core rate is events per CPU-second of the process doing the
 * work (all its threads: task, source fetcher, RocksDB, checkpointing, GC), so it does not depend on how
 * many cores the machine had free.
 */
public final class Sizing {
    public static final double GALA_EVENTS = 69.1e9;
    public static final double NIGHT_SECONDS = 4 * 3600;
    public static final double PEAK_FACTOR = 10;

    private Sizing() {}

    public static double averageRate() {
        return GALA_EVENTS / NIGHT_SECONDS;
    }

    public static double peakRate() {
        return averageRate() * PEAK_FACTOR;
    }

    /** Cores to sustain {@code rate} at {@code perCore} events per CPU-second, rounded up. */
    public static long cores(double rate, double perCore) {
        if (!(perCore > 0)) {
            throw new IllegalArgumentException("per-core rate must be positive, was " + perCore);
        }
        return (long) Math.ceil(rate / perCore);
    }

    /** One row per measured run, plus the broker's read cost from the raw consume run. */
    public static List<Map<String, Object>> table(List<Map<String, Object>> throughput) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Map<String, Object> t : throughput) {
            // A night-long job's cost per event is its steady state: its start-up is paid once, not per event.
            boolean steady = t.get("steady_events_per_jvm_cpu_s") instanceof Double;
            double perCore = (Double) t.get(steady ? "steady_events_per_jvm_cpu_s" : "events_per_jvm_cpu_s");
            rows.add(row(t.get("what") + " p=" + t.get("parallelism") + (steady ? ", steady" : ""), perCore));
            if (rows.size() == 1 && (Double) t.get("broker_cpu_s") > 0) {
                rows.add(row("Kafka broker serving those reads", (Long) t.get("records") / (Double) t.get("broker_cpu_s")));
            }
        }
        return rows;
    }

    static Map<String, Object> row(String what, double perCore) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("what", what);
        r.put("events_per_core_s", perCore);
        r.put("cores_for_average", cores(averageRate(), perCore));
        r.put("cores_for_peak", cores(peakRate(), perCore));
        return r;
    }
}
