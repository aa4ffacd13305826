package io.hongbao.dashboards;

import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.ingest.generator.KafkaShakeProducer;
import io.hongbao.ingest.generator.Manifest;
import io.hongbao.ingest.generator.ShakeTopics;
import io.hongbao.ingest.generator.ShakeTrafficGenerator;
import io.hongbao.ingest.profile.GalaProfile;
import io.hongbao.ingest.testing.Datasets;
import io.hongbao.ingest.testing.EmbeddedKafka;
import io.hongbao.jobs.functions.ControlWatermarks;
import io.hongbao.jobs.functions.DeadLetterSerializationSchema;
import io.hongbao.jobs.functions.RoundChangeDeserializationSchema;
import io.hongbao.jobs.functions.ShakeWatermarks;
import io.hongbao.jobs.payout.PayoutSettings;
import io.hongbao.jobs.payout.RoundChange;
import io.hongbao.jobs.pipeline.PayoutJobGraph;
import io.hongbao.jobs.pipeline.KafkaSources;
import io.hongbao.settlement.RoundCatalog;
import io.hongbao.settlement.SettlementDatabase;
import io.hongbao.settlement.analytics.InteractionCountSink;
import io.hongbao.settlement.sink.SettlementSink;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The tiny gala ({@code datasets/tiny.yaml}) through the real payout job: generated into a Kafka topic, read by
 * the job's KafkaSource, settled into PostgreSQL by its sinks — the same wiring as the flink-jobs end-to-end test,
 * without the injected failures. The dashboards' tests look at what this leaves behind.
 */
final class TinyGalaRun {
    static final GalaProfile TINY = GalaProfile.load(Datasets.file("tiny.yaml"));
    /** The flink-jobs end-to-end test's settings and (test-only) draw secret. */
    static final PayoutSettings SETTINGS = new PayoutSettings(16, 10_000, 0x1234L, 0x5678L);
    /**
     * Lowers the finale's budget, so the ledger and the burn-down have a budget change: out of the sweeper's 1%
     * reserve (the shards hold 1,980,000 of 2,000,000), the only lowering a round accepts, whenever it arrives.
     */
    static final String LOWER_FINALE_BUDGET = "{\"change_id\":\"dashboards-1\",\"round_id\":2,\"action\":\"SET_BUDGET\","
            + "\"budget_fen\":1985000,\"reason\":\"sponsor trimmed the finale\"}";

    private final EmbeddedKafka kafka;
    final String shakeTopic = EmbeddedKafka.freshTopic("shakes");
    final String controlTopic = EmbeddedKafka.freshTopic("control");
    final String deadLetterTopic = EmbeddedKafka.freshTopic("dead-letters");

    TinyGalaRun(EmbeddedKafka kafka) {
        this.kafka = kafka;
    }

    /** Writes the tiny gala's traffic and one budget change into fresh topics. */
    Manifest produce(long seed) {
        ShakeTopics.ensure(kafka.clientProperties(), shakeTopic, TINY.traffic().partitions());
        ShakeTopics.ensure(kafka.clientProperties(), controlTopic, 1);
        ShakeTopics.ensure(kafka.clientProperties(), deadLetterTopic, 1);
        Manifest manifest = new Manifest();
        try (KafkaShakeProducer producer = new KafkaShakeProducer(kafka.clientProperties(), shakeTopic)) {
            new ShakeTrafficGenerator(TINY, seed, 0).generate(manifest.andThen(producer));
        }
        kafka.send(controlTopic, LOWER_FINALE_BUDGET);
        return manifest.finish();
    }

    /**
     * Adds the payout job to {@code env}. Bounded, it ends once it has read what the topics held at its start;
     * unbounded, it keeps running (and reporting metrics) until cancelled.
     */
    void buildJob(StreamExecutionEnvironment env, SettlementDatabase database, boolean bounded) throws SQLException {
        DataStream<ShakeRecord> shakes = env.fromSource(KafkaSources.shakes(kafka.clientProperties(), shakeTopic, "hongbao-dashboards-test", bounded),
                ShakeWatermarks.strategy(TINY.windows(), Duration.ofSeconds(2), Duration.ZERO), "shakes");
        KafkaSourceBuilder<RoundChange> control = KafkaSource.<RoundChange>builder()
                .setBootstrapServers(kafka.bootstrapServers()).setTopics(controlTopic)
                .setStartingOffsets(OffsetsInitializer.earliest())
                .setDeserializer(new RoundChangeDeserializationSchema());
        if (bounded) {
            control.setBounded(OffsetsInitializer.latest());
        }
        DataStream<RoundChange> changes = env.fromSource(control.build(), ControlWatermarks.neverHoldBack(), "round changes");
        // As PayoutJob does before it starts: payouts need their round and tier rows (foreign keys).
        RoundCatalog.register(database, new RoundCatalog.Campaign(TINY.name(), TINY.campaignBudget()),
                TINY.roundConfigs());
        PayoutJobGraph.build(env, shakes, changes, TINY, SETTINGS, new PayoutJobGraph.Sinks(
                SettlementSink.builder().database(database).sinkName("dashboards").build(),
                new InteractionCountSink(database, Duration.ofMillis(100)),
                KafkaSink.<ShakeRecord>builder().setBootstrapServers(kafka.bootstrapServers())
                        .setRecordSerializer(new DeadLetterSerializationSchema(deadLetterTopic))
                        .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                        .setTransactionalIdPrefix("dashboards-dead-letters-" + deadLetterTopic)
                        .setProperty("transaction.timeout.ms", "900000").build()));
    }

    /** When the gala's first round starts and its last round ends (event time). */
    static Instant galaStart() {
        return Instant.ofEpochMilli(TINY.rounds().stream().mapToLong(TINY::roundStartMs).min().orElseThrow());
    }

    static Instant galaEnd() {
        return Instant.ofEpochMilli(TINY.rounds().stream().mapToLong(TINY::roundEndMs).max().orElseThrow());
    }
}
