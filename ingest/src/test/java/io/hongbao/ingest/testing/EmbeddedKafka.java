package io.hongbao.ingest.testing;

import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real single-node KRaft Kafka broker in the test JVM (the Kafka project's own test kit), started once per
 * test class: {@code @RegisterExtension static final EmbeddedKafka KAFKA = new EmbeddedKafka();}.
 * Configured like the local broker in {@code infra/kafka}: replication factor 1 for internal topics, long
 * transaction timeouts for Flink's exactly-once Kafka sink.
 */
public final class EmbeddedKafka implements BeforeAllCallback, AfterAllCallback {
    private KafkaClusterTestKit cluster;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        TestKitNodes nodes = new TestKitNodes.Builder()
                .setCombined(true)
                .setNumBrokerNodes(1)
                .setNumControllerNodes(1)
                .build();
        cluster = new KafkaClusterTestKit.Builder(nodes)
                .setConfigProp("offsets.topic.replication.factor", "1")
                .setConfigProp("transaction.state.log.replication.factor", "1")
                .setConfigProp("transaction.state.log.min.isr", "1")
                .setConfigProp("transaction.max.timeout.ms", "3600000")
                .setConfigProp("group.initial.rebalance.delay.ms", "0")
                .setConfigProp("auto.create.topics.enable", "false")
                .build();
        cluster.format();
        cluster.startup();
        cluster.waitForReadyBrokers();
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    public String bootstrapServers() {
        return cluster.bootstrapServers();
    }

    /** Client properties naming only the bootstrap servers. */
    public Properties clientProperties() {
        Properties props = new Properties();
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        return props;
    }

    /** Every committed record of a topic, from the beginning to its end as of the call. */
    public java.util.List<org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]>> readAll(String topic) {
        Properties props = clientProperties();
        props.put(org.apache.kafka.clients.consumer.ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        java.util.List<org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]>> out = new java.util.ArrayList<>();
        var bytes = new org.apache.kafka.common.serialization.ByteArrayDeserializer();
        try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(props, bytes, bytes)) {
            var partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new org.apache.kafka.common.TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            var end = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + java.time.Duration.ofMinutes(1).toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not read " + topic + " to its end within a minute");
                }
                consumer.poll(java.time.Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }

    /** Writes one UTF-8 text record (no key) and waits for the broker's acknowledgement. */
    public void send(String topic, String value) {
        var text = new org.apache.kafka.common.serialization.StringSerializer();
        try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<>(clientProperties(), text, text)) {
            producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic, value)).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while writing to " + topic, e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("cannot write to " + topic, e.getCause());
        }
    }

    /** A topic name no other test in this JVM uses. */
    public static String freshTopic(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }
}
