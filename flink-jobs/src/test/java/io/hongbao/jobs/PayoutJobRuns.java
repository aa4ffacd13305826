package io.hongbao.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hongbao.ingest.event.RejectReason;
import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.ingest.event.ShakeEventCodec;
import io.hongbao.ingest.generator.GeneratedRecord;
import io.hongbao.ingest.generator.Manifest;
import io.hongbao.ingest.generator.ShakeTopics;
import io.hongbao.ingest.generator.ShakeTrafficGenerator;
import io.hongbao.ingest.testing.EmbeddedKafka;
import io.hongbao.jobs.testing.EmbeddedSettlementDatabase;
import io.hongbao.settlement.reconcile.Reconciliation;
import io.hongbao.settlement.reconcile.ReconciliationResult;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.client.JobStatusMessage;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.streaming.util.TestStreamEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.Utils;
import picocli.CommandLine;

/**
 * The shipped payout job ({@link PayoutJob}'s own command line) run in a test's MiniCluster against a real Kafka
 * broker and real PostgreSQL, and the checks of what it settled against a fault-free run and the generator's
 * manifest. Shared by the end-to-end suites ({@code AdversarialPayoutITCase}, {@code RescaleITCase}), so each
 * compares with the same definition of "the same payouts".
 */
final class PayoutJobRuns {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final EmbeddedKafka kafka;
    private final Path dir;
    private final Path profile;
    private final Path drawSecret;
    private final int partitions;

    /** @param dir where checkpoints and savepoints go; the draw secret is written there */
    PayoutJobRuns(EmbeddedKafka kafka, Path dir, Path profile, int partitions) throws Exception {
        this.kafka = kafka;
        this.dir = dir;
        this.profile = profile;
        this.partitions = partitions;
        this.drawSecret = dir.resolve("draw.secret");
        Files.writeString(drawSecret, "00112233445566778899aabbccddeeff");
    }

    // ---- the job ----------------------------------------------------------------------------------------------

    /** The test's command line; an option in {@code extra} replaces the test's default for it. */
    String[] jobArgs(Topics topics, EmbeddedSettlementDatabase.Database db, String... extra) {
        List<String> defaults = List.of("--profile", profile.toString(),
                "--bootstrap-servers", kafka.bootstrapServers(), "--topic", topics.shakes(),
                "--control-topic", topics.control(), "--dead-letter-topic", topics.deadLetters(),
                "--jdbc-url", db.job().jdbcUrl(), "--jdbc-user", "hongbao_job",
                "--draw-secret-file", drawSecret.toString(), "--shards", "16",
                "--checkpoint-dir", checkpointDir(topics).toUri().toString(),
                "--checkpoint-interval", "PT0.2S", "--count-flush-interval", "PT0.1S");
        List<String> given = List.of(extra);
        List<String> args = new ArrayList<>();
        for (int i = 0; i < defaults.size(); i += 2) {
            if (!given.contains(defaults.get(i))) {
                args.addAll(defaults.subList(i, i + 2));
            }
        }
        args.addAll(given);
        return args.toArray(String[]::new);
    }

    /** Where the runs on these topics keep their checkpoints (one folder per job id below it). */
    Path checkpointDir(Topics topics) {
        return dir.resolve("checkpoints-" + topics.shakes());
    }

    /** Runs the job to its end in this thread (with {@code --bounded}: a fault-free reference run). */
    int runJob(Topics topics, EmbeddedSettlementDatabase.Database db, String... extra) {
        return new CommandLine(new PayoutJob()).execute(jobArgs(topics, db, extra));
    }

    /** As {@link #runJob}, at the given parallelism (what {@code flink run -p} sets). */
    int runJob(MiniCluster cluster, int parallelism, Topics topics, EmbeddedSettlementDatabase.Database db,
            String... extra) {
        TestStreamEnvironment.setAsContext(cluster, parallelism);
        return runJob(topics, db, extra);
    }

