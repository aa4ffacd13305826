package io.hongbao.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.ingest.event.RejectReason;
import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.ingest.generator.GeneratedRecord;
import io.hongbao.ingest.generator.Manifest;
import io.hongbao.ingest.generator.ShakeTrafficGenerator;
import io.hongbao.ingest.profile.GalaProfile;
import io.hongbao.ingest.testing.Datasets;
import io.hongbao.ingest.testing.EmbeddedKafka;
import io.hongbao.jobs.functions.DeadLetters;
import io.hongbao.jobs.testing.EmbeddedSettlementDatabase;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.InjectClusterRESTAddress;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

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

    private static final GalaProfile TINY = GalaProfile.load(Datasets.file("tiny.yaml"));
    private static final int PARTITIONS = TINY.traffic().partitions();
    /** The gala as generated (tiny.yaml's two rounds); the job's profile adds a third round nobody shakes in. */
    private static final List<GeneratedRecord> GALA = new ArrayList<>();
    private static Manifest manifest;
    private static PayoutJobRuns runs;
    /** payout id -> its row ({@link PayoutJobRuns#payouts}) in the fault-free reference run. */
    private static Map<String, String> reference;
    private static Map<String, ShakeEvent> referenceWinners;

    @TempDir
    static Path dir;

    @BeforeAll
    static void referenceRun(@InjectMiniCluster MiniCluster cluster) throws Exception {
        manifest = new Manifest();
        new ShakeTrafficGenerator(TINY, 31, 0).generate(manifest.andThen(GALA::add));
        manifest.finish();
        Path profile = dir.resolve("tiny-plus-encore.yaml");
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
        runs = new PayoutJobRuns(KAFKA, dir, profile, PARTITIONS);

        EmbeddedSettlementDatabase.Database db = runs.referenceRun(cluster, 2, POSTGRES, GALA);
        reference = PayoutJobRuns.payouts(db);
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
        PayoutJobRuns.cancelWhatStillRuns(cluster);
    }

    @Test
    void quietSpellsCopiesAndHostileInputLoseNothingPayNothingExtraAndNeverFailTheJob(
            @InjectMiniCluster MiniCluster cluster, @InjectClusterRESTAddress URI rest) throws Exception {
        PayoutJobRuns.Topics topics = runs.topics("adversarial");
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
        PayoutJobRuns.Running job = runs.startJob(cluster, topics, db);
        Thread.sleep(Math.max(3_000, PayoutJobRuns.defaultIdleness().toMillis() + 3_000));
        try (PayoutJobRuns.Shakes shakes = runs.shakes(topics.shakes()); PayoutJobRuns.Control control = runs.control(topics.control())) {
            int firstHalf = 0;
            while (firstHalf < GALA.size() && !PayoutJobRuns.laterThan(GALA.get(firstHalf), roundMid)) {
                shakes.send(GALA.get(firstHalf++));
            }
            shakes.flush();
            PayoutJobRuns.awaitSettled(db);
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
            PayoutJobRuns.await("round 1 swept", Duration.ofMinutes(2), () -> db.queryLong(
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
            PayoutJobRuns.awaitTotals(db, manifest, extraRejects);
        }
        job.drain(cluster);

        assertThat(job.exceptions(rest)).as("failures of the job").isEmpty();
        assertOffsetsCommittedUnderThePayoutGroups(topics, db);
        PayoutJobRuns.assertSamePayouts(reference, db);
        runs.assertLineage(db, topics.shakes());
        PayoutJobRuns.assertCountsAndRejects(db, manifest, extraRejects);
        assertThat(runs.countRecords(topics.deadLetters())).as("dead letters").isEqualTo(
                manifest.expected.rejectedTotal() + extraRejects.values().stream().mapToLong(Long::longValue).sum());
        assertThat(runs.maxDeadLetterBytes(topics.deadLetters())).as("largest dead letter").isLessThan(1 << 20);
        assertThat(db.queryLong("SELECT count(*) FROM round_ledger WHERE entry_id LIKE 'change-ops-1%'"))
                .as("ops-1 applied once, its resend a repeat, its conflicting copy refused").isEqualTo(3);
        assertThat(db.queryLong("SELECT count(*) FROM round_ledger WHERE entry_id LIKE 'change-ops-1/repeat/%'"
                + " AND kind = 'CHANGE_REPEATED'")).isEqualTo(1);
        assertThat(db.queryLong("SELECT count(*) FROM round_ledger WHERE kind = 'CHANGE_REFUSED'"))
                .as("conflicting copy, 2^64+1000, 1e30, 4294967297, 6.9, backdated lowering").isEqualTo(6);
        assertThat(db.queryLong("SELECT budget_fen FROM round WHERE round_id = 1")).isEqualTo(2_000_000);
        PayoutJobRuns.assertEverythingReconciles(db, 3);
    }

    @Test
    void aStalledPartitionHoldsItsRoundOpenAndRetriesAfterAHeldSavepointAreNotNew(
            @InjectMiniCluster MiniCluster cluster, @InjectClusterRESTAddress URI rest) throws Exception {
        PayoutJobRuns.Topics topics = runs.topics("stalled");
        EmbeddedSettlementDatabase.Database db = POSTGRES.freshDatabase("stalled");
        Duration idleness = PayoutJobRuns.defaultIdleness();
        PayoutJobRuns.Running first = runs.startJob(cluster, topics, db);
        // Partition 0 stalls once round 1 is behind it: its round-2 records wait while the others send theirs.
        long round1End = TINY.roundEndMs(TINY.rounds().get(0));
        int stallFrom = 0;
        while (stallFrom < GALA.size() && !PayoutJobRuns.laterThan(GALA.get(stallFrom), round1End)) {
            stallFrom++;
        }
        List<GeneratedRecord> stalled = GALA.subList(stallFrom, GALA.size()).stream()
                .filter(r -> runs.partitionOf(r.key()) == 0).toList();
        try (PayoutJobRuns.Shakes shakes = runs.shakes(topics.shakes())) {
            GALA.subList(0, stallFrom).forEach(shakes::send);
            GALA.subList(stallFrom, GALA.size()).stream().filter(r -> runs.partitionOf(r.key()) != 0).forEach(shakes::send);
            shakes.flush();
            PayoutJobRuns.awaitSettled(db);
            // Partition 0 stalls for longer than the job's idleness while the others are past round 1 and into 2.
            Thread.sleep(Math.max(3_000, idleness.toMillis() + 3_000));
            assertThat(db.queryLong("SELECT count(*) FROM round_ledger WHERE kind = 'SWEPT'"))
                    .as("no round closes while a partition has not reached its end").isZero();
        }
        // Operators stop the job with a savepoint and hold it; retries of paid winners wait on the topic.
        String savepoint = first.stop(cluster, dir.resolve("savepoints").toUri().toString());
        assertThat(first.exceptions(rest)).isEmpty();
        Set<String> paidBefore = PayoutJobRuns.payouts(db).keySet();
        assertThat(paidBefore).as("round 1's winners paid before the stall ends").isNotEmpty();
        Thread.sleep(3_000);
        try (PayoutJobRuns.Shakes shakes = runs.shakes(topics.shakes())) {
            referenceWinners.entrySet().stream().filter(w -> paidBefore.contains(w.getKey())).limit(20)
                    .forEach(w -> shakes.send(w.getValue()));
            stalled.forEach(shakes::send);
        }
        PayoutJobRuns.Running resumed = runs.startJob(cluster, topics, db, "--from-savepoint", savepoint);
        // A restored source has no watermark for a partition until it reads from it again (Flink does not
        // checkpoint them), and only partition 0 gets records now: the gateways' ticks, each second on every
        // partition in production, bring event time back. Until then the shakes past the schedule promise
        // restored with the job wait in the identity, uncounted but kept (flink-jobs/README.md, "Live schedule").
        long lastShake = GALA.stream().filter(r -> r.event() != null).mapToLong(r -> r.event().gatewayTsMs).max()
                .orElseThrow();
        try (PayoutJobRuns.Shakes shakes = runs.shakes(topics.shakes())) {
            for (int p = 0; p < PARTITIONS; p++) {
                shakes.send(GeneratedRecord.tick(p, lastShake + 1_000));
            }
        }
        PayoutJobRuns.awaitTotals(db, manifest, Map.of());
        resumed.drain(cluster);

        assertThat(resumed.exceptions(rest)).as("failures of the resumed job").isEmpty();
        PayoutJobRuns.assertSamePayouts(reference, db);
        PayoutJobRuns.assertCountsAndRejects(db, manifest, Map.of());
        PayoutJobRuns.assertEverythingReconciles(db, 3);
    }

    /**
     * The job commits its offsets (on each completed checkpoint) under its own group, per deployment, and under no
     * other (it once used a shared intake group): lag per group is the lag of one job.
     */
    private static void assertOffsetsCommittedUnderThePayoutGroups(PayoutJobRuns.Topics topics,
            EmbeddedSettlementDatabase.Database db) throws Exception {
        String deployment = DeadLetters.deploymentId(db.job(), PayoutJob.SETTLEMENT_SINK_NAME);
        try (Admin admin = Admin.create(KAFKA.clientProperties())) {
            Map<TopicPartition, OffsetAndMetadata> shakes = admin
                    .listConsumerGroupOffsets(PayoutJob.shakeGroupId(deployment)).partitionsToOffsetAndMetadata().get();
            assertThat(shakes.keySet()).extracting(TopicPartition::topic).as("shake offsets of the payout group")
                    .hasSize(PARTITIONS).containsOnly(topics.shakes());
            assertThat(shakes.values()).allSatisfy(o -> assertThat(o.offset()).isPositive());
            for (var group : admin.listConsumerGroups().all().get()) {
                if (!group.groupId().equals(PayoutJob.shakeGroupId(deployment))) {
                    assertThat(admin.listConsumerGroupOffsets(group.groupId()).partitionsToOffsetAndMetadata().get()
                            .keySet()).extracting(TopicPartition::topic).as("shake offsets under " + group.groupId())
                            .doesNotContain(topics.shakes());
                }
            }
        }
    }

}
