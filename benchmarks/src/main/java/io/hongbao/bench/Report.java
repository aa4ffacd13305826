package io.hongbao.bench;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The results as the markdown tables BENCHMARKS.md quotes. */
final class Report {
    private Report() {}

    @SuppressWarnings("unchecked")
    static String markdown(Map<String, Object> report) {
        StringBuilder md = new StringBuilder();
        Map<String, Object> machine = (Map<String, Object>) report.get("machine");
        md.append(f("Run %s → %s; %s; nproc %s; load average at start %s, at end %s; data %s.%n%n",
                report.get("started"), report.get("finished"), machine.get("jvm"), machine.get("nproc"),
                machine.get("load_average"), report.get("load_at_end"), report.get("data")));
        md.append("| run | p | records | seconds | events/s | ratio to raw | JVM CPU s | events per JVM CPU-s |"
                + " events per JVM CPU-s, steady (records 25–95%) | the same without the JIT compiler |"
                + " broker CPU s | checkpoints: n, avg/max ms, avg checkpointed B, last full B | load after |\n");
        md.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |\n");
        for (Map<String, Object> t : (List<Map<String, Object>>) report.get("throughput")) {
            Object cp = t.get("checkpoints");
            String cps = "—";
            if (cp instanceof FlinkRun.Checkpoints c) {
                cps = c.completed() == 0 ? "none" : f("%d, %d/%d, %,d, %,d", c.completed(), c.avgDurationMs(),
                        c.maxDurationMs(), c.avgCheckpointedBytes(), c.lastFullStateBytes());
            }
            md.append(f("| %s | %s | %,d | %.2f | %,.0f | %.3f | %.2f | %,.0f | %s | %s | %.2f | %s | %s |%n", t.get("what"),
                    t.get("parallelism"), t.get("records"), t.get("seconds"), t.get("events_per_s"),
                    t.get("ratio_to_raw"), t.get("jvm_cpu_s"), t.get("events_per_jvm_cpu_s"),
                    t.get("steady_events_per_jvm_cpu_s") instanceof Double d ? f("%,.0f", d) : "—",
                    t.get("steady_events_per_cpu_s_without_jit") instanceof Double d ? f("%,.0f", d) : "—",
                    t.get("broker_cpu_s"), cps, t.get("load_after")));
        }
        for (Map<String, Object> t : (List<Map<String, Object>>) report.get("throughput")) {
            if (t.get("verified") != null) {
                md.append(f("%nPayout p=%s verified: %s.", t.get("parallelism"), t.get("verified")));
            }
        }
        for (Map<String, Object> t : (List<Map<String, Object>>) report.get("throughput")) {
            for (boolean steady : new boolean[] {false, true}) {
                if (!(t.get(steady ? "steady_cpu_by_thread" : "cpu_by_thread") instanceof Map<?, ?> groups)
                        || groups.isEmpty()) {
                    continue;
                }
                long records = ((Number) t.get(steady ? "steady_records" : "records")).longValue();
                md.append(f("%n%nCPU of %s p=%s by thread (the Java threads' own CPU time; the rest of the JVM's"
                        + " is GC, JIT and VM), per event over %s%,d records:%n%n", t.get("what"),
                        t.get("parallelism"), steady ? "the steady window's " : "", records));
                md.append("| thread | CPU s | share | µs per event |\n| --- | ---: | ---: | ---: |\n");
                double total = ((Map<String, Double>) groups).values().stream().mapToDouble(Double::doubleValue).sum();
                for (var g : ((Map<String, Double>) groups).entrySet()) {
                    if (g.getValue() >= 0.005 * total) {
                        md.append(f("| %s | %.2f | %.1f%% | %.2f |%n", g.getKey().replace("|", "\\|"), g.getValue(),
                                100 * g.getValue() / total, g.getValue() * 1e6 / records));
                    }
                }
                md.append(f("| (sum; groups under 0.5%% not listed) | %.2f | 100%% | %.2f |%n", total,
                        total * 1e6 / records));
            }
        }
        for (Map<String, Object> a : (List<Map<String, Object>>) report.getOrDefault("against_peers", List.of())) {
            md.append(f("%n%nPayout pipeline p=%s, %,.0f events per CPU-s (steady: %s), against the same run's others"
                    + " (ratio of events per CPU-second):%n%n| against | ratio, whole run | ratio, steady |%n"
                    + "| --- | ---: | ---: |%n", a.get("parallelism"), a.get("payout_events_per_cpu_s"),
                    a.get("payout_steady_events_per_cpu_s") instanceof Double d ? f("%,.0f", d) : "—"));
            a.forEach((k, v) -> {
                if (k.startsWith("per CPU-s ratio to ")) {
                    String other = k.substring("per CPU-s ratio to ".length());
                    Object steady = a.get("steady per CPU-s ratio to " + other);
                    md.append(f("| %s | %.3f | %s |%n", other, v, steady instanceof Double d ? f("%.3f", d) : "—"));
                }
            });
        }
        md.append("\n\n| devices | events per device | full checkpoint bytes | ids in it | bytes per id | bytes per device |"
                + " dedupe events/s | checkpoints: n, avg/max ms | stall: longest pre-barrier write + longest sync part, ms |\n");
        md.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |\n");
        for (Map<String, Object> s : (List<Map<String, Object>>) report.get("dedupe_state")) {
            String cps = s.get("checkpoints") instanceof FlinkRun.Checkpoints c
                    ? f("%d, %d/%d", c.completed(), c.avgDurationMs(), c.maxDurationMs()) : "—";
            if (((Number) s.get("ids_in_checkpoint")).longValue() <= 0) {
                // Every checkpoint of the run came before its ids, or after its task had finished (empty then).
                md.append(f("| %,d | %s | — | — | — | — | %,.0f | %s | — (no checkpoint during the run held ids: a"
                        + " longer run is needed) |%n", s.get("devices"), s.get("events_per_device"),
                        s.get("dedupe_events_per_s"), cps));
                continue;
            }
            md.append(f("| %,d | %s | %,d | %,d | %.1f | %.1f | %,.0f | %s | %.0f + %s |%n", s.get("devices"),
                    s.get("events_per_device"), s.get("full_checkpoint_bytes"), s.get("ids_in_checkpoint"),
                    s.get("bytes_per_id"), s.get("bytes_per_device"), s.get("dedupe_events_per_s"), cps,
                    s.get("max_pre_barrier_ms"), s.get("max_sync_ms")));
        }
        md.append(f("%nCores for 69.1e9 events in 4 h: average %,.0f events/s, peak (10x) %,.0f events/s.%n%n",
                Sizing.averageRate(), Sizing.peakRate()));
        md.append("| work | events per core-second | cores at average | cores at peak |\n| --- | ---: | ---: | ---: |\n");
        for (Map<String, Object> s : (List<Map<String, Object>>) report.get("sizing")) {
            md.append(f("| %s | %,.0f | %,d | %,d |%n", s.get("what"), s.get("events_per_core_s"),
                    s.get("cores_for_average"), s.get("cores_for_peak")));
        }
        return md.toString();
    }

    private static String f(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
