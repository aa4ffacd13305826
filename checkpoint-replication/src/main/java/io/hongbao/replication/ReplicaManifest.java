package io.hongbao.replication;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.util.List;

/**
 * What a replicated checkpoint consists of, written next to its {@code _metadata} in the target datacenter as
 * {@value #FILE_NAME}, after every file it lists was copied and verified. Its presence means "complete when
 * written"; {@link CheckpointReplicator#verify} re-checks that it still is.
 *
 * @param checkpointDir the checkpoint's directory relative to the storage root, e.g. {@code <job id>/chk-42}
 * @param checkpointId the id Flink gave it
 * @param metadataModified when Flink completed it in the source (the {@code _metadata} modification time, epoch ms)
 * @param replicatedAt when the manifest was written (epoch ms)
 * @param files every file the checkpoint references, relative to the storage root, with size and SHA-256
 */
public record ReplicaManifest(
        int format, String checkpointDir, long checkpointId, long metadataModified, long replicatedAt,
        List<Entry> files) {

    public static final String FILE_NAME = "_replica-manifest.json";
    public static final int FORMAT = 1;

    /** One file: its path relative to the storage root, its length and its SHA-256 (hex). */
    public record Entry(String path, long size, String sha256) {}

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public byte[] toJson() {
        try {
            return JSON.writeValueAsBytes(this);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static ReplicaManifest fromJson(byte[] json) throws IOException {
        ReplicaManifest manifest = JSON.readValue(json, ReplicaManifest.class);
        if (manifest.format() != FORMAT) {
            throw new IOException("unknown replica manifest format " + manifest.format());
        }
        return manifest;
    }

    public long totalBytes() {
        return files.stream().mapToLong(Entry::size).sum();
    }
}
