package io.hongbao.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.ingest.event.RejectReason;
import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.ingest.generator.GeneratedRecord;
import io.hongbao.ingest.generator.Manifest;
import io.hongbao.ingest.generator.RecordKind;
import io.hongbao.ingest.generator.ShakeTrafficGenerator;
import io.hongbao.ingest.profile.GalaProfile;
import io.hongbao.ingest.testing.Datasets;
import io.hongbao.ingest.testing.EmbeddedKafka;
import io.hongbao.jobs.testing.EmbeddedSettlementDatabase;
import java.net.URI;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.InjectClusterRESTAddress;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live schedule control, end to end: the shipped job against real Kafka and PostgreSQL while its round runs. An
 * operator extends the running round (and repeats himself), adds a round the profile did not have, and tries to
 * close the round at a time the job has already decided. The shakes the generator made just after the round's
 * old end (out of the window as configured) fall inside the extended one and are counted; an added round's
 * shakes are counted and paid; everything else is as the generator's manifest says, and finance reconciles.
 */
class LiveScheduleITCase {
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
    /** The tiny gala's rounds are 10 s long: a change mid-round needs a lead shorter than the default 30 s. */
    private static final String LEAD = "PT3S";
    private static final int EXTENSION_SHAKES = 200;
    private static final int ADDED_ROUND_SHAKES = 300;

    @TempDir
    static Path dir;

    @AfterEach
    void cancelWhatStillRuns(@InjectMiniCluster MiniCluster cluster) throws Exception {
        PayoutJobRuns.cancelWhatStillRuns(cluster);
    }

