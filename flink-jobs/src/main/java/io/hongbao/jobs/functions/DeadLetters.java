package io.hongbao.jobs.functions;

import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.settlement.SettlementDatabase;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.regex.Pattern;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * The payout job's exactly-once dead-letter sink.
 *
 * <p>Its transactional ids are unique per deployment: two payout jobs on one Kafka cluster (staging and
 * production, or two datacenters) with one fixed prefix would fence each other's producers. The prefix is
 * derived from the deployment id only, so it stays the same across restarts and savepoint resubmits of the
 * same deployment, which is what lets a restarted job abort the transactions its previous run left open. A job
 * restored from a checkpoint taken under another prefix aborts that prefix's lingering transactions too (the
 * connector keeps the prefix in its writer state), so changing it is safe.
 */
public final class DeadLetters {
    /** Readable in transactional ids and broker logs; bounded so ids stay well within Kafka's limits. */
    private static final Pattern DEPLOYMENT_ID = Pattern.compile("[A-Za-z0-9._-]{1,160}");
    /** Kafka's default {@code buffer.memory}: a record above it cannot be sent either. */
    private static final long DEFAULT_BUFFER_MEMORY = 32L * 1024 * 1024;

    private DeadLetters() {}

    /**
     * The dead-letter sink: exactly once, transactional ids {@code hongbao-dead-letters.<deploymentId>-...},
     * every record bounded by the {@code max.request.size} this sink's producer runs with.
     *
     * @param kafka the job's Kafka client properties (bootstrap servers, security); not modified
     */
    public static KafkaSink<ShakeRecord> sink(Properties kafka, String topic, String deploymentId) {
        Properties producer = producerProperties(kafka);
        return KafkaSink.<ShakeRecord>builder()
                .setKafkaProducerConfig(producer)
                .setRecordSerializer(new DeadLetterSerializationSchema(topic, maxRecordBytes(producer)))
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(transactionalIdPrefix(deploymentId))
                .build();
    }

    /** The producer configuration {@link #sink} builds on the job's client properties. */
    static Properties producerProperties(Properties kafka) {
        Properties producer = new Properties();
        producer.putAll(kafka);
        // A broker's transaction.max.timeout.ms defaults to 15 min; the connector's default (1 h) is refused.
        producer.putIfAbsent(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "900000");
        // The broker checks a compressed batch against the topic's max.message.bytes; an incompressible value of
        // max.request.size grows under compression and would be refused there. Dead letters are rare: no codec.
        producer.setProperty(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none");
        // A restart fences the dead run's open transactions (initTransactions per transactional id), and the
        // coordinator answers CONCURRENT_TRANSACTIONS until its abort is written: Kafka's retry backoff grows to
        // 1 s between tries, which the restart would wait out. Capped at 100 ms: a low-volume producer, the broker
        // does not mind. (Not measured apart: in the DR drill this probing took 0.1-1.4 s of the sink's start.)
        producer.putIfAbsent(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, "20");
        producer.putIfAbsent(ProducerConfig.RETRY_BACKOFF_MAX_MS_CONFIG, "100");
        return producer;
    }

    /** The largest record the producer accepts: {@code max.request.size}, and no more than {@code buffer.memory}. */
    static int maxRecordBytes(Properties producer) {
        long maxRequest = parse(producer, ProducerConfig.MAX_REQUEST_SIZE_CONFIG,
                DeadLetterSerializationSchema.DEFAULT_MAX_RECORD_BYTES);
        long bufferMemory = parse(producer, ProducerConfig.BUFFER_MEMORY_CONFIG, DEFAULT_BUFFER_MEMORY);
        return (int) Math.min(Integer.MAX_VALUE, Math.min(maxRequest, bufferMemory));
    }

    private static long parse(Properties props, String key, long fallback) {
        Object value = props.get(key);
        return value == null ? fallback : Long.parseLong(value.toString().strip());
    }

    public static String transactionalIdPrefix(String deploymentId) {
        if (deploymentId == null || !DEPLOYMENT_ID.matcher(deploymentId).matches()) {
            throw new IllegalArgumentException("deployment id must match " + DEPLOYMENT_ID + ": " + deploymentId);
        }
        return "hongbao-dead-letters." + deploymentId;
    }

    /**
     * A default deployment id: what makes a payout deployment unique is where it settles, so the settlement
     * database (its name, readable, and a hash of host, port and name, as two clusters may both call theirs
     * {@code hongbao}) and the settlement sink's name. The same command line gives the same id on every resubmit.
     * Deployments that settle into the same database under the same sink name are one deployment.
     */
    public static String deploymentId(SettlementDatabase db, String sinkName) {
        Properties parsed = org.postgresql.Driver.parseURL(db.jdbcUrl(), null);
        if (parsed == null) {
            throw new IllegalArgumentException("cannot parse the JDBC URL " + db.redactedUrl());
        }
        String name = parsed.getProperty("PGDBNAME", "");
        String where = parsed.getProperty("PGHOST", "") + ":" + parsed.getProperty("PGPORT", "") + "/" + name;
        String hash = DeadLetterSerializationSchema.sha256Hex(where.getBytes(StandardCharsets.UTF_8)).substring(0, 12);
        String readable = (name + "." + sinkName).replaceAll("[^A-Za-z0-9._-]", "_");
        return (readable.length() > 120 ? readable.substring(0, 120) : readable) + "." + hash;
    }
}
