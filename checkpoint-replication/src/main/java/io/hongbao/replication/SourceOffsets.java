package io.hongbao.replication;

import java.io.DataInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.connector.kafka.source.split.KafkaPartitionSplit;
import org.apache.flink.connector.kafka.source.split.KafkaPartitionSplitSerializer;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.apache.flink.core.io.SimpleVersionedSerialization;
import org.apache.flink.runtime.checkpoint.Checkpoints;
import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.checkpoint.metadata.CheckpointMetadata;
import org.apache.flink.runtime.state.OperatorStateHandle;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.SavepointReader;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;

/**
 * The Kafka positions a checkpoint would restart from. A failover reports, with these, how many records the job
 * in the other datacenter replays (the log-end offsets at the loss minus these).
 *
 * <p>Nothing is parsed by hand: Flink's metadata reader finds the operators that hold source split state (the
 * {@code SourceOperator}'s list state {@code SourceReaderState}), the State Processor API reads that state, and
 * the Kafka connector's {@link KafkaPartitionSplitSerializer} decodes each split from Flink's version-and-bytes
 * framing. A split the Kafka serializer cannot read belongs to another kind of source and is left out.
 */
public final class SourceOffsets {

    /** The list state every FLIP-27 source operator keeps its reader's splits in. */
    static final String SPLITS_STATE = "SourceReaderState";

    private SourceOffsets() {}

    /**
     * Partition → next offset to read, for the splits of {@code topic} in the checkpoint in {@code checkpointDir}.
     * A split that has not read a record yet carries the connector's "earliest" sentinel; it is given as 0, the
     * log start of a topic nothing was deleted from (the shake topics' retention outlives a gala). The other
     * sentinels (latest, committed) are passed on as they are: they name no position without the broker.
     */
    public static Map<Integer, Long> of(FileSystem fs, Path checkpointDir, String topic) throws Exception {
        Map<Integer, Long> offsets = new TreeMap<>();
        List<OperatorIdentifier> sources = sourceOperators(fs, checkpointDir);
        if (sources.isEmpty()) {
            return offsets;
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setRuntimeMode(RuntimeExecutionMode.BATCH);
        env.setParallelism(1); // a few splits: one slot, also on a cluster whose other slots are busy
        SavepointReader checkpoint = SavepointReader.read(env, checkpointDir.toString());
        DataStream<byte[]> splits = null;
        for (OperatorIdentifier source : sources) {
            DataStream<byte[]> these = checkpoint.readListState(source, SPLITS_STATE,
                    PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
            splits = splits == null ? these : splits.union(these);
        }
        KafkaPartitionSplitSerializer serializer = new KafkaPartitionSplitSerializer();
        try (CloseableIterator<byte[]> it = splits.executeAndCollect("kafka offsets of " + checkpointDir)) {
            while (it.hasNext()) {
                KafkaPartitionSplit split;
                try {
                    split = SimpleVersionedSerialization.readVersionAndDeSerialize(serializer, it.next());
                } catch (IOException | RuntimeException notKafka) {
                    continue; // another source's split (its bytes are not a Kafka split's)
                }
                if (split.getTopic().equals(topic)) {
                    long next = split.getStartingOffset();
                    offsets.put(split.getPartition(), next == KafkaPartitionSplit.EARLIEST_OFFSET ? 0 : next);
                }
            }
        }
        return offsets;
    }

    /** The operators of the checkpoint that keep source splits, by their ids (a job needs no uid to be read). */
    private static List<OperatorIdentifier> sourceOperators(FileSystem fs, Path checkpointDir) throws IOException {
        CheckpointMetadata metadata;
        try (FSDataInputStream in = fs.open(new Path(checkpointDir, CheckpointFiles.METADATA));
                DataInputStream data = new DataInputStream(in)) {
            metadata = Checkpoints.loadCheckpointMetadata(
                    data, SourceOffsets.class.getClassLoader(), checkpointDir.toString());
        }
        List<OperatorIdentifier> sources = new ArrayList<>();
        for (OperatorState operator : metadata.getOperatorStates()) {
            boolean keepsSplits = false;
            for (OperatorSubtaskState subtask : operator.getStates()) {
                for (OperatorStateHandle handle : subtask.getManagedOperatorState()) {
                    keepsSplits |= handle.getStateNameToPartitionOffsets().containsKey(SPLITS_STATE);
                }
            }
            if (keepsSplits) {
                sources.add(OperatorIdentifier.forUidHash(operator.getOperatorID().toHexString()));
            }
        }
        return sources;
    }
}
