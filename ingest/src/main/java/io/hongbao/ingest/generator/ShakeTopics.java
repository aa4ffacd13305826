package io.hongbao.ingest.generator;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/** Creates the shake topic when it is missing. */
public final class ShakeTopics {
    private static final long METADATA_WAIT_MS = 10_000;

    private ShakeTopics() {}

    /**
     * Makes sure {@code topic} exists; creates it with {@code partitions} when it does not.
     *
     * @return the topic's partition count, and whether it already held a topic of that name
     */
    public static Existing ensure(Properties clientProps, String topic, int partitions) {
        return ensure(clientProps, Map.of(topic, partitions)).get(topic);
    }

    /**
     * Makes sure every topic exists, each created with its partition count when it does not: one admin client and
     * one request for all of them (a job's start waits for this; every client costs a connection and, in a fresh
     * class loader, its classes).
     *
     * @return per topic its partition count, and whether it already held a topic of that name
     */
    public static Map<String, Existing> ensure(Properties clientProps, Map<String, Integer> partitionsByTopic) {
        try (Admin admin = Admin.create(clientProps)) {
            List<NewTopic> topics = partitionsByTopic.entrySet().stream()
                    .map(t -> new NewTopic(t.getKey(), t.getValue(), (short) -1)).toList();
            Map<String, KafkaFuture<Void>> created = admin.createTopics(topics).values();
            Map<String, Existing> existing = new LinkedHashMap<>();
            for (String topic : partitionsByTopic.keySet()) {
                boolean existed = false;
                try {
                    created.get(topic).get();
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException("cannot create topic " + topic + ": " + e.getCause(), e);
                    }
                    existed = true;
                }
                try {
                    existing.put(topic, new Existing(describe(admin, topic).partitions().size(), existed));
                } catch (ExecutionException e) {
                    throw new IllegalStateException("cannot describe topic " + topic + ": " + e.getCause(), e);
                }
            }
            return existing;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics " + partitionsByTopic.keySet(), e);
        }
    }

    /**
     * Describes a topic, waiting up to {@link #METADATA_WAIT_MS} for a just-created topic to reach the broker
     * answering (creation is acknowledged by the controller before every broker's metadata has it).
     */
    private static TopicDescription describe(Admin admin, String topic) throws InterruptedException, ExecutionException {
        long deadline = System.currentTimeMillis() + METADATA_WAIT_MS;
        while (true) {
            try {
                return admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)
                        || System.currentTimeMillis() > deadline) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }

    /** A topic's partition count, and whether it was there before. */
    public record Existing(int partitions, boolean existedBefore) {}
}
