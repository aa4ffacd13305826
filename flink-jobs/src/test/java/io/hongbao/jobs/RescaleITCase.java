package io.hongbao.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hongbao.ingest.generator.GeneratedRecord;
import io.hongbao.ingest.generator.Manifest;
import io.hongbao.ingest.generator.ShakeTrafficGenerator;
import io.hongbao.ingest.profile.GalaProfile;
import io.hongbao.ingest.testing.Datasets;
import io.hongbao.ingest.testing.EmbeddedKafka;
import io.hongbao.jobs.testing.EmbeddedSettlementDatabase;
import io.hongbao.settlement.sink.TransactionId;
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
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.InjectClusterRESTAddress;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rescaling the shipped payout job mid-round while shakes keep arriving, the way operators do it on a session
 * cluster: stop with a savepoint, resubmit from it at another parallelism (`flink stop`, then `flink run -p N -s`).
 * 2 -> 4 in the middle of round 1, 4 -> 1 in its second half, 1 -> 4 in the middle of round 2; then an attempt at
 * 4 is lost while a checkpoint is in flight (every writer subtask has prepared its transaction for it) and the
 * job is resumed at 1 from the last retained checkpoint: the transactions of subtasks 1-3, which no longer
 * exist, must be rolled back by the one writer left, and their records paid again exactly once.
 *
 * <p>The second test does 2 -> 4 -> 1 with Flink's adaptive scheduler instead: the job keeps running and is
 * rescaled in place through the resource requirements REST API (no savepoint, no resubmission); each rescale
 * restarts it from its latest checkpoint at the new parallelism.
 *
 * <p>Everything is checked through the job's outputs only (settlement tables, dead-letter topic), against a
 * fault-free bounded run of the same records at parallelism 2: the same payouts row for row (round, tier, user,
 * amount, event id), none twice, every budget, tier cap and user cap held (the finale's budget binds, so the
 * budget shards' spending must move with their key groups), interactions per round equal to the generator's
 * distinct valid shakes, every reject counted under its reason and dead-lettered once, reconciliation passing,
 * nothing left prepared, no failure in any attempt.
 */
class RescaleITCase {
    @RegisterExtension
    @Order(1)
    static final EmbeddedKafka KAFKA = new EmbeddedKafka();

    @RegisterExtension
    @Order(2)
    static final EmbeddedSettlementDatabase POSTGRES = new EmbeddedSettlementDatabase();

    /** Two TaskManagers with two slots: room for parallelism 4. */
    @RegisterExtension
    @Order(3)
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(2)
            .setNumberSlotsPerTaskManager(2)
            .build());

    private static final GalaProfile TINY = GalaProfile.load(Datasets.file("tiny.yaml"));
    private static final int PARTITIONS = TINY.traffic().partitions();
    /** tiny.yaml's finale budget, cut so that it binds: the shards run dry and the sweeper pays the rest. */
    static final long FINALE_BUDGET_FEN = 160_000;
    /** The settlement sink's gids: hb:<sink name>:... */
    private static final String GID_PREFIX = TransactionId.prefix(PayoutJob.SETTLEMENT_SINK_NAME);

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<GeneratedRecord> GALA = new ArrayList<>();
    private static Manifest manifest;
    private static PayoutJobRuns runs;
    private static Map<String, String> reference;

    @TempDir
    static Path dir;

    @BeforeAll
    static void referenceRun(@InjectMiniCluster MiniCluster cluster) throws Exception {
        manifest = new Manifest();
        new ShakeTrafficGenerator(TINY, 47, 0).generate(manifest.andThen(GALA::add));
        manifest.finish();
        runs = new PayoutJobRuns(KAFKA, dir, bindingFinale(dir.resolve("tiny-binding-finale.yaml")), PARTITIONS);

        EmbeddedSettlementDatabase.Database db = runs.referenceRun(cluster, 2, POSTGRES, GALA);
        reference = PayoutJobRuns.payouts(db);
        assertThat(reference).hasSizeGreaterThan(100);
        assertThat(db.queryLong("SELECT coalesce(sum(amount_fen), 0) FROM payout WHERE round_id = 2"))
                .as("the finale's budget binds in the reference run: nearly all of it paid")
                .isGreaterThan(FINALE_BUDGET_FEN * 99 / 100);
        PayoutJobRuns.assertEverythingReconciles(db, 2);
    }

    @AfterEach
    void cancelWhatStillRuns(@InjectMiniCluster MiniCluster cluster) throws Exception {
        PayoutJobRuns.cancelWhatStillRuns(cluster);
    }

    @Test
    void rescaledMidRoundTwoFourOneThenLostAtFourAndResumedAtOnePaysExactlyTheFaultFreePayouts(
            @InjectMiniCluster MiniCluster cluster, @InjectClusterRESTAddress URI rest) throws Exception {
        PayoutJobRuns.Topics topics = runs.topics("rescale");
        EmbeddedSettlementDatabase.Database db = POSTGRES.freshDatabase("rescale");
        String savepoints = dir.resolve("savepoints").toUri().toString();
        List<String> failures = new ArrayList<>();

        PayoutJobRuns.Running atTwo = runs.startJob(cluster, 2, topics, db);
        assertParallelism(rest, atTwo, 2);
        try (PayoutJobRuns.Producer producer = runs.produce(topics.shakes(), GALA)) {
            awaitMidRound(db, 1, 0.25);
            String first = stopMidRound(cluster, rest, atTwo, db, 1, savepoints, failures);

            PayoutJobRuns.Running atFour = runs.startJob(cluster, 4, topics, db, "--from-savepoint", first);
            assertParallelism(rest, atFour, 4);
            awaitMidRound(db, 1, 0.7);
            String second = stopMidRound(cluster, rest, atFour, db, 1, savepoints, failures);

            PayoutJobRuns.Running atOne = runs.startJob(cluster, 1, topics, db, "--from-savepoint", second);
            assertParallelism(rest, atOne, 1);
            awaitMidRound(db, 2, 0.2);
            String third = stopMidRound(cluster, rest, atOne, db, 2, savepoints, failures);

            // Longer checkpoints at 4, so that every writer subtask has payouts to prepare when one is held open.
            PayoutJobRuns.Running lost = runs.startJob(cluster, 4, topics, db, "--from-savepoint", third,
                    "--checkpoint-interval", "PT1S");
            assertParallelism(rest, lost, 4);
            awaitMidRound(db, 2, 0.45);
            Orphans orphans = loseWithACheckpointInFlight(cluster, rest, lost, db);
            failures.addAll(lost.exceptions(rest));
            assertThat(orphans.gids()).as("transactions prepared for the checkpoint the lost attempt never completed")
                    .isNotEmpty();
            assertThat(orphans.subtasks()).as("prepared by subtasks that do not exist at parallelism 1")
                    .anyMatch(s -> s >= 1);

            PayoutJobRuns.Running resumed = runs.startJob(cluster, 1, topics, db, "--from-savepoint",
                    orphans.restoreFrom());
            assertParallelism(rest, resumed, 1);
            assertThat(preparedGids(db)).as("the lost attempt's orphans, rolled back by the one writer left")
                    .doesNotContainAnyElementsOf(orphans.gids());
            for (String gid : orphans.gids()) {
                assertThat(db.queryLong("SELECT count(*) FROM settlement_commit WHERE gid = '" + gid + "'"))
                        .as("%s rolled back, not committed", gid).isZero();
            }

            producer.awaitDone();
            PayoutJobRuns.awaitTotals(db, manifest, Map.of());
            resumed.drain(cluster);
            failures.addAll(resumed.exceptions(rest));
        }

        assertThat(failures).as("failures in any attempt (the lost one was cancelled, not failed)").isEmpty();
        assertEveryInvariant(db, topics);
    }

    /**
     * Flink's adaptive scheduler, rescaling the running job in place when its resource requirements change (REST
     * {@code PUT /jobs/<id>/resource-requirements}, what the Web UI's rescale does): 2 -> 4 in the middle of round
     * 1, 4 -> 1 in the middle of round 2, while shakes keep arriving. Each rescale restarts the job from its latest
     * checkpoint at the new parallelism, so what it leaves prepared is an orphan for the writers at the new one.
     */
    @Test
    void adaptiveSchedulerRescalesTwoFourOneThroughTheResourceRequirementsApi() throws Exception {
        Configuration conf = new Configuration();
        conf.setString("jobmanager.scheduler", "adaptive");
        // Rescale as soon as asked (defaults: 30 s cooldown, up to 60 s waiting for resources to settle).
        conf.setString("jobmanager.adaptive-scheduler.executing.cooldown-after-rescaling", "1 s");
        conf.setString("jobmanager.adaptive-scheduler.executing.resource-stabilization-timeout", "1 s");
        conf.setString("rest.bind-port", "0");
        MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder().setConfiguration(conf)
                .setNumTaskManagers(2).setNumSlotsPerTaskManager(2).build());
        cluster.start();
        try {
            URI rest = cluster.getRestAddress().get();
            PayoutJobRuns.Topics topics = runs.topics("adaptive");
            EmbeddedSettlementDatabase.Database db = POSTGRES.freshDatabase("adaptive");
            PayoutJobRuns.Running job = runs.startJob(cluster, 2, topics, db);
            assertParallelism(rest, job, 2);
            try (PayoutJobRuns.Producer producer = runs.produce(topics.shakes(), GALA)) {
                awaitMidRound(db, 1, 0.25);
                rescale(rest, job, 4, db, 1);
                awaitMidRound(db, 2, 0.2);
                rescale(rest, job, 1, db, 2);
                producer.awaitDone();
                PayoutJobRuns.awaitTotals(db, manifest, Map.of());
                job.drain(cluster);
            }
            assertThat(job.exceptions(rest)).as("failures of the job").isEmpty();
            assertEveryInvariant(db, topics);
        } finally {
            cluster.closeAsync().get();
        }
    }

    /**
     * Sets every vertex's parallelism bounds to 1..{@code parallelism} (capped at its max parallelism: the
     * profile's sources are never parallel) and waits until the job runs at it, still inside round {@code round}.
     */
    private static void rescale(URI rest, PayoutJobRuns.Running job, int parallelism,
            EmbeddedSettlementDatabase.Database db, int round) throws Exception {
        ObjectNode requirements = JSON.createObjectNode();
        for (JsonNode v : PayoutJobRuns.getJson(rest, "/jobs/" + job.id()).path("vertices")) {
            requirements.putObject(v.path("id").asText()).putObject("parallelism").put("lowerBound", 1)
                    .put("upperBound", Math.min(parallelism, v.path("maxParallelism").asInt()));
        }
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        rest.resolve("/jobs/" + job.id() + "/resource-requirements"))
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(requirements))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as("PUT resource-requirements: %s", response.body()).isEqualTo(200);
        PayoutJobRuns.await("the job running at " + parallelism, Duration.ofMinutes(1), () -> {
            JsonNode details = PayoutJobRuns.getJson(rest, "/jobs/" + job.id());
            if (!"RUNNING".equals(details.path("state").asText())) {
                return false;
            }
            try {
                assertParallelism(rest, job, parallelism);
                return true;
            } catch (AssertionError notYet) {
                return false;
            }
        });
        assertThat(db.queryLong("SELECT count(*) FROM round_ledger WHERE kind = 'SWEPT' AND round_id = " + round))
                .as("round %d still open when the job runs at %d", round, parallelism).isZero();
    }

    /** Waits until the job has counted {@code share} of round {@code round}'s distinct shakes. */
    private static void awaitMidRound(EmbeddedSettlementDatabase.Database db, int round, double share)
            throws Exception {
        long target = (long) (manifest.expected.rounds().get(round).distinctEvents() * share);
        PayoutJobRuns.await("round " + round + " " + (int) (share * 100) + "% counted", Duration.ofMinutes(2),
                () -> counted(db, round) >= target);
    }

    /**
     * `flink stop` with a savepoint, checked to be mid-round (the round neither fully counted nor swept) and to
     * leave nothing prepared: the savepoint covers every transaction its writers prepared, and they are
     * committed before the job ends.
     */
    private static String stopMidRound(MiniCluster cluster, URI rest, PayoutJobRuns.Running job,
            EmbeddedSettlementDatabase.Database db, int round, String target, List<String> failures) throws Exception {
        String savepoint = job.stop(cluster, target);
        failures.addAll(job.exceptions(rest));
        assertThat(counted(db, round)).as("round %d not yet fully counted at the savepoint", round)
                .isLessThan(manifest.expected.rounds().get(round).distinctEvents());
        assertThat(db.queryLong("SELECT count(*) FROM round_ledger WHERE kind = 'SWEPT' AND round_id = " + round))
                .as("round %d not swept at the savepoint", round).isZero();
        assertThat(preparedGids(db)).as("prepared transactions left by a stop with savepoint").isEmpty();
        return savepoint;
    }

    /** The gids of a checkpoint in flight when its attempt was lost, and the checkpoint to resume from. */
    private record Orphans(List<String> gids, List<Integer> subtasks, String restoreFrom) {}

    /**
     * Holds a checkpoint open (the interaction counts' table is locked, so the count writer cannot finish its
     * checkpoint flush) until every settlement writer subtask that had payouts has prepared its transaction for it,
     * then cancels the job: what a lost TaskManager or JobManager leaves behind. Retries while no subtask other
     * than 0 had anything to prepare.
     */
    private static Orphans loseWithACheckpointInFlight(MiniCluster cluster, URI rest, PayoutJobRuns.Running job,
            EmbeddedSettlementDatabase.Database db) throws Exception {
        PayoutJobRuns.await("a completed checkpoint at parallelism 4", Duration.ofMinutes(1),
                () -> completedCheckpoint(rest, job) != null);
        for (int attempt = 0; ; attempt++) {
            try (Connection lock = db.admin().connect("test-lock"); Statement s = lock.createStatement()) {
                lock.setAutoCommit(false);
                s.execute("LOCK TABLE interaction_count IN SHARE MODE");
                // Long enough for the next checkpoint to reach every writer and for REST's cached checkpoint
                // statistics (web.refresh-interval, 3 s) to show the last one that completed.
                Thread.sleep(4_500);
                long completed = completedCheckpoint(rest, job).path("id").asLong();
                List<String> gids = new ArrayList<>();
                List<Integer> subtasks = new ArrayList<>();
                for (String gid : preparedGids(db)) {
                    TransactionId id = TransactionId.parse(gid).orElseThrow();
                    if (id.afterCheckpointId() >= completed) {
                        gids.add(gid);
                        subtasks.add(id.subtask());
                    }
                }
                if (subtasks.stream().anyMatch(i -> i >= 1) || attempt == 4) {
                    cluster.cancelJob(job.id()).get(); // the checkpoint coordinator stops: the held one never completes
                    lock.rollback();
                    PayoutJobRuns.await("the lost attempt gone", Duration.ofMinutes(1),
                            () -> cluster.getJobStatus(job.id()).get() == JobStatus.CANCELED);
                    JsonNode latest = completedCheckpoint(rest, job);
                    assertThat(latest.path("id").asLong()).as("no checkpoint completed after the hold").isEqualTo(completed);
                    return new Orphans(gids, subtasks, latest.path("external_path").asText());
                }
                lock.rollback();
            }
            Thread.sleep(1_500); // the held checkpoint completes; try the next one
        }
    }

    /** The latest completed checkpoint of the job (REST), or null before the first. */
    private static JsonNode completedCheckpoint(URI rest, PayoutJobRuns.Running job) throws Exception {
        JsonNode latest = PayoutJobRuns.getJson(rest, "/jobs/" + job.id() + "/checkpoints").path("latest")
                .path("completed");
        return latest.isMissingNode() || latest.isNull() ? null : latest;
    }

    private static List<String> preparedGids(EmbeddedSettlementDatabase.Database db) throws Exception {
        List<String> gids = new ArrayList<>();
        try (Connection c = db.admin().connect("test"); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT gid FROM pg_prepared_xacts WHERE database = current_database()"
                        + " AND starts_with(gid, '" + GID_PREFIX + "')")) {
            while (rs.next()) {
                gids.add(rs.getString(1));
            }
        }
        return gids;
    }

    private static long counted(EmbeddedSettlementDatabase.Database db, int round) throws Exception {
        return db.queryLong("SELECT coalesce(sum(shakes), 0) FROM interaction_count WHERE round_id = " + round);
    }

    /**
     * Every operator of the job runs at {@code parallelism} (the deciders and the settlement sink among them), but
     * the two sources of the profile's rounds ({@code fromData}, never parallel) and the round change desk, which
     * decides each change once and stays at 1.
     */
    static void assertParallelism(URI rest, PayoutJobRuns.Running job, int parallelism) throws Exception {
        Map<String, Integer> byVertex = new TreeMap<>();
        for (JsonNode v : PayoutJobRuns.getJson(rest, "/jobs/" + job.id()).path("vertices")) {
            String name = v.path("name").asText();
            if (name.equals("decide round changes")) {
                assertThat(v.path("parallelism").asInt()).as("the change desk").isEqualTo(1);
            } else if (!name.startsWith("Source: configured rounds")
                    && !name.startsWith("Source: round config from profile")) {
                byVertex.put(name, v.path("parallelism").asInt());
            }
        }
        assertThat(byVertex.keySet()).as("vertices")
                .anyMatch(n -> n.contains("decide payouts per shard")).anyMatch(n -> n.contains("settlement tables"));
        assertThat(byVertex).as("parallelism per vertex").allSatisfy((name, p) -> assertThat(p).isEqualTo(parallelism));
    }

    /**
     * What a rescaled run must have settled: the fault-free run's payouts, the money rules, lineage, the counts and
     * rejects of the manifest, each dead letter once, and a passing reconciliation with nothing left prepared.
     */
    private static void assertEveryInvariant(EmbeddedSettlementDatabase.Database db, PayoutJobRuns.Topics topics)
            throws Exception {
        PayoutJobRuns.assertSamePayouts(reference, db);
        assertNoPayoutTwiceAndEveryCapHeld(db);
        runs.assertLineage(db, topics.shakes());
        PayoutJobRuns.assertCountsAndRejects(db, manifest, Map.of());
        assertThat(runs.countRecords(topics.deadLetters())).as("dead letters, each once")
                .isEqualTo(manifest.expected.rejectedTotal());
        PayoutJobRuns.assertEverythingReconciles(db, 2);
    }

    /** The money rules, straight from the rows: the reconciliation checks them too, this says them out. */
    static void assertNoPayoutTwiceAndEveryCapHeld(EmbeddedSettlementDatabase.Database db) throws Exception {
        assertThat(db.queryLong("SELECT count(*) - count(DISTINCT event_id) FROM payout")).as("events paid twice")
                .isZero();
        assertThat(db.queryLong("SELECT count(*) - count(DISTINCT (kafka_partition, kafka_offset)) FROM payout"))
                .as("records paid twice").isZero();
        assertThat(db.queryLong("SELECT count(*) FROM (SELECT 1 FROM payout p JOIN round r USING (round_id)"
                + " GROUP BY p.round_id, r.budget_fen HAVING sum(p.amount_fen) > r.budget_fen) x"))
                .as("rounds over budget").isZero();
        assertThat(db.queryLong("SELECT count(*) FROM (SELECT 1 FROM payout p JOIN prize_tier t USING (round_id, tier_id)"
                + " GROUP BY p.round_id, p.tier_id, t.count_cap HAVING count(*) > t.count_cap) x"))
                .as("tiers over their count cap").isZero();
        assertThat(db.queryLong("SELECT count(*) FROM (SELECT 1 FROM payout p JOIN round r USING (round_id)"
                + " GROUP BY p.round_id, p.user_id, r.wins_per_round HAVING count(*) > r.wins_per_round) x"))
                .as("users over their wins per round").isZero();
        assertThat(db.queryLong("SELECT count(*) FROM (SELECT 1 FROM payout GROUP BY user_id"
                + " HAVING sum(amount_fen) > (SELECT min(fen_per_gala) FROM round)) x"))
                .as("users over their fen per gala").isZero();
        assertThat(db.queryLong("SELECT coalesce(sum(amount_fen), 0) FROM payout WHERE round_id = 2"))
                .as("the finale's budget binds here too").isGreaterThan(FINALE_BUDGET_FEN * 99 / 100);
    }

    /** tiny.yaml with the finale's budget cut to {@link #FINALE_BUDGET_FEN}. */
    static Path bindingFinale(Path file) throws Exception {
        String tiny = Files.readString(Datasets.file("tiny.yaml"));
        String cut = tiny.replace("budget_fen: 2000000 ", "budget_fen: " + FINALE_BUDGET_FEN + " ");
        assertThat(cut).as("tiny.yaml's finale budget line").isNotEqualTo(tiny);
        Files.writeString(file, cut);
        return file;
    }
}
