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
import io.hongbao.ingest.profile.GalaProfile;
import io.hongbao.ingest.testing.Datasets;
import io.hongbao.ingest.testing.EmbeddedKafka;
import io.hongbao.jobs.functions.DeadLetters;
import io.hongbao.jobs.testing.EmbeddedSettlementDatabase;
import io.hongbao.settlement.reconcile.Reconciliation;
import io.hongbao.settlement.reconcile.ReconciliationResult;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
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
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.InjectClusterRESTAddress;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The shipped payout job ({@link PayoutJob}'s own command line, sources and sinks) against a real Kafka broker,
 * real PostgreSQL and a Flink MiniCluster, fed what the real world sends around a generated gala: quiet spells
 * before, inside and between rounds; a stalled partition; retries of paid winners hours late in processing time
 * (a savepoint held, then resumed); one event id under a second user and in a second round; records of 1 MB and
 * lz4 records that expand past the limit; a control change resent, resent with other content, hostile numbers,
 * a backdated lowering; a round nobody shakes in. Each run is compared with a fault-free bounded run of the same
 * clean records (tiny.yaml's budgets never bind, so payouts depend only on the draw and the per-user caps):
 * payout for payout equal, counts equal the manifest, every reject counted under its reason and dead-lettered,
 * every round swept, reconciliation passes, and the job never failed once.
 */
class AdversarialPayoutITCase {
    @RegisterExtension
    @Order(1)
    static final EmbeddedKafka KAFKA = new EmbeddedKafka();

    @RegisterExtension
    @Order(2)
    static final EmbeddedSettlementDatabase POSTGRES = new EmbeddedSettlementDatabase();

    @RegisterExtension
    @Order(3)
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(2)
            .build());

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final GalaProfile TINY = GalaProfile.load(Datasets.file("tiny.yaml"));
    private static final int PARTITIONS = TINY.traffic().partitions();
    /** The gala as generated (tiny.yaml's two rounds); the job's profile adds a third round nobody shakes in. */
    private static final List<GeneratedRecord> GALA = new ArrayList<>();
    private static Manifest manifest;
    private static Path profile;
    private static Path drawSecret;
    /** payout id -> "user tier amount" of the fault-free reference run. */
    private static Map<String, String> reference;
    private static Map<String, ShakeEvent> referenceWinners;

    @TempDir
    static Path dir;

    @BeforeAll
    static void referenceRun(@InjectMiniCluster MiniCluster cluster) throws Exception {
        manifest = new Manifest();
        new ShakeTrafficGenerator(TINY, 31, 0).generate(manifest.andThen(GALA::add));
        manifest.finish();
        profile = dir.resolve("tiny-plus-encore.yaml");
        String tiny = Files.readString(Datasets.file("tiny.yaml"));
        int traffic = tiny.indexOf("\ntraffic:");
        Files.writeString(profile, tiny.substring(0, traffic) + """
                  - id: 3
                    name: encore
                    start_offset: PT60S
                    duration: PT10S
                    budget_fen: 500000
                    win_per_million: 50000
                    tiers:
                      - {id: 1, name: small, min_fen: 100, max_fen: 888, count_cap: 1000, weight: 1}
                    user_caps: {wins_per_round: 2, fen_per_gala: 20000}
                """ + tiny.substring(traffic));
        drawSecret = dir.resolve("draw.secret");
        Files.writeString(drawSecret, "00112233445566778899aabbccddeeff");

        Topics topics = Topics.fresh("reference");
        try (Shakes shakes = new Shakes(topics.shakes)) {
            GALA.forEach(shakes::send);
        }
        EmbeddedSettlementDatabase.Database db = POSTGRES.freshDatabase("reference");
        assertThat(runJob(topics, db, "--bounded")).isZero();
        reference = payouts(db);
        referenceWinners = new HashMap<>();
        Map<String, ShakeEvent> byHex = new HashMap<>();
        GALA.stream().filter(r -> r.event() != null).forEach(r -> byHex.putIfAbsent(r.event().eventIdHex(), r.event()));
        try (Connection c = db.admin().connect("test"); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT payout_id, event_id FROM payout")) {
            while (rs.next()) {
                referenceWinners.put(rs.getString(1), byHex.get(rs.getString(2)));
            }
        }
        assertThat(reference).hasSizeGreaterThan(50);
        assertThat(db.queryLong("SELECT count(*) FROM round_ledger WHERE kind = 'SWEPT'")).as("reference sweeps").isEqualTo(3);
    }

    @AfterEach
    void cancelWhatStillRuns(@InjectMiniCluster MiniCluster cluster) throws Exception {
        for (JobStatusMessage j : cluster.listJobs().get()) {
            if (!j.getJobState().isGloballyTerminalState()) {
                cluster.cancelJob(j.getJobId()).get();
            }
        }
    }

    @Test
    void quietSpellsCopiesAndHostileInputLoseNothingPayNothingExtraAndNeverFailTheJob(
            @InjectMiniCluster MiniCluster cluster, @InjectClusterRESTAddress URI rest) throws Exception {
        Topics topics = Topics.fresh("adversarial");
        EmbeddedSettlementDatabase.Database db = POSTGRES.freshDatabase("adversarial");
        Map<RejectReason, Long> extraRejects = new EnumMap<>(RejectReason.class);
        long roundMid = TINY.roundStartMs(TINY.rounds().get(0)) + 5_000;
        long round1End = TINY.roundEndMs(TINY.rounds().get(0));
        long round2Start = TINY.roundStartMs(TINY.rounds().get(1));
        List<ShakeEvent> round1Winners = referenceWinners.values().stream()
                .filter(e -> e.roundId == 1 && e.gatewayTsMs < roundMid).limit(3).toList();
        assertThat(round1Winners).hasSize(3);

        // The job as shipped. It starts before any traffic: a quiet spell longer than its idleness (the old default
        // of 30 s let the control stream's watermark close every round then, before a single shake).
        Running job = startJob(cluster, topics, db);
        Thread.sleep(Math.max(3_000, defaultIdleness().toMillis() + 3_000));
        try (Shakes shakes = new Shakes(topics.shakes); Control control = new Control(topics.control)) {
            int firstHalf = 0;
            while (firstHalf < GALA.size() && !laterThan(GALA.get(firstHalf), roundMid)) {
                shakes.send(GALA.get(firstHalf++));
            }
            shakes.flush();
            awaitSettled(db);
            Thread.sleep(3_000); // a pause inside the round on every partition

            // Copies while round 1 is open: the same event id under another user and in another round (refused,
            // never paid), and plain retries of paid winners (dropped).
            ShakeEvent otherUser = round1Winners.get(0).copy();
            otherUser.userId += 7_000_000;
            shakes.send(otherUser);
            ShakeEvent otherRound = round1Winners.get(1).copy();
            otherRound.roundId = 2;
            otherRound.gatewayTsMs = round2Start + 1_000;
            otherRound.clientTsMs = round2Start + 900;
            shakes.send(otherRound);
            extraRejects.merge(RejectReason.EVENT_ID_REUSED, 2L, Long::sum);
            for (ShakeEvent winner : round1Winners) {
                ShakeEvent retry = winner.copy();
                retry.gatewayTsMs = winner.gatewayTsMs + 1;
                shakes.send(retry);
            }
            // Records at and past the broker's limit: one just under 1 MiB, one lz4 batch expanding to 2 MiB.
            shakes.sendRaw(new byte[1_048_000]);
            shakes.sendCompressedRaw(new byte[2 << 20]);
            extraRejects.merge(RejectReason.OVERSIZED, 2L, Long::sum);
            shakes.flush();

            // An operator repeating a change, then changing its content; hostile numbers; a backdated lowering.
            String raise = "{\"change_id\":\"ops-1\",\"round_id\":1,\"action\":\"SET_BUDGET\",\"budget_fen\":2000000}";
            control.send(raise, null);
            control.send(raise, null);
            control.send("{\"change_id\":\"ops-1\",\"round_id\":1,\"action\":\"SET_BUDGET\",\"budget_fen\":3000000}", null);
            control.send("{\"change_id\":\"ops-2\",\"round_id\":1,\"action\":\"SET_BUDGET\","
                    + "\"budget_fen\":18446744073709552616}", null);
            control.send("{\"change_id\":\"ops-3\",\"round_id\":1,\"action\":\"SET_BUDGET\",\"budget_fen\":1e30}", null);
            control.send("{\"change_id\":\"ops-4\",\"round_id\":4294967297,\"action\":\"PAUSE\"}", null);
            control.send("{\"change_id\":\"ops-5\",\"round_id\":6.9,\"action\":\"PAUSE\"}", null);
            // Stamped a day back: before the round opened by any clock (brokers refuse timestamps far ahead).
            control.send("{\"change_id\":\"ops-6\",\"round_id\":1,\"action\":\"SET_BUDGET\",\"budget_fen\":1000}",
                    Math.min(TINY.roundStartMs(TINY.rounds().get(0)), System.currentTimeMillis()) - 86_400_000L);
            control.send("{\"change_id\":\"ops-7\",\"round_id\":3,\"action\":\"PAUSE\"}", null);
            Thread.sleep(3_000); // a second pause inside round 1

            for (int i = firstHalf; i < GALA.size(); i++) {
                shakes.send(GALA.get(i));
            }
            shakes.flush();
            await("round 1 swept", Duration.ofMinutes(2), () -> db.queryLong(
                    "SELECT count(*) FROM round_ledger WHERE kind = 'SWEPT' AND round_id = 1") == 1);

            // Round 1 is closed in event time: its ids are forgotten, and a retry of its winners is late, not new.
            for (ShakeEvent winner : round1Winners) {
                ShakeEvent late = winner.copy();
                late.gatewayTsMs = round1End - 1;
                shakes.send(late);
            }
            ShakeEvent fresh = round1Winners.get(0).copy();
            fresh.eventIdLo ^= 0x5a5a5a5aL;
            shakes.send(fresh);
            extraRejects.merge(RejectReason.LATE, round1Winners.size() + 1L, Long::sum);
            shakes.flush();
            awaitTotals(db, extraRejects);
        }
        job.drain(cluster);

        assertThat(job.exceptions(rest)).as("failures of the job").isEmpty();
        assertOffsetsCommittedUnderThePayoutGroups(topics, db);
        assertSamePayoutsAsTheReference(db);
        assertLineage(db, topics.shakes);
        assertCountsAndRejects(db, extraRejects);
        assertThat(countRecords(topics.deadLetters)).as("dead letters").isEqualTo(
                manifest.expected.rejectedTotal() + extraRejects.values().stream().mapToLong(Long::longValue).sum());
        assertThat(maxDeadLetterBytes(topics.deadLetters)).as("largest dead letter").isLessThan(1 << 20);
        assertThat(db.queryLong("SELECT count(*) FROM round_ledger WHERE entry_id LIKE 'change-ops-1%'"))
                .as("ops-1 applied once, its resend a repeat, its conflicting copy refused").isEqualTo(3);
        assertThat(db.queryLong("SELECT count(*) FROM round_ledger WHERE entry_id LIKE 'change-ops-1/repeat/%'"
                + " AND kind = 'CHANGE_REPEATED'")).isEqualTo(1);
        assertThat(db.queryLong("SELECT count(*) FROM round_ledger WHERE kind = 'CHANGE_REFUSED'"))
                .as("conflicting copy, 2^64+1000, 1e30, 4294967297, 6.9, backdated lowering").isEqualTo(6);
        assertThat(db.queryLong("SELECT budget_fen FROM round WHERE round_id = 1")).isEqualTo(2_000_000);
        assertEverythingReconciles(db);
    }

    @Test
    void aStalledPartitionHoldsItsRoundOpenAndRetriesAfterAHeldSavepointAreNotNew(
            @InjectMiniCluster MiniCluster cluster, @InjectClusterRESTAddress URI rest) throws Exception {
        Topics topics = Topics.fresh("stalled");
        EmbeddedSettlementDatabase.Database db = POSTGRES.freshDatabase("stalled");
        Duration idleness = defaultIdleness();
        Running first = startJob(cluster, topics, db);
        // Partition 0 stalls once round 1 is behind it: its round-2 records wait while the others send theirs.
        long round1End = TINY.roundEndMs(TINY.rounds().get(0));
        int stallFrom = 0;
        while (stallFrom < GALA.size() && !laterThan(GALA.get(stallFrom), round1End)) {
            stallFrom++;
        }
        List<GeneratedRecord> stalled = GALA.subList(stallFrom, GALA.size()).stream()
                .filter(r -> partitionOf(r.key()) == 0).toList();
        try (Shakes shakes = new Shakes(topics.shakes)) {
            GALA.subList(0, stallFrom).forEach(shakes::send);
            GALA.subList(stallFrom, GALA.size()).stream().filter(r -> partitionOf(r.key()) != 0).forEach(shakes::send);
            shakes.flush();
            awaitSettled(db);
            // Partition 0 stalls for longer than the job's idleness while the others are past round 1 and into 2.
            Thread.sleep(Math.max(3_000, idleness.toMillis() + 3_000));
            assertThat(db.queryLong("SELECT count(*) FROM round_ledger WHERE kind = 'SWEPT'"))
                    .as("no round closes while a partition has not reached its end").isZero();
        }
        // Operators stop the job with a savepoint and hold it; retries of paid winners wait on the topic.
        String savepoint = first.stop(cluster, dir.resolve("savepoints").toUri().toString());
        assertThat(first.exceptions(rest)).isEmpty();
        Set<String> paidBefore = payouts(db).keySet();
        assertThat(paidBefore).as("round 1's winners paid before the stall ends").isNotEmpty();
        Thread.sleep(3_000);
        try (Shakes shakes = new Shakes(topics.shakes)) {
            referenceWinners.entrySet().stream().filter(w -> paidBefore.contains(w.getKey())).limit(20)
                    .forEach(w -> shakes.send(w.getValue()));
            stalled.forEach(shakes::send);
        }
        Running resumed = startJob(cluster, topics, db, "--from-savepoint", savepoint);
        awaitTotals(db, Map.of());
        resumed.drain(cluster);

        assertThat(resumed.exceptions(rest)).as("failures of the resumed job").isEmpty();
        assertSamePayoutsAsTheReference(db);
        assertCountsAndRejects(db, Map.of());
        assertEverythingReconciles(db);
    }

    /**
     * The job commits its offsets (on each completed checkpoint) under its own group, per deployment, and under no
     * other (it once used a shared intake group): lag per group is the lag of one job.
     */
    private static void assertOffsetsCommittedUnderThePayoutGroups(Topics topics,
            EmbeddedSettlementDatabase.Database db) throws Exception {
        String deployment = DeadLetters.deploymentId(db.job(), PayoutJob.SETTLEMENT_SINK_NAME);
        try (Admin admin = Admin.create(KAFKA.clientProperties())) {
            Map<TopicPartition, OffsetAndMetadata> shakes = admin
                    .listConsumerGroupOffsets(PayoutJob.shakeGroupId(deployment)).partitionsToOffsetAndMetadata().get();
            assertThat(shakes.keySet()).extracting(TopicPartition::topic).as("shake offsets of the payout group")
                    .hasSize(PARTITIONS).containsOnly(topics.shakes);
            assertThat(shakes.values()).allSatisfy(o -> assertThat(o.offset()).isPositive());
            for (var group : admin.listConsumerGroups().all().get()) {
                if (!group.groupId().equals(PayoutJob.shakeGroupId(deployment))) {
                    assertThat(admin.listConsumerGroupOffsets(group.groupId()).partitionsToOffsetAndMetadata().get()
                            .keySet()).extracting(TopicPartition::topic).as("shake offsets under " + group.groupId())
                            .doesNotContain(topics.shakes);
                }
            }
        }
    }

    // ---- the job ----------------------------------------------------------------------------------------------

    private static String[] jobArgs(Topics topics, EmbeddedSettlementDatabase.Database db, String... extra) {
        List<String> args = new ArrayList<>(List.of("--profile", profile.toString(),
                "--bootstrap-servers", KAFKA.bootstrapServers(), "--topic", topics.shakes,
                "--control-topic", topics.control, "--dead-letter-topic", topics.deadLetters,
                "--jdbc-url", db.job().jdbcUrl(), "--jdbc-user", "hongbao_job",
                "--draw-secret-file", drawSecret.toString(), "--shards", "16",
                "--checkpoint-dir", dir.resolve("checkpoints-" + topics.shakes).toUri().toString(),
                "--checkpoint-interval", "PT0.2S", "--count-flush-interval", "PT0.1S"));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    private static int runJob(Topics topics, EmbeddedSettlementDatabase.Database db, String... extra) {
        return new CommandLine(new PayoutJob()).execute(jobArgs(topics, db, extra));
    }

    private static Running startJob(MiniCluster cluster, Topics topics, EmbeddedSettlementDatabase.Database db,
            String... extra) throws Exception {
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
        return new Running(id[0], exit);
    }

    /** A job started with PayoutJob's command line in a MiniCluster. */
    private record Running(JobID id, CompletableFuture<Integer> exit) {
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
            HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    rest.resolve("/jobs/" + id + "/exceptions")).GET().build(), HttpResponse.BodyHandlers.ofString());
            JsonNode entries = JSON.readTree(response.body()).path("exceptionHistory").path("entries");
            List<String> out = new ArrayList<>();
            entries.forEach(e -> out.add(e.path("exceptionName").asText() + ": "
                    + e.path("stacktrace").asText().lines().findFirst().orElse("")));
            return out;
        }
    }

    private static Duration defaultIdleness() {
        PayoutJob defaults = new PayoutJob();
        new CommandLine(defaults).parseArgs("--profile", "unused.yaml");
        return defaults.idleness;
    }

    // ---- checks -----------------------------------------------------------------------------------------------

    private static Map<String, String> payouts(EmbeddedSettlementDatabase.Database db) throws Exception {
        Map<String, String> out = new TreeMap<>();
        try (Connection c = db.admin().connect("test"); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT payout_id, user_id, tier_id, amount_fen FROM payout")) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getLong(2) + " tier " + rs.getInt(3) + " " + rs.getLong(4) + " fen");
            }
        }
        return out;
    }

    private static void assertSamePayoutsAsTheReference(EmbeddedSettlementDatabase.Database db) throws Exception {
        Map<String, String> paid = payouts(db);
        Map<String, String> missing = new TreeMap<>(reference);
        paid.forEach((id, what) -> missing.remove(id, what));
        Map<String, String> extra = new TreeMap<>(paid);
        reference.forEach((id, what) -> extra.remove(id, what));
        assertThat(missing).as("payouts of the fault-free run missing or different here").isEmpty();
        assertThat(extra).as("payouts here the fault-free run did not make").isEmpty();
    }

    /** Every payout names the Kafka record that won it, and that record is the winning event. */
    private static void assertLineage(EmbeddedSettlementDatabase.Database db, String topic) throws Exception {
        Map<String, ShakeEvent> byLineage = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : KAFKA.readAll(topic)) {
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
    private static void assertCountsAndRejects(EmbeddedSettlementDatabase.Database db,
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

    private static void assertEverythingReconciles(EmbeddedSettlementDatabase.Database db) throws Exception {
        for (int round = 1; round <= 3; round++) {
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
    private static void awaitSettled(EmbeddedSettlementDatabase.Database db) throws Exception {
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
    private static void awaitTotals(EmbeddedSettlementDatabase.Database db, Map<RejectReason, Long> extra)
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

    private static void await(String what, Duration limit, Callable<Boolean> condition) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.call()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(100);
        }
    }

    private static long countRecords(String topic) {
        return KAFKA.readAll(topic).size();
    }

    private static long maxDeadLetterBytes(String topic) {
        return KAFKA.readAll(topic).stream().mapToLong(r -> r.value() == null ? 0 : r.value().length).max().orElse(0);
    }

    private static boolean laterThan(GeneratedRecord r, long ms) {
        return r.event() != null && r.event().gatewayTsMs >= ms;
    }

    private static int partitionOf(byte[] key) {
        return Utils.toPositive(Utils.murmur2(key)) % PARTITIONS;
    }

    // ---- Kafka ------------------------------------------------------------------------------------------------

    private record Topics(String shakes, String control, String deadLetters) {
        static Topics fresh(String name) {
            Topics t = new Topics(EmbeddedKafka.freshTopic(name + "-shakes"), EmbeddedKafka.freshTopic(name + "-control"),
                    EmbeddedKafka.freshTopic(name + "-dead-letters"));
            ShakeTopics.ensure(KAFKA.clientProperties(), t.shakes, PARTITIONS);
            return t;
        }
    }

    /** Writes shake records as the gateway does: key = user id, each user's records in one partition, in order. */
    private static final class Shakes implements AutoCloseable {
        private final String topic;
        private final KafkaProducer<byte[], byte[]> producer;
        private final KafkaProducer<byte[], byte[]> compressed;

        Shakes(String topic) {
            this.topic = topic;
            this.producer = producer(Map.of());
            this.compressed = producer(Map.of(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4",
                    ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(8 << 20)));
        }

        void send(GeneratedRecord r) {
            producer.send(new ProducerRecord<>(topic, partitionOf(r.key()), r.key(), r.value()));
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

        private static KafkaProducer<byte[], byte[]> producer(Map<String, String> extra) {
            Properties props = KAFKA.clientProperties();
            props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
            props.put(ProducerConfig.ACKS_CONFIG, "all");
            props.putAll(extra);
            return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
        }
    }

    /** Writes control records as an operator's tool does, with the record timestamp it claims. */
    private static final class Control implements AutoCloseable {
        private final String topic;
        private final KafkaProducer<byte[], byte[]> producer;

        Control(String topic) {
            this.topic = topic;
            this.producer = Shakes.producer(Map.of());
        }

        void send(String json, Long timestampMs) {
            try {
                producer.send(new ProducerRecord<>(topic, 0, timestampMs, null,
                        json.getBytes(java.nio.charset.StandardCharsets.UTF_8))).get();
            } catch (Exception e) {
                throw new IllegalStateException("control record not written: " + json, e);
            }
        }

        @Override
        public void close() {
            producer.close();
        }
    }
}