    @Test
    void operatorsExtendARoundAndAddOneWhileItRunsAndAreRefusedWhereEventTimeIsDecided(
            @InjectMiniCluster MiniCluster cluster, @InjectClusterRESTAddress URI rest) throws Exception {
        Manifest manifest = new Manifest();
        List<GeneratedRecord> gala = new ArrayList<>();
        new ShakeTrafficGenerator(TINY, 17, 0).generate(manifest.andThen(gala::add));
        manifest.finish();
        PayoutJobRuns runs = new PayoutJobRuns(KAFKA, dir, Datasets.file("tiny.yaml"), TINY.traffic().partitions());
        PayoutJobRuns.Topics topics = runs.topics("schedule");
        EmbeddedSettlementDatabase.Database db = POSTGRES.freshDatabase("schedule");

        long start1 = TINY.roundStartMs(TINY.rounds().get(0));
        long end1 = TINY.roundEndMs(TINY.rounds().get(0));
        long end2 = TINY.roundEndMs(TINY.rounds().get(1));
        long extendedEnd1 = end1 + 10_000;
        long start9 = end2 + 5_000;
        long end9 = end2 + 15_000;
        // The generator's out-of-window shakes just past round 1's end: inside the extended window.
        long movedIn = gala.stream().filter(r -> r.kind() == RecordKind.OUT_OF_WINDOW && r.event().roundId == 1
                && r.event().gatewayTsMs >= end1 && r.event().gatewayTsMs < extendedEnd1).count();
        assertThat(movedIn).as("out-of-window shakes after round 1's end in the gala").isPositive();
        ShakeEvent model = gala.stream().filter(r -> r.kind() == RecordKind.VALID && r.event().roundId == 1)
                .findFirst().orElseThrow().event();
        Map<RejectReason, Long> extraRejects = new EnumMap<>(RejectReason.class);

        PayoutJobRuns.Running job = runs.startJob(cluster, topics, db, "--schedule-lead", LEAD);
        try (PayoutJobRuns.Shakes shakes = runs.shakes(topics.shakes());
                PayoutJobRuns.Control control = runs.control(topics.control())) {
            int firstPart = 0;
            while (firstPart < gala.size() && !PayoutJobRuns.laterThan(gala.get(firstPart), start1 + 4_000)) {
                shakes.send(gala.get(firstPart++));
            }
            shakes.flush();
            PayoutJobRuns.awaitSettled(db);

            // Round 1 is running, its first 4 s decided. The programme runs late: 10 s more, from its old end.
            String extend = "{\"change_id\":\"late-1\",\"round_id\":1,\"action\":\"SET_WINDOW\",\"starts_at\":\""
                    + iso(start1) + "\",\"ends_at\":\"" + iso(extendedEnd1) + "\",\"effective_at\":\"" + iso(end1)
                    + "\",\"reason\":\"programme running late\"}";
            control.send(extend, null);
            control.send(extend, null); // the operator's tool retried
            // Closing round 1 one second in: that event time is decided already.
            control.send("{\"change_id\":\"close-1\",\"round_id\":1,\"action\":\"SET_WINDOW\",\"starts_at\":\""
                    + iso(start1) + "\",\"ends_at\":\"" + iso(start1 + 1_000) + "\",\"effective_at\":\""
                    + iso(start1 + 1_000) + "\"}", null);
            control.send("{\"change_id\":\"encore\",\"round_id\":9,\"action\":\"ADD_ROUND\",\"like_round\":1,"
                    + "\"budget_fen\":300000,\"name\":\"encore\",\"starts_at\":\"" + iso(start9) + "\",\"ends_at\":\""
                    + iso(end9) + "\",\"effective_at\":\"" + iso(start9) + "\"}", null);
            PayoutJobRuns.await("the changes decided and committed", Duration.ofMinutes(1), () -> db.queryLong(
                    "SELECT count(*) FROM round_ledger WHERE entry_id LIKE 'change-%'") == 4);

            // The gala on, and the extension's shakes in their place in gateway time: before round 2's shakes move
            // event time past the extended end (after them they would be LATE, as they should).
            int i = firstPart;
            for (; i < gala.size() && !PayoutJobRuns.laterThan(gala.get(i), end1 + 5_000); i++) {
                shakes.send(gala.get(i));
            }
            for (int n = 0; n < EXTENSION_SHAKES; n++) {
                shakes.send(shake(model, 1, 0x7000_0000L + n, 60_000_000L + n, end1 + 5_000 + n * 20L));
            }
            shakes.send(shake(model, 1, 0x7100_0000L, 61_000_000L, extendedEnd1)); // just past the new end
            for (; i < gala.size(); i++) {
                shakes.send(gala.get(i));
            }
            for (int n = 0; n < ADDED_ROUND_SHAKES; n++) {
                shakes.send(shake(model, 9, 0x7200_0000L + n, 62_000_000L + n, start9 + n * 30L));
            }
            shakes.send(shake(model, 9, 0x7300_0000L, 63_000_000L, start9 - 1)); // before the added round opens
            shakes.send(shake(model, 10, 0x7400_0000L, 64_000_000L, start9 + 1)); // a round nobody added
            extraRejects.merge(RejectReason.OUT_OF_WINDOW, 2L - movedIn, Long::sum);
            extraRejects.merge(RejectReason.UNKNOWN_ROUND, 1L, Long::sum);
            // The gateways' ticks carry event time past the added round (its shakes are in no configured window).
            for (int p = 0; p < TINY.traffic().partitions(); p++) {
                shakes.send(GeneratedRecord.tick(p, end9 + 5_000));
            }
            shakes.flush();
            long interactions = manifest.expected.distinctValidEvents() + movedIn + EXTENSION_SHAKES
                    + ADDED_ROUND_SHAKES;
            try {
                PayoutJobRuns.await("every shake counted and the added round swept", Duration.ofMinutes(2),
                        () -> db.queryLong("SELECT coalesce(sum(shakes), 0) FROM interaction_count") >= interactions
                                && db.queryLong("SELECT count(*) FROM round_ledger WHERE kind = 'SWEPT'") == 3);
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + ": expected " + interactions + " interactions, counted "
                        + strings(db, "SELECT round_id || '=' || sum(shakes) FROM interaction_count GROUP BY round_id")
                        + "; rejects " + strings(db, "SELECT reason || '=' || records FROM rejected_count")
                        + " of " + manifest.expected.rejected() + " plus " + extraRejects + "; ledger "
                        + strings(db, "SELECT entry_id || ' ' || kind FROM round_ledger ORDER BY entry_id"), e);
            }
        }
        job.drain(cluster);

