package io.hongbao.rehearsal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Once a second, what the operator watches during the night, as one JSON line: from Flink's REST API the running
 * job (followed across a resubmission), the shake source's records read (the input rate is their difference; the
 * source's own rate metric is a 60 s average, too slow to show a 10x peak) and its {@code pendingRecords} (the
 * Kafka consumer lag the source sees: end offsets minus its position), back pressure and busy time (the worst
 * subtask of any vertex), the latest completed checkpoint's duration and size, and restarts; from the settlement
 * database the reconciliation views' per round figures ({@code reconciliation_round}: budget, paid, remaining,
 * payouts, swept) and when each round's {@code SWEPT} ledger line was committed. Nothing is derived here but
 * differences: the report does the rest.
 *
 * <p>With {@code --prometheus}, the input rate and the consumer lag come from Prometheus (the server scraping the
 * cluster's Flink reporters, {@code bin/prometheus}), as operators read them: {@code
 * irate(flink_taskmanager_job_task_operator_numRecordsOut[5s])} and {@code
 * flink_taskmanager_job_task_operator_pendingRecords} of the job's {@code Source: shakes} operator (label
 * {@code operator_name="Source:_shakes"}), summed over its
 * subtasks. Flink's REST API is still read for both, and its figure is taken where Prometheus has none (not scraped
 * yet, the series gone with a restart, Prometheus down); {@code sources} in each line says where each came from
 * ({@code prometheus}, {@code rest}) and {@code restInputRate} / {@code restLag} keep the REST figures Prometheus's
 * replaced. Back pressure, busy time, checkpoints and restarts come from the REST API.
 *
 * <p>A figure that cannot be read (the JobManager is down, the job is restarting) is left out of that line,
 * never guessed. The sampler runs until it is stopped (SIGTERM), each line flushed as it is written.
 */
@Command(name = "sample", mixinStandardHelpOptions = true,
        description = "Sample Flink's REST API and the settlement database every second into a JSON-lines file.")
