package io.hongbao.replication;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.apache.flink.runtime.checkpoint.Checkpoints;
import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.checkpoint.metadata.CheckpointMetadata;
import org.apache.flink.runtime.state.OperatorStateHandle;
import org.apache.flink.runtime.state.StreamStateHandle;

/**
 * The Kafka positions a checkpoint would restart from: the splits of every Kafka source in its metadata, read
 * without the connector on the classpath. A failover reports, with these, how many records the job in the other
 * datacenter replays (the log-end offsets at the loss minus these).
 *
 * <p>Format (Flink 2.2 SourceOperator, flink-connector-kafka 5.0): operator list state {@code SourceReaderState},
 * each element a byte array (int length, bytes) holding {@code SimpleVersionedSerialization} (int version, int
 * length) of a {@code KafkaPartitionSplit}: UTF topic, int partition, long starting offset, long stopping offset.
 */
public final class SourceOffsets {

    private static final String SPLITS_STATE = "SourceReaderState";
    /** The connector's starting-offset sentinel of a split that has read nothing yet: "from the beginning". */
    static final long EARLIEST_SENTINEL = -2;

    private SourceOffsets() {}

    /**
     * Partition → next offset to read, for the splits of {@code topic} in the checkpoint in {@code checkpointDir}.
     * A split that has not read a record yet carries the connector's "earliest" sentinel; it is given as 0, the
     * log start of a topic nothing was deleted from (the shake topics' retention outlives a gala). The other
     * sentinels (latest -1, committed -3) are passed on as they are: they name no position without the broker.
     */
    public static Map<Integer, Long> of(FileSystem fs, Path checkpointDir, String topic) throws IOException {
        CheckpointMetadata metadata;
        try (FSDataInputStream in = fs.open(new Path(checkpointDir, CheckpointFiles.METADATA));
                DataInputStream data = new DataInputStream(in)) {
            metadata = Checkpoints.loadCheckpointMetadata(
                    data, SourceOffsets.class.getClassLoader(), checkpointDir.toString());
        }
        Map<Integer, Long> offsets = new TreeMap<>();
        for (OperatorState operator : metadata.getOperatorStates()) {
            for (OperatorSubtaskState subtask : operator.getStates()) {
                for (OperatorStateHandle handle : subtask.getManagedOperatorState()) {
                    OperatorStateHandle.StateMetaInfo splits = handle.getStateNameToPartitionOffsets().get(SPLITS_STATE);
                    if (splits != null) {
                        readSplits(handle.getDelegateStateHandle(), splits.getOffsets(), topic, offsets);
                    }
                }
            }
        }
        return offsets;
    }

    private static void readSplits(StreamStateHandle stream, long[] positions, String topic, Map<Integer, Long> into)
            throws IOException {
        byte[] all;
        try (FSDataInputStream in = stream.openInputStream()) {
            all = in.readAllBytes();
        }
        for (long position : positions) {
            DataInputStream element = new DataInputStream(
                    new ByteArrayInputStream(all, (int) position, all.length - (int) position));
            byte[] versioned = new byte[element.readInt()];
            element.readFully(versioned);
            DataInputStream split = new DataInputStream(new ByteArrayInputStream(versioned));
            split.readInt(); // serializer version
            split.readInt(); // length
            String splitTopic;
            try {
                splitTopic = split.readUTF();
            } catch (IOException e) {
                continue; // not a Kafka split (another source's state)
            }
            if (splitTopic.equals(topic)) {
                int partition = split.readInt();
                long next = split.readLong();
                into.put(partition, next == EARLIEST_SENTINEL ? 0 : next);
            }
        }
    }
}
