package io.hongbao.ingest.generator;

import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
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
        try (Admin admin = Admin.create(clientProps)) {
            boolean existed = false;
            try {
                admin.createTopics(List.of(new NewTopic(topic, partitions, (short) -1))).all().get();
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw new IllegalStateException("cannot create topic " + topic + ": " + e.getCause(), e);
                }
                existed = true;
            }
            return new Existing(describe(admin, topic).partitions().size(), existed);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topic " + topic, e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot describe topic " + topic + ": " + e.getCause(), e);
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