        assertThat(job.exceptions(rest)).as("failures of the job").isEmpty();
        assertThat(db.queryLong("SELECT coalesce(sum(shakes), 0) FROM interaction_count WHERE round_id = 1"))
                .as("round 1: the configured window's shakes, the moved-in ones and the extension's")
                .isEqualTo(manifest.expected.rounds().get(1).distinctEvents() + movedIn + EXTENSION_SHAKES);
        assertThat(db.queryLong("SELECT coalesce(sum(shakes), 0) FROM interaction_count WHERE round_id = 2"))
                .isEqualTo(manifest.expected.rounds().get(2).distinctEvents());
        assertThat(db.queryLong("SELECT coalesce(sum(shakes), 0) FROM interaction_count WHERE round_id = 9"))
                .as("the added round").isEqualTo(ADDED_ROUND_SHAKES);
        for (RejectReason reason : RejectReason.values()) {
            assertThat(db.queryLong("SELECT coalesce(max(records), 0) FROM rejected_count WHERE reason = '" + reason
                    + "'")).as(reason.name()).isEqualTo(
                    manifest.expected.rejected().getOrDefault(reason, 0L) + extraRejects.getOrDefault(reason, 0L));
        }
        assertThat(strings(db, "SELECT entry_id || ' ' || kind FROM round_ledger WHERE entry_id LIKE 'change-%'"
                + " ORDER BY entry_id")).containsExactly(
                        "change-close-1 CHANGE_REFUSED",
                        "change-encore ROUND_ADDED",
                        "change-late-1 RESCHEDULED",
                        "change-late-1/repeat/" + topics.control() + "/0/1 CHANGE_REPEATED");
        assertThat(strings(db, "SELECT detail FROM round_ledger WHERE entry_id = 'change-close-1'"))
                .singleElement().asString().contains("event time already decided");
        assertThat(db.queryLong("SELECT count(*) FROM payout WHERE round_id = 1 AND shake_event_time >= '"
                + iso(end1) + "'")).as("winners in the extension paid").isPositive();
        assertThat(db.queryLong("SELECT count(*) FROM payout WHERE round_id = 9")).as("the added round pays")
                .isPositive();
        assertThat(db.queryLong("SELECT count(*) FROM payout WHERE round_id = 9 AND (shake_event_time < '"
                + iso(start9) + "' OR shake_event_time >= '" + iso(end9) + "')")).isZero();
        assertThat(strings(db, "SELECT ends_at = '" + iso(extendedEnd1) + "' FROM round WHERE round_id = 1"))
                .as("round 1's window as applied").containsExactly("t");
        assertThat(strings(db, "SELECT name || ' ' || budget_fen FROM round WHERE round_id = 9"))
                .containsExactly("encore 300000");
        runs.assertLineage(db, topics.shakes());
        for (int round : new int[] {1, 2, 9}) {
            assertThat(db.queryLong("SELECT count(*) FROM round_ledger WHERE kind = 'SWEPT' AND round_id = " + round))
                    .as("round %d swept once", round).isEqualTo(1);
        }
        PayoutJobRuns.assertEverythingReconciles(db, 0);
    }

    private static List<String> strings(EmbeddedSettlementDatabase.Database db, String sql) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = db.admin().connect("test"); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private static String iso(long ms) {
        return Instant.ofEpochMilli(ms).toString();
    }

    /** A fresh shake like {@code model}: its own event id and user, in {@code roundId} at gateway time {@code at}. */
    private static ShakeEvent shake(ShakeEvent model, int roundId, long eventIdLo, long userId, long at) {
        ShakeEvent e = model.copy();
        e.eventIdLo = eventIdLo;
        e.userId = userId;
        e.deviceId = userId * 3 + 1;
        e.roundId = roundId;
        e.gatewayTsMs = at;
        e.clientTsMs = at - 40;
        return e;
    }
}
