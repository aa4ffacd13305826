package io.hongbao.replication;

import java.io.DataInputStream;
import java.io.IOException;
import java.util.Collection;
import java.util.Comparator;
import java.util.Set;
import java.util.TreeSet;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.apache.flink.runtime.checkpoint.Checkpoints;
import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.checkpoint.metadata.CheckpointMetadata;
import org.apache.flink.runtime.state.AbstractChannelStateHandle;
import org.apache.flink.runtime.state.IncrementalKeyedStateHandle.HandleAndLocalPath;
import org.apache.flink.runtime.state.IncrementalRemoteKeyedStateHandle;
import org.apache.flink.runtime.state.KeyGroupsStateHandle;
import org.apache.flink.runtime.state.OperatorStreamStateHandle;
import org.apache.flink.runtime.state.PlaceholderStreamStateHandle;
import org.apache.flink.runtime.state.StateObject;
import org.apache.flink.runtime.state.StreamStateHandle;

/**
 * Every file a completed checkpoint or savepoint needs, read from its {@code _metadata} with Flink's own
 * metadata reader ({@link Checkpoints#loadCheckpointMetadata}).
 *
 * <p>Why not just copy the {@code chk-N} directory: an incremental RocksDB checkpoint keeps most of its state in
 * {@code <job>/shared/} SST files that earlier checkpoints uploaded and that later ones keep referencing, by
 * absolute path. A copy of {@code chk-N} alone is not restorable; a copy of the whole tree taken at an unlucky
 * moment can miss a shared file. The metadata is the only complete list.
 *
 * <p>State small enough to be inlined into the metadata ({@code ByteStreamStateHandle}) needs no file. A handle
 * type this class does not know (the changelog backend, for instance) is an error, never silently skipped: a
 * replica is only usable when every file is accounted for.
 */
public final class CheckpointFiles {

    /** The metadata file of a completed checkpoint or savepoint directory. */
    public static final String METADATA = "_metadata";

    private CheckpointFiles() {}

    /** The checkpoint id and the absolute paths of every file the checkpoint in {@code checkpointDir} references. */
    public record Listing(long checkpointId, Set<Path> files) {}

    public static Listing list(FileSystem fs, Path checkpointDir) throws IOException {
        Path metadata = new Path(checkpointDir, METADATA);
        CheckpointMetadata loaded;
        try (FSDataInputStream in = fs.open(metadata); DataInputStream data = new DataInputStream(in)) {
            // The external pointer resolves relative handles (savepoints, exclusive files) against this directory.
            loaded = Checkpoints.loadCheckpointMetadata(
                    data, CheckpointFiles.class.getClassLoader(), checkpointDir.toString());
        }
        Set<Path> files = new TreeSet<>(Comparator.comparing(Path::toString));
        files.add(metadata);
        for (OperatorState operator : loaded.getOperatorStates()) {
            collect(operator.getCoordinatorState(), files);
            for (OperatorSubtaskState subtask : operator.getStates()) {
                collectAll(subtask.getManagedOperatorState(), files);
                collectAll(subtask.getRawOperatorState(), files);
                collectAll(subtask.getManagedKeyedState(), files);
                collectAll(subtask.getRawKeyedState(), files);
                collectAll(subtask.getInputChannelState(), files);
                collectAll(subtask.getResultSubpartitionState(), files);
            }
        }
        // Master states (MasterState) are byte arrays inside the metadata: no files.
        return new Listing(loaded.getCheckpointId(), files);
    }

    private static void collectAll(Collection<? extends StateObject> handles, Set<Path> files) {
        for (StateObject handle : handles) {
            collect(handle, files);
        }
    }

    static void collect(StateObject handle, Set<Path> files) {
        if (handle == null) {
            return;
        }
        // Order matters: KeyGroupsStateHandle and OperatorStreamStateHandle are StreamStateHandles themselves.
        if (handle instanceof IncrementalRemoteKeyedStateHandle incremental) {
            for (HandleAndLocalPath shared : incremental.getSharedState()) {
                collect(shared.getHandle(), files);
            }
            for (HandleAndLocalPath exclusive : incremental.getPrivateState()) {
                collect(exclusive.getHandle(), files);
            }
            collect(incremental.getMetaDataStateHandle(), files);
        } else if (handle instanceof KeyGroupsStateHandle keyGroups) {
            collect(keyGroups.getDelegateStateHandle(), files);
        } else if (handle instanceof OperatorStreamStateHandle operator) {
            collect(operator.getDelegateStateHandle(), files);
        } else if (handle instanceof AbstractChannelStateHandle<?> channel) {
            collect(channel.getDelegate(), files);
        } else if (handle instanceof PlaceholderStreamStateHandle) {
            // Only valid between a TaskManager and the JobManager; completed metadata never holds one.
            throw new IllegalStateException("unresolved placeholder handle in completed metadata: " + handle);
        } else if (handle instanceof StreamStateHandle stream) {
            if (stream.asBytesIfInMemory().isPresent()) {
                return; // inlined into _metadata
            }
            files.add(stream.maybeGetPath().orElseThrow(() -> new IllegalStateException(
                    "state handle without a file path: " + stream.getClass().getName())));
        } else {
            throw new IllegalStateException("state handle type not supported by the replicator: "
                    + handle.getClass().getName() + " (a replica must account for every file)");
        }
    }
}
