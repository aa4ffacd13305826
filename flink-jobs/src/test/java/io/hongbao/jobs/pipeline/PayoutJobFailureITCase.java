package io.hongbao.jobs.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.ingest.event.RejectReason;
import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.ingest.event.ShakeEventCodec;
import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.ingest.generator.KafkaShakeProducer;
import io.hongbao.ingest.generator.Manifest;
import io.hongbao.ingest.generator.ShakeTopics;
import io.hongbao.ingest.generator.ShakeTrafficGenerator;
import io.hongbao.ingest.profile.GalaProfile;
import io.hongbao.ingest.testing.Datasets;
import io.hongbao.ingest.testing.EmbeddedKafka;
import io.hongbao.jobs.JobEnvironment;
import io.hongbao.jobs.functions.ControlWatermarks;
import io.hongbao.jobs.functions.DeadLetterSerializationSchema;
import io.hongbao.jobs.functions.RoundChangeDeserializationSchema;
import io.hongbao.jobs.functions.ShakeWatermarks;
import io.hongbao.jobs.payout.PayoutSettings;
import io.hongbao.jobs.payout.RoundChange;
import io.hongbao.jobs.testing.EmbeddedSettlementDatabase;
import io.hongbao.jobs.testing.FailureInjector;
import io.hongbao.settlement.RoundCatalog;
import io.hongbao.settlement.analytics.InteractionCountSink;
import io.hongbao.settlement.sink.SettlementSink;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The payout job end to end — real Kafka, real PostgreSQL, Flink MiniCluster at parallelism 2 with RocksDB
 * and exactly-once checkpoints — failing several times while events flow (injected exceptions and a
 * TaskManager shut down under the job) and recovering from checkpoints, with a budget change from the control
 * topic. Afterwards every payout is in the settlement tables once, traces to the Kafka record that won it, no
 * round is over its budget, interaction counts and reject totals equal the manifest's, and no prepared
 * transaction is left behind.
 */
class PayoutJobFailureITCase {
    @RegisterExtension
    @Order(1)
    static final EmbeddedKafka KAFKA = new EmbeddedKafka();

    @RegisterExtension
    @Order(2)
    static final EmbeddedSettlementDatabase POSTGRES = new EmbeddedSettlementDatabase();