    /**
     * The fault-free reference run: {@code records} into fresh topics, then the job over them, bounded, at
     * {@code parallelism}, into a fresh database (returned).
     */
    EmbeddedSettlementDatabase.Database referenceRun(MiniCluster cluster, int parallelism,
            EmbeddedSettlementDatabase postgres, List<GeneratedRecord> records) throws Exception {
        Topics topics = topics("reference");
        try (Shakes shakes = shakes(topics.shakes())) {
            records.forEach(shakes::send);
        }
        EmbeddedSettlementDatabase.Database db = postgres.freshDatabase("reference");
        assertThat(runJob(cluster, parallelism, topics, db, "--bounded")).as("the reference run's exit code").isZero();
        return db;
    }

    /** Submits the job at the MiniCluster's default parallelism and waits until it runs. */
    Running startJob(MiniCluster cluster, Topics topics, EmbeddedSettlementDatabase.Database db, String... extra)
            throws Exception {
        Set<JobID> before = new HashSet<>();
        cluster.listJobs().get().forEach(j -> before.add(j.getJobId()));
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> runJob(topics, db, extra));
        JobID[] id = new JobID[1];
        await("the job running", Duration.ofMinutes(1), () -> {
            assertThat(exit).isNotDone();
            for (JobStatusMessage j : cluster.listJobs().get()) {
                if (!before.contains(j.getJobId()) && j.getJobState() == JobStatus.RUNNING) {
                    id[0] = j.getJobId();
                    return true;
                }
            }
            return false;
        });
        Thread.sleep(2_000); // tasks deployed and sources assigned their splits
        return new Running(id[0], exit, dir);
    }

    /**
     * Submits the job at {@code parallelism}, as {@code flink run -p <parallelism>} or REST's {@code parallelism}
     * does: the job's own command line sets none, so the environment's default applies to every operator.
     */
    Running startJob(MiniCluster cluster, int parallelism, Topics topics, EmbeddedSettlementDatabase.Database db,
            String... extra) throws Exception {
        TestStreamEnvironment.setAsContext(cluster, parallelism);
        return startJob(cluster, topics, db, extra);
    }

    /** A job started with PayoutJob's command line in a MiniCluster. */
    record Running(JobID id, CompletableFuture<Integer> exit, Path dir) {
        /** Stop with a savepoint and end of event time (`flink stop --drain`): the gala is over. */
        void drain(MiniCluster cluster) throws Exception {
            cluster.stopWithSavepoint(id, dir.resolve("final-savepoints").toUri().toString(), true,
                    SavepointFormatType.CANONICAL).get();
            assertThat(exit.get()).as("the job's exit code").isZero();
        }

        /** Stop with a savepoint to resume from (`flink stop`); returns its path. */
        String stop(MiniCluster cluster, String target) throws Exception {
            String path = cluster.stopWithSavepoint(id, target, false, SavepointFormatType.CANONICAL).get();
            assertThat(exit.get()).isZero();
            return path;
        }

        /** Every failure the job went through (the REST API's exception history). */
        List<String> exceptions(URI rest) throws Exception {
            JsonNode entries = getJson(rest, "/jobs/" + id + "/exceptions").path("exceptionHistory").path("entries");
            List<String> out = new ArrayList<>();
            entries.forEach(e -> out.add(e.path("exceptionName").asText() + ": "
                    + e.path("stacktrace").asText().lines().findFirst().orElse("")));
            return out;
        }
    }

    /** Cancels every job of the cluster not finished yet (after a test that failed halfway). */
    static void cancelWhatStillRuns(MiniCluster cluster) throws Exception {
        for (JobStatusMessage j : cluster.listJobs().get()) {
            if (!j.getJobState().isGloballyTerminalState()) {
                cluster.cancelJob(j.getJobId()).get();
            }
        }
    }

    static JsonNode getJson(URI rest, String path) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(rest.resolve(path))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as("GET %s: %s", path, response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    static Duration defaultIdleness() {
        PayoutJob defaults = new PayoutJob();
        new CommandLine(defaults).parseArgs("--profile", "unused.yaml");
        return defaults.idleness;
    }

    // ---- checks -----------------------------------------------------------------------------------------------

    /** payout id -> the row's round, tier, user, amount and winning event id. */
    static Map<String, String> payouts(EmbeddedSettlementDatabase.Database db) throws Exception {
        Map<String, String> out = new TreeMap<>();
        try (Connection c = db.admin().connect("test"); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT payout_id, round_id, tier_id, user_id, amount_fen, event_id"
                        + " FROM payout")) {
            while (rs.next()) {
                out.put(rs.getString(1), "round " + rs.getInt(2) + " tier " + rs.getInt(3) + " user " + rs.getLong(4)
                        + " " + rs.getLong(5) + " fen event " + rs.getString(6));
            }
        }
        return out;
    }

    /** Payout for payout the rows of the reference run: none missing, none different, none extra. */
    static void assertSamePayouts(Map<String, String> reference, EmbeddedSettlementDatabase.Database db)
            throws Exception {
        Map<String, String> paid = payouts(db);
        Map<String, String> missing = new TreeMap<>(reference);
        paid.forEach((id, what) -> missing.remove(id, what));
        Map<String, String> extra = new TreeMap<>(paid);
        reference.forEach((id, what) -> extra.remove(id, what));
        assertThat(missing).as("payouts of the fault-free run missing or different here").isEmpty();
        assertThat(extra).as("payouts here the fault-free run did not make").isEmpty();
    }

    /** Every payout names the Kafka record that won it, and that record is the winning event. */
    void assertLineage(EmbeddedSettlementDatabase.Database db, String topic) throws Exception {
        Map<String, ShakeEvent> byLineage = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : kafka.readAll(topic)) {
            var decoded = ShakeEventCodec.decode(r.value());
            if (decoded.isAccepted()) {
                byLineage.put(r.partition() + "/" + r.offset(), decoded.event());
            }
        }
        try (Connection c = db.admin().connect("test"); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT payout_id, user_id, round_id, event_id, kafka_topic,"
                        + " kafka_partition, kafka_offset FROM payout")) {
            while (rs.next()) {
                ShakeEvent won = byLineage.get(rs.getInt(6) + "/" + rs.getLong(7));
                assertThat(rs.getString(5)).isEqualTo(topic);
                assertThat(won).as("lineage of %s", rs.getString(1)).isNotNull();
                assertThat(won.eventIdHex()).isEqualTo(rs.getString(4));
                assertThat(won.userId).isEqualTo(rs.getLong(2));
                assertThat(won.roundId).isEqualTo(rs.getInt(3));
            }
        }
    }

    /** Interactions equal the manifest's distinct shakes; rejects its reasons plus what the test sent. */
    static void assertCountsAndRejects(EmbeddedSettlementDatabase.Database db, Manifest manifest,
            Map<RejectReason, Long> extra) throws Exception {
        assertThat(db.queryLong("SELECT coalesce(sum(shakes), 0) FROM interaction_count"))
                .as("interactions").isEqualTo(manifest.expected.distinctValidEvents());
        for (var round : manifest.expected.rounds().entrySet()) {
            assertThat(db.queryLong("SELECT coalesce(sum(shakes), 0) FROM interaction_count WHERE round_id = "
                    + round.getKey())).as("round %d", round.getKey()).isEqualTo(round.getValue().distinctEvents());
        }
        for (RejectReason reason : RejectReason.values()) {
            long expected = manifest.expected.rejected().getOrDefault(reason, 0L) + extra.getOrDefault(reason, 0L);
            assertThat(db.queryLong("SELECT coalesce(max(records), 0) FROM rejected_count WHERE reason = '"
                    + reason + "'")).as(reason.name()).isEqualTo(expected);
        }
    }

    /** Rounds {@code 1..rounds} swept once, finance's reconciliation passes, no prepared transaction left. */
    static void assertEverythingReconciles(EmbeddedSettlementDatabase.Database db, int rounds) throws Exception {
        for (int round = 1; round <= rounds; round++) {
            assertThat(db.queryLong("SELECT count(*) FROM round_ledger WHERE kind = 'SWEPT' AND round_id = " + round))
                    .as("round %d swept once", round).isEqualTo(1);
        }
        try (Connection c = db.admin().connect("test")) {
            ReconciliationResult result = new Reconciliation().run(c);
            assertThat(result.violationCounts()).as("reconciliation").allSatisfy((check, n) -> assertThat(n).isZero());
            assertThat(result.passed()).isTrue();
        }
        assertThat(db.queryLong("SELECT count(*) FROM pg_prepared_xacts")).as("prepared transactions left").isZero();
    }

    /** Waits until the interaction counts have stopped moving: the job has taken in what was sent. */
    static void awaitSettled(EmbeddedSettlementDatabase.Database db) throws Exception {
        long[] last = {-1};
        long[] stableSince = {System.nanoTime()};
        await("the counts to settle", Duration.ofMinutes(2), () -> {
            long now = db.queryLong("SELECT coalesce(sum(shakes), 0) FROM interaction_count");
            if (now != last[0]) {
                last[0] = now;
                stableSince[0] = System.nanoTime();
                return false;
            }
            return now > 0 && System.nanoTime() - stableSince[0] > 2_000_000_000L;
        });
    }

    /**
     * Waits until the job has taken in everything sent: interactions and reject totals at what the manifest and
     * the test's extras add up to. A drain stops the sources where they are, so it must not come earlier.
     */
    static void awaitTotals(EmbeddedSettlementDatabase.Database db, Manifest manifest, Map<RejectReason, Long> extra)
            throws Exception {
        long rejects = manifest.expected.rejectedTotal() + extra.values().stream().mapToLong(Long::longValue).sum();
        try {
            await("every record taken in", Duration.ofMinutes(2), () ->
                    db.queryLong("SELECT coalesce(sum(shakes), 0) FROM interaction_count")
                            >= manifest.expected.distinctValidEvents()
                    && db.queryLong("SELECT coalesce(sum(records), 0) FROM rejected_count") >= rejects);
        } catch (AssertionError e) {
            Map<String, Long> byReason = new TreeMap<>();
            try (Connection c = db.admin().connect("test"); Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT reason, records FROM rejected_count")) {
                while (rs.next()) {
                    byReason.put(rs.getString(1), rs.getLong(2));
                }
            }
            throw new AssertionError(e.getMessage() + ": interactions "
                    + db.queryLong("SELECT coalesce(sum(shakes), 0) FROM interaction_count") + " of "
                    + manifest.expected.distinctValidEvents() + ", rejects " + byReason + " of "
                    + manifest.expected.rejected() + " plus " + extra, e);
        }
    }

    static void await(String what, Duration limit, Callable<Boolean> condition) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.call()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(100);
        }
    }

    long countRecords(String topic) {
        return kafka.readAll(topic).size();
    }

    long maxDeadLetterBytes(String topic) {
        return kafka.readAll(topic).stream().mapToLong(r -> r.value() == null ? 0 : r.value().length).max().orElse(0);
    }

    static boolean laterThan(GeneratedRecord r, long ms) {
        return r.event() != null && r.event().gatewayTsMs >= ms;
    }

    int partitionOf(byte[] key) {
        return Utils.toPositive(Utils.murmur2(key)) % partitions;
    }

    // ---- Kafka ------------------------------------------------------------------------------------------------

    /** The job's three topics, fresh; the shake topic with the gala's partitions. */
    Topics topics(String name) {
        Topics t = new Topics(EmbeddedKafka.freshTopic(name + "-shakes"), EmbeddedKafka.freshTopic(name + "-control"),
                EmbeddedKafka.freshTopic(name + "-dead-letters"));
        ShakeTopics.ensure(kafka.clientProperties(), t.shakes(), partitions);
        return t;
    }

    record Topics(String shakes, String control, String deadLetters) {}

    Shakes shakes(String topic) {
        return new Shakes(topic);
    }

    Control control(String topic) {
        return new Control(topic);
    }

    /** Writes shake records as the gateway does: key = user id, each user's records in one partition, in order. */
    final class Shakes implements AutoCloseable {
        private final String topic;
        private final KafkaProducer<byte[], byte[]> producer;
        private final KafkaProducer<byte[], byte[]> compressed;

        private Shakes(String topic) {
            this.topic = topic;
            this.producer = producer(Map.of());
            this.compressed = producer(Map.of(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4",
                    ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(8 << 20)));
        }

        void send(GeneratedRecord r) {
            producer.send(new ProducerRecord<>(topic, r.isTick() ? r.partition() : partitionOf(r.key()), r.key(),
                    r.value()));
        }

        void send(ShakeEvent e) {
            byte[] key = ShakeTrafficGenerator.keyOf(e.userId);
            producer.send(new ProducerRecord<>(topic, partitionOf(key), key, ShakeEventCodec.encode(e)));
        }

        void sendRaw(byte[] value) throws Exception {
            value[0] = ShakeEventCodec.FORMAT_V1;
            producer.send(new ProducerRecord<>(topic, 1, null, value)).get();
        }

        void sendCompressedRaw(byte[] value) throws Exception {
            value[0] = ShakeEventCodec.FORMAT_V1;
            compressed.send(new ProducerRecord<>(topic, 2, null, value)).get();
        }

        void flush() {
            producer.flush();
            compressed.flush();
        }

        @Override
        public void close() {
            producer.close();
            compressed.close();
        }
    }

    /** Writes control records as an operator's tool does, with the record timestamp it claims. */
    final class Control implements AutoCloseable {
        private final String topic;
        private final KafkaProducer<byte[], byte[]> producer;

        private Control(String topic) {
            this.topic = topic;
            this.producer = producer(Map.of());
        }

        void send(String json, Long timestampMs) {
            try {
                producer.send(new ProducerRecord<>(topic, 0, timestampMs, null, json.getBytes(StandardCharsets.UTF_8)))
                        .get();
            } catch (Exception e) {
                throw new IllegalStateException("control record not written: " + json, e);
            }
        }

        @Override
        public void close() {
            producer.close();
        }
    }

    /** Starts writing {@code records} to {@code topic} from a thread of its own, as the gateways do. */
    Producer produce(String topic, List<GeneratedRecord> records) {
        return new Producer(topic, records);
    }

    /**
     * The gateway: writes the gala in order at about 300 records a second from its own thread, so records keep
     * arriving while a test stops, resubmits or rescales the job (tiny.yaml's gala takes ~25 s).
     */
    final class Producer implements AutoCloseable {
        private final Thread thread;
        private volatile Throwable failure;

        private Producer(String topic, List<GeneratedRecord> records) {
            thread = new Thread(() -> {
                try (Shakes shakes = new Shakes(topic)) {
                    for (int i = 0; i < records.size(); i++) {
                        shakes.send(records.get(i));
                        if (i % 30 == 29) {
                            shakes.flush();
                            Thread.sleep(100);
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (Throwable t) {
                    failure = t;
                }
            }, "gala producer");
            thread.setDaemon(true);
            thread.start();
        }

        /** Waits until every record is written (and acknowledged). */
        void awaitDone() throws Exception {
            thread.join(Duration.ofMinutes(2).toMillis());
            assertThat(thread.isAlive()).as("the producer still writing").isFalse();
            assertThat(failure).as("the producer's failure").isNull();
        }

        @Override
        public void close() throws InterruptedException {
            thread.interrupt();
            thread.join();
        }
    }

    private KafkaProducer<byte[], byte[]> producer(Map<String, String> extra) {
        Properties props = kafka.clientProperties();
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.putAll(extra);
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }
}
