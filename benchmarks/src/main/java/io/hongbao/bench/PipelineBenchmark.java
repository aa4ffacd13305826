package io.hongbao.bench;

import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.hongbao.ingest.generator.KafkaShakeProducer;
import io.hongbao.ingest.generator.Manifest;
import io.hongbao.ingest.generator.ShakeTopics;
import io.hongbao.ingest.generator.ShakeTrafficGenerator;
import io.hongbao.ingest.profile.GalaProfile;
import io.hongbao.jobs.JobEnvironment;
import io.hongbao.jobs.payout.PayoutSettings;
import io.hongbao.settlement.RoundCatalog;
import io.hongbao.settlement.SettlementDatabase;
import io.hongbao.settlement.SettlementSchema;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.apache.flink.configuration.Configuration;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The pipeline benchmark, all in one run on the same generated data in the real local Kafka broker: raw
 * consume (the physical limit), the payout pipeline and the counting path (production settings) and the peer
 * baseline at each parallelism, then the dedupe state per device, then the cluster size derived from the
 * measured per-core rates. Prints the tables and writes {@code results.json} and {@code results.md}.
 *
 * <p>Each run is timed from its first record read to its last record out ({@link Probe}); CPU is this JVM's
 * (and the broker's) between those instants ({@link CpuClock}). Run by {@code bin/benchmark}.
 */
@Command(name = "pipeline-benchmark", mixinStandardHelpOptions = true,
        description = "Throughput against the raw Kafka consume rate, scaling, state size and cluster size.")
public final class PipelineBenchmark implements Callable<Integer> {
    @Option(names = "--bootstrap-servers", required = true, description = "The local Kafka broker.")
    String bootstrap;

    @Option(names = "--profile", defaultValue = "datasets/bench.yaml", description = "Gala profile of the data.")
    Path profile;

    @Option(names = "--events", defaultValue = "2000000", description = "Person shakes generated (all rounds).")
    long events;

    @Option(names = "--warm-up-events", defaultValue = "100000",
            description = "Person shakes of the unreported warm-up topic; 0 skips the warm-up (default: ${DEFAULT-VALUE}).")
    long warmUpEvents;

    private Configuration production;
    /** The topic every kind of job runs once on before its measured runs; null without a warm-up. */
    private String warmUpTopic;

    @Option(names = "--seed", defaultValue = "42", description = "Generator seed: same seed, same bytes.")
    long seed;

    @Option(names = "--parallelism", split = ",", defaultValue = "1,2", description = "Parallelisms of every Flink run.")
    List<Integer> parallelisms;

    @Option(names = "--state-devices", split = ",", defaultValue = "100000,1000000,10000000",
            description = "Device counts of the dedupe state-size runs.")
    List<Long> stateDevices;

    @Option(names = "--events-per-device", defaultValue = "1",
            description = "Events per device in the state-size runs (default: ${DEFAULT-VALUE}).")
    int eventsPerDevice;

    @Option(names = "--checkpoint-interval", defaultValue = "PT10S", description = "PayoutJob's default.")
    Duration checkpointInterval;

    @Option(names = "--pg", defaultValue = "jdbc:postgresql://127.0.0.1:5432/",
            description = "PostgreSQL server URL without a database; databases bench_<run>_* are made and dropped.")
    String pg;

    @Option(names = "--pg-user", defaultValue = "postgres", description = "May create and drop databases.")
    String pgUser;

    @Option(names = "--out", defaultValue = "benchmarks/target/results", description = "results.json, results.md, checkpoints.")
    Path out;

    @Option(names = "--broker-pid", defaultValue = "0", description = "The broker's pid, to count its CPU.")
    long brokerPid;

    @Option(names = "--runs", split = ",", defaultValue = "payout,counting,sql-peer,datastream-peer,state",
            description = "Which runs besides raw consume, e.g. payout alone for a profile (default: ${DEFAULT-VALUE}).")
    List<String> runs;

    @Option(names = "--conf", description = "Extra Flink configuration for the production runs, key=value; "
            + "repeatable (e.g. --conf state.backend.rocksdb.use-bloom-filter=true).")
    Map<String, String> extraConf = new LinkedHashMap<>();

    @Option(names = "--label", defaultValue = "", description = "Free text recorded with the results.")
    String label;

    private final String runId = "r" + Long.toString(System.currentTimeMillis() / 1000 % 1_000_000_000L, 36);
    private final List<String> databases = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final List<Map<String, Object>> throughput = new ArrayList<>();

    public static void main(String[] args) {
        System.exit(new CommandLine(new PipelineBenchmark()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Files.createDirectories(out);
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("started", Instant.now().toString());
        report.put("label", label);
        report.put("machine", machine());
        GalaProfile gala = GalaProfile.load(profile);
        Properties kafka = new Properties();
        kafka.put("bootstrap.servers", bootstrap);
        // Interrupted (Ctrl-C, a kill by the caller): the databases go anyway, as at a normal end.
        Thread dropOnExit = new Thread(this::dropDatabases, "drop-bench-databases");
        Runtime.getRuntime().addShutdownHook(dropOnExit);
        String topic = "bench.shakes." + runId;
        String control = "bench.control." + runId;

        try (CpuClock cpu = new CpuClock(brokerPid)) {
            Manifest manifest = generate(gala, kafka, topic, events);
            ShakeTopics.ensure(kafka, control, 1);
            report.put("data", Map.of("profile", gala.name(), "seed", seed, "topic", topic,
                    "records", manifest.records, "distinct_valid", manifest.expected.distinctValidEvents(),
                    "partitions", manifest.partitions));
            log("generated %,d records into %s", manifest.records, topic);

            // A first pass warms the consumer code and the page cache; of three more, the median is the limit
            // (one pass takes about a second here, short enough for a neighbour's burst to skew it).
            RawConsume.read(kafka, topic, Probe.named("warm-raw"));
            List<Probe> passes = new ArrayList<>();
            RawConsume.Result r = null;
            for (int pass = 0; pass < 3; pass++) {
                passes.add(Probe.named("raw-" + pass));
                r = RawConsume.read(kafka, topic, passes.get(pass));
            }
            passes.sort(java.util.Comparator.comparingDouble(Probe::seconds));
            Map<String, Object> rawRow = record("raw Kafka consume (byte[], no decode)", 1, passes.get(1), cpu, null);
            rawRow.put("passes_seconds", passes.stream().map(Probe::seconds).toList());
            rawRow.put("value_bytes", r.valueBytes());
            double rawRate = (Double) rawRow.get("events_per_s");

            Configuration production = JobEnvironment.configuration(
                    "file://" + out.toAbsolutePath().resolve("checkpoints-" + runId), checkpointInterval);
            extraConf.forEach(production::setString);
            report.put("extra_conf", extraConf);
            PayoutSettings settings = new PayoutSettings(256, 10_000, 0x6a09e667f3bcc908L, 0xbb67ae8584caa73bL);
            this.production = production;
            if (warmUpEvents > 0) {
                warmUpTopic = "bench.warmup." + runId;
                generate(gala, kafka, warmUpTopic, warmUpEvents);
            }
            if (runs.contains("payout")) {
                SettlementDatabase warmDb = database(gala, "warm_payout");
                warmUp("payout", env -> Topologies.payout(env, kafka, warmUpTopic, control, gala, settings, warmDb,
                        "warm-payout"));
            }
            for (int p : runs.contains("payout") ? parallelisms : List.<Integer>of()) {
                SettlementDatabase db = database(gala, "payout_p" + p);
                String run = "payout-p" + p;
                FlinkRun.Checkpoints cp = FlinkRun.run(run, production, p,
                        env -> Topologies.payout(env, kafka, topic, control, gala, settings, db, run));
                record(PAYOUT, p, Probe.named(run), cpu, cp).put("verified", verify(db, manifest));
            }
            if (runs.contains("counting")) {
                SettlementDatabase warmDb = database(gala, "warm_count");
                warmUp("counting", env -> Topologies.counting(env, kafka, warmUpTopic, gala, warmDb, "warm-counting"));
            }
            for (int p : runs.contains("counting") ? parallelisms : List.<Integer>of()) {
                SettlementDatabase db = database(gala, "count_p" + p);
                String run = "counting-p" + p;
                FlinkRun.Checkpoints cp = FlinkRun.run(run, production, p,
                        env -> Topologies.counting(env, kafka, topic, gala, db, run));
                record("counting path", p, Probe.named(run), cpu, cp);
            }
            if (runs.contains("sql-peer")) {
                warmUp("sql-peer", env -> Peers.sql(env, kafka, warmUpTopic, gala, "warm-sql-peer"));
            }
            for (int p : runs.contains("sql-peer") ? parallelisms : List.<Integer>of()) {
                String run = "sql-peer-p" + p;
                FlinkRun.Checkpoints cp = FlinkRun.run(run, production, p,
                        env -> Peers.sql(env, kafka, topic, gala, run));
                record(SQL_PEER, p, Probe.named(run), cpu, cp);
            }
            if (runs.contains("datastream-peer")) {
                warmUp("datastream-peer", env -> Peers.dataStream(env, kafka, warmUpTopic, gala,
                        "warm-datastream-peer"));
            }
            for (int p : runs.contains("datastream-peer") ? parallelisms : List.<Integer>of()) {
                String run = "datastream-peer-p" + p;
                FlinkRun.Checkpoints cp = FlinkRun.run(run, production, p,
                        env -> Peers.dataStream(env, kafka, topic, gala, run));
                record(DATASTREAM_PEER, p, Probe.named(run), cpu, cp);
            }
            for (Map<String, Object> row : throughput) {
                row.put("ratio_to_raw", ((Double) row.get("events_per_s")) / rawRate);
            }
            report.put("against_peers", againstPeers());
            report.put("throughput", throughput);

            List<Map<String, Object>> state = new ArrayList<>();
            for (long devices : runs.contains("state") ? stateDevices : List.<Long>of()) {
                String run = "dedupe-" + devices;
                FlinkRun.Checkpoints cp = FlinkRun.run(run, production, 1,
                        env -> Topologies.dedupeState(env, gala, devices, eventsPerDevice, settings, run));
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("devices", devices);
                row.put("events_per_device", eventsPerDevice);
                row.put("full_checkpoint_bytes", cp.lastFullStateBytes());
                row.put("bytes_per_device", (double) cp.lastFullStateBytes() / devices);
                row.put("dedupe_events_per_s", Probe.named(run).records() / Probe.named(run).seconds());
                row.put("checkpoints", cp);
                state.add(row);
                log("dedupe state after %,d devices: %,d bytes, %.1f bytes/device", devices,
                        cp.lastFullStateBytes(), (double) cp.lastFullStateBytes() / devices);
            }
            report.put("dedupe_state", state);
        } finally {
            dropDatabases();
            Runtime.getRuntime().removeShutdownHook(dropOnExit);
        }
        report.put("sizing", Sizing.table(throughput));
        report.put("finished", Instant.now().toString());
        report.put("load_at_end", loadAverage());
        JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build()
                .writeValue(out.resolve("results.json").toFile(), report);
        String md = Report.markdown(report);
        Files.writeString(out.resolve("results.md"), md);
        System.out.println(md);
        return 0;
    }

    /**
     * Each measured job once, unreported, on a small topic of its own: otherwise the first job measured pays
     * for class loading and JIT compilation of the code every job shares, and the order of runs would bias them.
     */
    /**
     * Runs one kind of job once, unreported, on the warm-up topic, right before that kind's measured runs: class
     * loading and most of the JIT's work happen here, not in the measured run, and the JIT's profiles are the
     * measured job's own, not those of the kind measured before it.
     */
    private void warmUp(String kind, FlinkRun.Topology topology) throws Exception {
        if (warmUpTopic == null) {
            return;
        }
        FlinkRun.run("warm-" + kind, production, 1, topology);
        log("warmed up %s on %,d records of %s", kind, Probe.named("warm-" + kind).records(), warmUpTopic);
        awaitQuietCompiler();
    }

    /**
     * Waits (at most a minute) until the JIT compiler has had 2 s without compiling more than 20 ms: on a busy
     * machine its queue from the warm-up would otherwise be compiled during the measured run, and be counted
     * as the job's CPU per event.
     */
    private static void awaitQuietCompiler() throws InterruptedException {
        var jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
            return;
        }
        long deadline = System.nanoTime() + 60_000_000_000L;
        long before = jit.getTotalCompilationTime();
        while (System.nanoTime() < deadline) {
            Thread.sleep(2_000);
            long now = jit.getTotalCompilationTime();
            if (now - before <= 20) {
                log("JIT compiler quiet (%,d ms compiling in total)", now);
                return;
            }
            before = now;
        }
        log("JIT compiler still busy after a minute; measuring anyway");
    }

    private Manifest generate(GalaProfile gala, Properties kafka, String topic, long events) {
        ShakeTrafficGenerator generator = new ShakeTrafficGenerator(gala, seed, events / gala.rounds().size());
        Manifest manifest = new Manifest();
        manifest.profile = gala.name();
        manifest.seed = seed;
        manifest.topic = topic;
        manifest.eventsPerRound = generator.eventsPerRound();
        manifest.partitions = ShakeTopics.ensure(kafka, topic, gala.traffic().partitions()).partitions();
        try (KafkaShakeProducer producer = new KafkaShakeProducer(kafka, topic)) {
            generator.generate(manifest.andThen(producer));
        }
        return manifest.finish();
    }

    static final String PAYOUT = "payout pipeline";
    /** The steady-state window of a run: from this share of its records in to that share. */
    static final double STEADY_FROM = 0.25;
    static final double STEADY_TO = 0.95;
    static final String SQL_PEER = "peer: Flink SQL dedupe (ROW_NUMBER = 1, mini-batch) + counts";
    static final String DATASTREAM_PEER = "peer: keyBy(event id) + ValueState with TTL + counts";

    /**
     * The payout pipeline's events per CPU-second against each peer's and raw consume's, per parallelism:
     * above 1 means the payout job, which also decides and settles, costs less CPU per shake than the peer.
     */
    private List<Map<String, Object>> againstPeers() {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Map<String, Object> payout : throughput) {
            if (!PAYOUT.equals(payout.get("what"))) {
                continue;
            }
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("parallelism", payout.get("parallelism"));
            row.put("payout_events_per_cpu_s", payout.get("events_per_jvm_cpu_s"));
            row.put("payout_steady_events_per_cpu_s", payout.get("steady_events_per_jvm_cpu_s"));
            for (Map<String, Object> other : throughput) {
                boolean samePar = other.get("parallelism").equals(payout.get("parallelism"));
                boolean raw = ((String) other.get("what")).startsWith("raw");
                if (other != payout && (samePar || raw)) {
                    row.put("per CPU-s ratio to " + other.get("what"),
                            (Double) payout.get("events_per_jvm_cpu_s") / (Double) other.get("events_per_jvm_cpu_s"));
                    if (payout.get("steady_events_per_jvm_cpu_s") instanceof Double mine
                            && other.get("steady_events_per_jvm_cpu_s") instanceof Double theirs) {
                        row.put("steady per CPU-s ratio to " + other.get("what"), mine / theirs);
                    }
                }
            }
            rows.add(row);
        }
        return rows;
    }

    private Map<String, Object> record(String what, int parallelism, Probe probe, CpuClock cpu,
            FlinkRun.Checkpoints cp) {
        double seconds = probe.seconds();
        double rate = probe.records() / seconds;
        CpuClock.Sample used = cpu.between(probe.firstNanos(), probe.lastNanos());
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("what", what);
        row.put("parallelism", parallelism);
        row.put("records", probe.records());
        row.put("seconds", seconds);
        row.put("events_per_s", rate);
        row.put("jvm_cpu_s", used.jvmCpu());
        row.put("events_per_jvm_cpu_s", probe.records() / used.jvmCpu());
        row.put("broker_cpu_s", used.brokerCpu());
        // Steady state: the CPU between the instants the 25%-th and the 95%-th of the records came in, so the
        // job's start-up (deployment, class loading, the first JIT compilations, the first fetches) is left out:
        // a fixed cost per job start, which a job running the whole night pays once.
        long[] steady = probe.window(STEADY_FROM, STEADY_TO);
        if (steady != null) {
            CpuClock.Sample steadyCpu = cpu.between(steady[0], steady[1]);
            row.put("steady_records", steady[2]);
            row.put("steady_jvm_cpu_s", steadyCpu.jvmCpu());
            row.put("steady_events_per_jvm_cpu_s", steady[2] / steadyCpu.jvmCpu());
        }
        if (cp != null) {
            row.put("checkpoints", cp);
            // Where the run's CPU went, by thread group; only for the Flink runs (the raw pass is one thread).
            row.put("cpu_by_thread", cpu.byThread(probe.firstNanos(), probe.lastNanos()));
            if (steady != null) {
                row.put("steady_cpu_by_thread", cpu.byThread(steady[0], steady[1]));
            }
        }
        row.put("load_after", loadAverage());
        throughput.add(row);
        log("%s p=%d: %,d records in %.2f s = %,.0f events/s; %.2f JVM CPU s (%,.0f events/CPU-s), broker %.2f CPU s%s",
                what, parallelism, probe.records(), seconds, rate, used.jvmCpu(), probe.records() / used.jvmCpu(),
                used.brokerCpu(), cp == null ? "" : "; checkpoints " + cp);
        return row;
    }

    private SettlementDatabase database(GalaProfile gala, String tag) throws Exception {
        String name = "bench_" + runId + "_" + tag;
        try (Connection c = DriverManager.getConnection(pg + "postgres", pgUser, "");
                Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        }
        databases.add(name);
        SettlementDatabase db = SettlementDatabase.of(pg + name, pgUser, "");
        SettlementSchema.migrate(db);
        RoundCatalog.register(db, gala.roundConfigs());
        return db;
    }

    /** The run was a correct one: the counts equal the generator's distinct valid shakes, and payouts exist. */
    private static String verify(SettlementDatabase db, Manifest manifest) throws Exception {
        try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), "");
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT (SELECT coalesce(sum(shakes), 0) FROM interaction_count),"
                        + " (SELECT count(*) FROM payout)")) {
            rs.next();
            long counted = rs.getLong(1);
            long payouts = rs.getLong(2);
            long expected = manifest.expected.distinctValidEvents();
            if (counted != expected || payouts == 0) {
                throw new IllegalStateException("payout run is wrong: counted " + counted + " distinct shakes, "
                        + "the generator made " + expected + "; " + payouts + " payouts");
            }
            return "counts = " + counted + " distinct valid shakes (as generated); " + payouts + " payouts";
        }
    }

    private synchronized void dropDatabases() {
        for (String name : List.copyOf(databases)) {
            databases.remove(name);
            try (Connection c = DriverManager.getConnection(pg + name, pgUser, "");
                    Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT gid FROM pg_prepared_xacts WHERE database = current_database()")) {
                List<String> gids = new ArrayList<>();
                while (rs.next()) {
                    gids.add(rs.getString(1));
                }
                for (String gid : gids) {
                    s.execute("ROLLBACK PREPARED '" + gid.replace("'", "''") + "'");
                }
            } catch (Exception e) {
                log("could not roll back prepared transactions in %s: %s", name, e);
            }
            try (Connection c = DriverManager.getConnection(pg + "postgres", pgUser, "");
                    Statement s = c.createStatement()) {
                s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
            } catch (Exception e) {
                log("could not drop %s: %s", name, e);
            }
        }
    }

    static Map<String, Object> machine() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("nproc", Runtime.getRuntime().availableProcessors());
        m.put("load_average", loadAverage());
        m.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        m.put("max_heap_mb", Runtime.getRuntime().maxMemory() >> 20);
        return m;
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (Exception e) {
            return "n/a";
        }
    }

    static void log(String format, Object... args) {
        System.out.printf(Locale.ROOT, "[bench] " + format + "%n", args);
    }
}