    @RegisterExtension
    @Order(3)
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(2)
            .setNumberSlotsPerTaskManager(1)
            .build());

    private static final GalaProfile TINY = GalaProfile.load(Datasets.file("tiny.yaml"));
    /**
     * The job's profile: tiny.yaml with the finale's budget cut to 160,000 fen, below what its shakes would win,
     * so the budget binds and drains. The control topic then lowers it once more, out of the sweeper's reserve
     * (1%): a running round's budget can never be lowered into what its shards may already have paid.
     */
    private static final GalaProfile JOB_PROFILE = finaleBudget(160_000);
    /** The finale's budget after the control-topic change: below what its shakes would otherwise win. */
    private static final long FINALE_BUDGET_FEN = 158_500;

    @TempDir
    Path checkpoints;

    @Test
    void shouldSettleEveryPayoutExactlyOnceThroughRepeatedFailures(@InjectMiniCluster MiniCluster cluster)
            throws Exception {
        String topic = EmbeddedKafka.freshTopic("shakes");
        String control = EmbeddedKafka.freshTopic("control");
        String deadLetters = EmbeddedKafka.freshTopic("dead-letters");
        ShakeTopics.ensure(KAFKA.clientProperties(), control, 1);
        ShakeTopics.ensure(KAFKA.clientProperties(), deadLetters, 1);
        Manifest manifest = produce(topic, 21);
        // Out of the reserve: the shards' part (99% of 160,000) stays, whenever the change arrives.
        KAFKA.send(control, "{\"change_id\":\"e2e-1\",\"round_id\":2,\"action\":\"SET_BUDGET\","
                + "\"budget_fen\":" + FINALE_BUDGET_FEN + ",\"reason\":\"sponsor withdrew\"}");
        FailureInjector.reset(1_500, 3_900, 6_100);

        Configuration conf = JobEnvironment.configuration(checkpoints.toUri().toString(), Duration.ofMillis(200));
        conf.setString("restart-strategy.type", "fixed-delay");
        conf.setString("restart-strategy.fixed-delay.attempts", "10");
        conf.setString("restart-strategy.fixed-delay.delay", "200 ms");
        conf.setString("slot.request.timeout", "60 s");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        DataStream<ShakeRecord> shakes = env
                .fromSource(KafkaSources.shakes(KAFKA.clientProperties(), topic, "hongbao-payout-failure-test", true),
                        ShakeWatermarks.strategy(TINY.windows(), Duration.ofSeconds(2), Duration.ZERO), "shakes")
                .map(new FailureInjector<>()).name("failure injector");
        DataStream<RoundChange> changes = env.fromSource(KafkaSource.<RoundChange>builder()
                        .setBootstrapServers(KAFKA.bootstrapServers()).setTopics(control)
                        .setStartingOffsets(OffsetsInitializer.earliest()).setBounded(OffsetsInitializer.latest())
                        .setDeserializer(new RoundChangeDeserializationSchema()).build(),
                ControlWatermarks.neverHoldBack(), "round changes");
        PayoutSettings settings = new PayoutSettings(16, 10_000, 0x1234L, 0x5678L);
        // As PayoutJob does before it starts: payouts need their round and tier rows (foreign keys). All of it as
        // the job's own login (hongbao_writer), as in production: no superuser rights to lean on.
        RoundCatalog.register(POSTGRES.jobLogin(), new RoundCatalog.Campaign(JOB_PROFILE.name(),
                JOB_PROFILE.campaignBudget()), JOB_PROFILE.roundConfigs());
        PayoutJobGraph.build(env, shakes, changes, JOB_PROFILE, settings, new PayoutJobGraph.Sinks(
                SettlementSink.builder().database(POSTGRES.jobLogin()).sinkName("e2e").build(),
                new InteractionCountSink(POSTGRES.jobLogin(), Duration.ofMillis(100)),
                KafkaSink.<ShakeRecord>builder().setBootstrapServers(KAFKA.bootstrapServers())
                        .setRecordSerializer(new DeadLetterSerializationSchema(deadLetters))
                        .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                        .setTransactionalIdPrefix("e2e-dead-letters")
                        .setProperty("transaction.timeout.ms", "900000").build()));
        JobClient job = env.executeAsync("payout job under failures");
        // Between the first and second injected failure, a TaskManager goes away under the running job.
        boolean killed = FailureInjector.awaitSeen(2_700, Duration.ofMinutes(2));
        if (killed) {
            cluster.terminateTaskManager(0).get();
            cluster.startTaskManager();
        }
        job.getJobExecutionResult().get();

        assertThat(killed).as("a TaskManager was shut down while the job ran").isTrue();
        assertThat(FailureInjector.failures()).isEqualTo(3);
        Map<String, ShakeEvent> byLineage = readShakes(topic);
        long payouts = 0;
        try (Connection c = POSTGRES.database().connect("test"); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT payout_id, round_id, user_id, event_id, kafka_topic,"
                        + " kafka_partition, kafka_offset FROM payout")) {
            while (rs.next()) {
                payouts++;
                ShakeEvent won = byLineage.get(rs.getString(5) + "/" + rs.getInt(6) + "/" + rs.getLong(7));
                assertThat(won).as("lineage of %s", rs.getString(1)).isNotNull();
                assertThat(won.eventIdHex()).isEqualTo(rs.getString(4));
                assertThat(won.userId).isEqualTo(rs.getLong(3));
                assertThat(won.roundId).isEqualTo(rs.getInt(2));
            }
        }
        assertThat(payouts).isPositive();
        assertThat(POSTGRES.queryLong("SELECT count(DISTINCT event_id) FROM payout")).isEqualTo(payouts);
        for (var round : JOB_PROFILE.rounds()) {
            long budget = round.id() == 2 ? FINALE_BUDGET_FEN : round.budgetFen();
            assertThat(POSTGRES.queryLong("SELECT coalesce(sum(amount_fen), 0) FROM payout WHERE round_id = "
                    + round.id())).as("paid in round %d", round.id()).isLessThanOrEqualTo(budget);
        }
        assertThat(POSTGRES.queryLong("SELECT budget_fen FROM round WHERE round_id = 2")).isEqualTo(FINALE_BUDGET_FEN);
        assertThat(POSTGRES.queryLong("SELECT count(*) FROM round_ledger WHERE round_id = 2 AND kind = 'BUDGET_LOWERED'"
                + " AND budget_fen_after = " + FINALE_BUDGET_FEN)).isEqualTo(1);
        assertThat(POSTGRES.queryLong("SELECT coalesce(sum(amount_fen), 0) FROM payout WHERE round_id = 2"))
                .as("the lowered finale budget binds: nearly all of it is paid")
                .isGreaterThan(FINALE_BUDGET_FEN * 99 / 100);
        assertInteractionCountsEqual(manifest);
        for (RejectReason reason : RejectReason.values()) {
            assertThat(POSTGRES.queryLong("SELECT coalesce(max(records), 0) FROM rejected_count WHERE reason = '"
                    + reason + "'")).as(reason.name()).isEqualTo(manifest.expected.rejected().getOrDefault(reason, 0L));
        }
        assertThat(POSTGRES.queryLong("SELECT count(*) FROM round_ledger WHERE kind = 'CONFIGURED'")).isEqualTo(2);
        assertThat(POSTGRES.queryLong("SELECT count(*) FROM pg_prepared_xacts")).isZero();
        assertThat(countRecords(deadLetters)).isEqualTo(manifest.expected.rejectedTotal());
        System.out.printf("e2e: %d payouts settled exactly once through %d injected failures%n", payouts,
                FailureInjector.failures());
    }

    /** Every distinct valid shake was decided once: the counts per round, channel, region and minute match. */
    private static void assertInteractionCountsEqual(Manifest manifest) throws Exception {
        assertThat(POSTGRES.queryLong("SELECT coalesce(sum(shakes), 0) FROM interaction_count"))
                .isEqualTo(manifest.expected.distinctValidEvents());
        for (var round : manifest.expected.rounds().entrySet()) {
            int id = round.getKey();
            assertThat(POSTGRES.queryLong("SELECT shakes FROM interaction_round WHERE round_id = " + id))
                    .as("round %d", id).isEqualTo(round.getValue().distinctEvents());
            assertThat(countsBy("channel", id)).as("round %d by channel", id).isEqualTo(round.getValue().byChannel());
            assertThat(countsBy("region", id)).as("round %d by region", id).isEqualTo(round.getValue().byRegion());
            assertThat(countsBy("minute_start", id)).as("round %d by minute", id)
                    .isEqualTo(round.getValue().byMinute());
        }
    }

    private static Map<String, Long> countsBy(String column, int roundId) throws Exception {
        Map<String, Long> counts = new TreeMap<>();
        try (Connection c = POSTGRES.database().connect("test"); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT " + column + ", sum(shakes) FROM interaction_count"
                        + " WHERE round_id = " + roundId + " GROUP BY 1")) {
            while (rs.next()) {
                String key = column.equals("minute_start")
                        ? rs.getObject(1, OffsetDateTime.class).toInstant().toString() : rs.getString(1);
                counts.put(key, rs.getLong(2));
            }
        }
        return counts;
    }

    private static GalaProfile finaleBudget(long fen) {
        try {
            String tiny = java.nio.file.Files.readString(Datasets.file("tiny.yaml"));
            String cut = tiny.replace("budget_fen: 2000000 ", "budget_fen: " + fen + " ");
            if (cut.equals(tiny)) {
                throw new IllegalStateException("tiny.yaml's finale budget line changed");
            }
            Path file = java.nio.file.Files.createTempFile("tiny-finale-", ".yaml");
            java.nio.file.Files.writeString(file, cut);
            file.toFile().deleteOnExit();
            return GalaProfile.load(file);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Manifest produce(String topic, long seed) {
        ShakeTopics.ensure(KAFKA.clientProperties(), topic, TINY.traffic().partitions());
        Manifest manifest = new Manifest();
        try (KafkaShakeProducer producer = new KafkaShakeProducer(KAFKA.clientProperties(), topic)) {
            new ShakeTrafficGenerator(TINY, seed, 0).generate(manifest.andThen(producer));
        }
        return manifest.finish();
    }

    private static Map<String, ShakeEvent> readShakes(String topic) {
        Map<String, ShakeEvent> out = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : KAFKA.readAll(topic)) {
            var decoded = ShakeEventCodec.decode(r.value());
            if (decoded.isAccepted()) {
                out.put(r.topic() + "/" + r.partition() + "/" + r.offset(), decoded.event());
            }
        }
        return out;
    }

    private static long countRecords(String topic) {
        return KAFKA.readAll(topic).size();
    }
}