final class Sampler implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--rest", defaultValue = "http://127.0.0.1:8081", description = "Flink REST API (default: ${DEFAULT-VALUE}).")
    String rest;

    @Option(names = "--prometheus", description = "Prometheus's base URL (e.g. http://127.0.0.1:9090): input rate and "
            + "consumer lag from its query API, the REST API's where it has none (default: the REST API's only).")
    String prometheusUrl;

    @Option(names = "--jdbc-url", required = true, description = "The settlement database.")
    String jdbcUrl;

    @Option(names = "--user", defaultValue = "hongbao_reconcile", description = "Database login, finance's (default: ${DEFAULT-VALUE}).")
    String user;

    @Option(names = "--out", required = true, description = "JSON-lines file to append the samples to.")
    Path out;

    @Option(names = "--interval-ms", defaultValue = "1000", description = "Sampling interval (default: ${DEFAULT-VALUE} ms).")
    long intervalMs;

    @Option(names = "--progress-seconds", defaultValue = "10", description = "Progress line interval (default: ${DEFAULT-VALUE}).")
    int progressSeconds;

    @Option(names = "--samples", defaultValue = "0", description = "Stop after N samples (tests; default: until stopped).")
    long maxSamples;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final Map<String, Long> restartsPerJob = new HashMap<>();
    private String sourceVertexJob;
    private String sourceVertex;
    private String recordsMetric;
    private String lagMetric;
    private long lastRecords = -1;
    private long lastRecordsAt;
    private Connection db;
    PrometheusQuery prometheus;
    /** The source operator whose records read and pendingRecords are the input rate and the lag. */
    static final String SOURCE_OPERATOR = "Source: shakes";

    @Override
    public Integer call() throws IOException, InterruptedException {
        Files.createDirectories(out.toAbsolutePath().getParent());
        if (prometheusUrl != null && !prometheusUrl.isBlank()) {
            prometheus = new PrometheusQuery(prometheusUrl);
        }
        long next = System.currentTimeMillis();
        long lastProgress = 0;
        try (BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND)) {
            for (long n = 0; maxSamples == 0 || n < maxSamples; n++) {
                ObjectNode sample = sample(System.currentTimeMillis());
                w.write(JSON.writeValueAsString(sample));
                w.newLine();
                w.flush();
                if (sample.get("t").asLong() - lastProgress >= progressSeconds * 1000L) {
                    lastProgress = sample.get("t").asLong();
                    System.out.println(progressLine(sample));
                    System.out.flush();
                }
                next += intervalMs;
                long sleep = next - System.currentTimeMillis();
                if (sleep > 0) {
                    Thread.sleep(sleep);
                } else {
                    next = System.currentTimeMillis(); // fell behind (a slow REST call): do not burst to catch up
                }
            }
        }
        return 0;
    }

    ObjectNode sample(long now) {
        ObjectNode s = JsonNodeFactory.instance.objectNode();
        s.put("t", now);
        try {
            sampleFlink(s);
        } catch (IOException | RuntimeException e) {
            s.put("flinkError", String.valueOf(e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        ObjectNode sources = s.putObject("sources");
        for (String figure : PROMETHEUS_FIGURES) {
            if (s.has(figure)) {
                sources.put(figure, "rest");
            }
        }
        if (prometheus != null && s.has("job")) {
            try {
                samplePrometheus(s, s.get("job").asText());
            } catch (IOException | RuntimeException e) {
                s.put("prometheusError", String.valueOf(e.getMessage()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            sampleDatabase(s);
        } catch (SQLException e) {
            s.put("dbError", e.getMessage());
            closeDb();
        }
        return s;
    }

    /** The figures Prometheus gives when it has them (else the REST API's). */
    static final List<String> PROMETHEUS_FIGURES = List.of("inputRate", "lag");

    /** The PromQL of each figure for one job: its shake source operator's, summed over the subtasks. */
    static String promQl(String figure, String jobId) {
        String selector = "{job_id=" + PrometheusQuery.quoted(jobId) + ",operator_name="
                + PrometheusQuery.quoted(reporterLabel(SOURCE_OPERATOR)) + "}";
        return switch (figure) {
            case "inputRate" -> "sum(irate(flink_taskmanager_job_task_operator_numRecordsOut" + selector + "[5s]))";
            case "lag" -> "sum(flink_taskmanager_job_task_operator_pendingRecords" + selector + ")";
            default -> throw new IllegalArgumentException(figure);
        };
    }

    /**
     * A name as Flink's PrometheusReporter writes it into a label value: every character but letters, digits,
     * {@code :} and {@code _} replaced by {@code _} ({@code Source: shakes} is {@code Source:_shakes}; seen on a
     * running cluster's reporter).
     */
    static String reporterLabel(String name) {
        return name.replaceAll("[^a-zA-Z0-9:_]", "_");
    }

    void samplePrometheus(ObjectNode s, String jobId) throws IOException, InterruptedException {
        for (String figure : PROMETHEUS_FIGURES) {
            OptionalDouble v = prometheus.value(promQl(figure, jobId));
            if (v.isPresent()) {
                choosePrometheus(s, figure, Math.round(v.getAsDouble()));
            }
        }
    }

    /** Prometheus's figure replaces the REST API's, which is kept as rest<Figure>. */
    static void choosePrometheus(ObjectNode s, String figure, long value) {
        if (s.has(figure)) {
            s.set("rest" + Character.toUpperCase(figure.charAt(0)) + figure.substring(1), s.get(figure));
        }
        s.put(figure, value);
        ((ObjectNode) s.get("sources")).put(figure, "prometheus");
    }

    private void sampleFlink(ObjectNode s) throws IOException, InterruptedException {
        JsonNode job = currentJob();
        if (job == null) {
            s.put("jobState", "NONE");
            return;
        }
        String jid = job.get("jid").asText();
        s.put("job", jid);
        JsonNode detail = get("/jobs/" + jid);
        s.put("jobState", detail.path("state").asText());
        if (!jid.equals(sourceVertexJob)) {
            sourceVertexJob = jid;
            sourceVertex = null;
            recordsMetric = null;
            lagMetric = null;
            lastRecords = -1;
        }
        long backPressure = -1;
        long busy = -1;
        for (JsonNode v : detail.path("vertices")) {
            String vid = v.get("id").asText();
            String name = v.path("name").asText();
            if (sourceVertex == null && name.startsWith("Source: shakes")) {
                sourceVertex = vid;
            }
            if (!"RUNNING".equals(v.path("status").asText())) {
                continue;
            }
            Map<String, JsonNode> m = metrics("/jobs/" + jid + "/vertices/" + vid + "/subtasks/metrics",
                    List.of("backPressuredTimeMsPerSecond", "busyTimeMsPerSecond"));
            backPressure = Math.max(backPressure, (long) m.getOrDefault("backPressuredTimeMsPerSecond", missing()).path("max").asDouble(-1));
            busy = Math.max(busy, (long) m.getOrDefault("busyTimeMsPerSecond", missing()).path("max").asDouble(-1));
        }
        if (backPressure >= 0) {
            s.put("backPressureMsPerS", backPressure);
        }
        if (busy >= 0) {
            s.put("busyMsPerS", busy);
        }
        if (sourceVertex != null && "RUNNING".equals(s.get("jobState").asText())) {
            sampleSource(s, jid);
        }
        JsonNode cp = get("/jobs/" + jid + "/checkpoints");
        ObjectNode c = s.putObject("checkpoints");
        c.put("completed", cp.path("counts").path("completed").asLong());
        c.put("failed", cp.path("counts").path("failed").asLong());
        c.put("restored", cp.path("counts").path("restored").asLong());
        JsonNode latest = cp.path("latest").path("completed");
        if (latest.isObject()) {
            c.put("lastId", latest.path("id").asLong());
            c.put("lastDurationMs", latest.path("end_to_end_duration").asLong());
            c.put("lastSizeBytes", latest.path("checkpointed_size").asLong());
            c.put("lastStateBytes", latest.path("state_size").asLong());
            c.put("lastAckMs", latest.path("latest_ack_timestamp").asLong());
        }
        JsonNode restarts = get("/jobs/" + jid + "/metrics?get=numRestarts");
        for (JsonNode r : restarts) {
            restartsPerJob.merge(jid, r.path("value").asLong(), Math::max);
        }
        s.put("restarts", restartsPerJob.values().stream().mapToLong(Long::longValue).sum());
        s.put("jobsSeen", restartsPerJob.size());
    }

    private void sampleSource(ObjectNode s, String jid) throws IOException, InterruptedException {
        String path = "/jobs/" + jid + "/vertices/" + sourceVertex + "/subtasks/metrics";
        if (recordsMetric == null || lagMetric == null) {
            for (JsonNode m : get(path)) {
                String id = m.get("id").asText();
                if (id.startsWith("Source__shakes.") && id.endsWith(".numRecordsOut") || id.equals("Source__shakes.numRecordsOut")) {
                    recordsMetric = id;
                }
                if (id.startsWith("Source__shakes") && id.endsWith(".pendingRecords")) {
                    lagMetric = id;
                }
            }
        }
        Map<String, JsonNode> m = metrics(path, java.util.stream.Stream.of(recordsMetric, lagMetric)
                .filter(java.util.Objects::nonNull).toList());
        long now = s.get("t").asLong();
        if (recordsMetric != null && m.containsKey(recordsMetric)) {
            long records = (long) m.get(recordsMetric).path("sum").asDouble();
            s.put("sourceRecords", records);
            if (lastRecords >= 0 && records >= lastRecords && now > lastRecordsAt) {
                s.put("inputRate", Math.round((records - lastRecords) * 1000.0 / (now - lastRecordsAt)));
            }
            lastRecords = records;
            lastRecordsAt = now;
        }
        if (lagMetric != null && m.containsKey(lagMetric)) {
            s.put("lag", (long) m.get(lagMetric).path("sum").asDouble());
        }
    }

    /** The job to follow: the running one, else the newest (a resubmitted job replaces a lost one). */
    private JsonNode currentJob() throws IOException, InterruptedException {
        JsonNode best = null;
        for (JsonNode j : get("/jobs/overview").path("jobs")) {
            boolean running = "RUNNING".equals(j.path("state").asText());
            if (best == null || running && !"RUNNING".equals(best.path("state").asText())
                    || running == "RUNNING".equals(best.path("state").asText())
                    && j.path("start-time").asLong() > best.path("start-time").asLong()) {
                best = j;
            }
        }
        return best;
    }

    private Map<String, JsonNode> metrics(String path, List<String> names) throws IOException, InterruptedException {
        Map<String, JsonNode> byId = new HashMap<>();
        if (names.isEmpty()) {
            return byId;
        }
        String get = URLEncoder.encode(String.join(",", names), StandardCharsets.UTF_8);
        for (JsonNode m : get(path + "?get=" + get + "&agg=sum,max")) {
            byId.put(m.get("id").asText(), m);
        }
        return byId;
    }

    private static JsonNode missing() {
        return JsonNodeFactory.instance.objectNode();
    }

    private JsonNode get(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(rest + path)).timeout(Duration.ofSeconds(3))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("GET " + path + ": HTTP " + r.statusCode());
        }
        return JSON.readTree(r.body());
    }

    private void sampleDatabase(ObjectNode s) throws SQLException {
        if (db == null) {
            db = DriverManager.getConnection(jdbcUrl, user, System.getenv().getOrDefault("HONGBAO_PG_PASSWORD", ""));
            db.setAutoCommit(true);
            try (Statement st = db.createStatement()) {
                st.execute("SET statement_timeout = 2000");
            }
        }
        ArrayNode rounds = s.putArray("rounds");
        long payouts = 0;
        Map<Integer, Long> sweptAt = new HashMap<>();
        try (Statement st = db.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT round_id, min(committed_at) FROM round_ledger "
                    + "WHERE kind = 'SWEPT' GROUP BY round_id")) {
                while (rs.next()) {
                    sweptAt.put(rs.getInt(1), rs.getTimestamp(2).getTime());
                }
            }
            try (ResultSet rs = st.executeQuery("SELECT round_id, budget_fen, payouts, paid_fen, remaining_fen, swept "
                    + "FROM reconciliation_round ORDER BY round_id")) {
                while (rs.next()) {
                    ObjectNode r = rounds.addObject();
                    r.put("id", rs.getInt(1));
                    r.put("budgetFen", rs.getLong(2));
                    r.put("payouts", rs.getLong(3));
                    r.put("paidFen", rs.getLong(4));
                    r.put("remainingFen", rs.getLong(5));
                    r.put("swept", rs.getBoolean(6));
                    Long at = sweptAt.get(rs.getInt(1));
                    if (at != null) {
                        r.put("sweptAtMs", at);
                    }
                    payouts += rs.getLong(3);
                }
            }
        }
        s.put("payouts", payouts);
    }

    private void closeDb() {
        try {
            if (db != null) {
                db.close();
            }
        } catch (SQLException ignored) {
            // reconnect at the next sample
        }
        db = null;
    }

    static String progressLine(JsonNode s) {
        StringBuilder b = new StringBuilder("[sampler] job ").append(s.path("jobState").asText("?"));
        if (s.has("inputRate")) {
            b.append(String.format(", input %,d rec/s (%s)", s.get("inputRate").asLong(),
                    s.path("sources").path("inputRate").asText("rest")));
        }
        if (s.has("lag")) {
            b.append(String.format(", lag %,d (%s)", s.get("lag").asLong(), s.path("sources").path("lag").asText("rest")));
        }
        if (s.path("checkpoints").has("lastId")) {
            b.append(String.format(", checkpoint %d (%,d ms)", s.get("checkpoints").get("lastId").asLong(),
                    s.get("checkpoints").get("lastDurationMs").asLong()));
        }
        if (s.has("payouts")) {
            b.append(String.format(", %,d payouts", s.get("payouts").asLong()));
        }
        for (JsonNode r : s.path("rounds")) {
            if (r.path("payouts").asLong() > 0 && !r.path("swept").asBoolean()) {
                b.append(String.format(", round %d: %,d of %,d fen left", r.get("id").asInt(),
                        r.get("remainingFen").asLong(), r.get("budgetFen").asLong()));
            }
        }
        if (s.has("flinkError")) {
            b.append(", Flink: ").append(s.get("flinkError").asText());
        }
        if (s.has("prometheusError")) {
            b.append(", Prometheus: ").append(s.get("prometheusError").asText());
        }
        if (s.has("dbError")) {
            b.append(", database: ").append(s.get("dbError").asText());
        }
        return b.toString();
    }
}
