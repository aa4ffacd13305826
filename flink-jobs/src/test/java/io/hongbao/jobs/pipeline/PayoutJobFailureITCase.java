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
import io.hongbao.jobs.ShakeIntakeJob;
import io.hongbao.jobs.functions.ControlWatermarks;
import io.hongbao.jobs.functions.DeadLetterSerializationSchema;
import io.hongbao.jobs.functions.RoundChangeDeserializationSchema;
import io.hongbao.jobs.functions.ShakeWatermarks;
import io.hongbao.jobs.payout.PayoutSettings;
import io.hongbao.jobs.payout.RoundChange;
import io.hongbao.jobs.testing.EmbeddedSettlementDatabase;
import io.hongbao.jobs.testing.FailureInjector;
import io.hongbao.settlement.sink.SettlementSink;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
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
 * and exactly-once checkpoints — failing several times while events flow and recovering from checkpoints.
 * Afterwards every payout is in the settlement tables once, traces to the Kafka record that won it, no
 * round is over budget, reject totals equal the manifest's, and no prepared transaction is left behind.
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
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(2)
            .build());

    private static final GalaProfile TINY = GalaProfile.load(Datasets.file("tiny.yaml"));

    @TempDir
    Path checkpoints;

    @Test
    void shouldSettleEveryPayoutExactlyOnceThroughRepeatedFailures() throws Exception {
        String topic = EmbeddedKafka.freshTopic("shakes");
        String control = EmbeddedKafka.freshTopic("control");
        String deadLetters = EmbeddedKafka.freshTopic("dead-letters");
        ShakeTopics.ensure(KAFKA.clientProperties(), control, 1);
        ShakeTopics.ensure(KAFKA.clientProperties(), deadLetters, 1);
        Manifest manifest = produce(topic, 21);
        FailureInjector.reset(1_500, 3_900, 6_100);

        Configuration conf = JobEnvironment.configuration(checkpoints.toUri().toString(), Duration.ofMillis(200));
        conf.setString("restart-strategy.type", "fixed-delay");
        conf.setString("restart-strategy.fixed-delay.attempts", "10");
        conf.setString("restart-strategy.fixed-delay.delay", "200 ms");
        conf.setString("slot.request.timeout", "60 s");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        DataStream<ShakeRecord> shakes = env
                .fromSource(ShakeIntakeJob.shakeSource(KAFKA.bootstrapServers(), topic, true),
                        ShakeWatermarks.strategy(TINY.windows(), Duration.ofSeconds(2), Duration.ofSeconds(1)), "shakes")
                .map(new FailureInjector<>()).name("failure injector");
        DataStream<RoundChange> changes = env.fromSource(KafkaSource.<RoundChange>builder()
                        .setBootstrapServers(KAFKA.bootstrapServers()).setTopics(control)
                        .setStartingOffsets(OffsetsInitializer.earliest()).setBounded(OffsetsInitializer.latest())
                        .setDeserializer(new RoundChangeDeserializationSchema()).build(),
                ControlWatermarks.neverHoldBack(), "round changes");
        PayoutSettings settings = new PayoutSettings(16, 10_000, Duration.ofHours(1), 0x1234L, 0x5678L);
        PayoutJobGraph.build(env, shakes, changes, TINY, settings,
                SettlementSink.builder().database(POSTGRES.database()).sinkName("e2e").build(),
                KafkaSink.<ShakeRecord>builder().setBootstrapServers(KAFKA.bootstrapServers())
                        .setRecordSerializer(new DeadLetterSerializationSchema(deadLetters))
                        .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                        .setTransactionalIdPrefix("e2e-dead-letters")
                        .setProperty("transaction.timeout.ms", "900000").build());
        env.execute("payout job under failures");

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
        for (var round : TINY.rounds()) {
            assertThat(POSTGRES.queryLong("SELECT coalesce(sum(amount_fen), 0) FROM payout WHERE round_id = "
                    + round.id())).isLessThanOrEqualTo(round.budgetFen());
        }
        for (RejectReason reason : RejectReason.values()) {
            assertThat(POSTGRES.queryLong("SELECT coalesce(max(records), 0) FROM rejected_count WHERE reason = '"
                    + reason + "'")).as(reason.name()).isEqualTo(manifest.expected.rejected().get(reason));
        }
        assertThat(POSTGRES.queryLong("SELECT count(*) FROM round_ledger WHERE kind = 'CONFIGURED'")).isEqualTo(2);
        assertThat(POSTGRES.queryLong("SELECT count(*) FROM pg_prepared_xacts")).isZero();
        assertThat(countRecords(deadLetters)).isEqualTo(manifest.expected.rejectedTotal());
        System.out.printf("e2e: %d payouts settled exactly once through %d injected failures%n", payouts,
                FailureInjector.failures());
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
