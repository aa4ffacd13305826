package io.hongbao.replication;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.apache.flink.core.fs.BlockLocation;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

/**
 * A Flink {@link FileSystem} for checkpoint and savepoint storage that writes every file synchronously to two
 * datacenters: {@code dual:///X} is {@code <primary root>/X} and {@code <replica root>/X}. A write succeeds only
 * when both copies are written and closed, so a checkpoint completes (and the settlement sink commits what it
 * covers) only when every one of its files is in the replica too: the recovery point is the last completed
 * checkpoint, and the database can never be ahead of the newest checkpoint the other datacenter holds.
 *
 * <p>Next to each file, the replica gets {@code .<name>.sha256}: the SHA-256 of the bytes the stream was given,
 * written after the file is closed and before the write is acknowledged. A restore in the other datacenter
 * re-hashes the files a checkpoint needs against it ({@link CheckpointReplicator#verify}).
 *
 * <p>Reads, listings and status come from the primary (the replica is write-only until a failover). Deletes go
 * to both, so Flink's own retention and shared-state reference counting ({@code SharedStateRegistry}: a shared
 * incremental file is deleted only when no retained checkpoint uses it) apply to the replica unchanged. After a
 * failover, datacenter B runs with its root as the primary and no replica (or A's rebuilt root as the replica):
 * the checkpoint URIs in the metadata, {@code dual:///...}, stay valid because they name no datacenter.
 *
 * <p>Configuration ({@link DualWriteFileSystemFactory}): {@code dual.primary} and optionally {@code dual.replica},
 * each a root URI of any Flink file system ({@code file:///data/dc-a}, {@code s3://hongbao-checkpoints-dc-a}).
 */
public final class DualWriteFileSystem extends FileSystem {

    public static final String SCHEME = "dual";
    static final String SIDECAR_SUFFIX = ".sha256";

    private final URI primaryRoot;
    private final URI replicaRoot;
    private final FileSystem primary;
    private final FileSystem replica;

    public DualWriteFileSystem(URI primaryRoot, URI replicaRoot) throws IOException {
        this.primaryRoot = primaryRoot;
        this.replicaRoot = replicaRoot;
        // Unguarded: Flink caches this file system per process, made under the safety net of whichever task came
        // first; inner file systems from FileSystem.get would stay bound to that task's net and fail every later
        // task once it is closed. Streams opened through dual:// are still guarded by the calling task's net.
        this.primary = FileSystem.getUnguardedFileSystem(primaryRoot);
        this.replica = replicaRoot == null ? null : FileSystem.getUnguardedFileSystem(replicaRoot);
    }

    /** The sidecar holding a file's SHA-256. */
    public static Path sidecar(Path file) {
        return new Path(file.getParent(), "." + file.getName() + SIDECAR_SUFFIX);
    }

    private static Path under(URI root, Path path) {
        String p = path.toUri().getPath();
        String base = root.toString().endsWith("/") ? root.toString().substring(0, root.toString().length() - 1)
                : root.toString();
        return new Path(base + (p.startsWith("/") ? p : "/" + p));
    }

    private Path onPrimary(Path path) {
        return under(primaryRoot, path);
    }

    private Path onReplica(Path path) {
        return under(replicaRoot, path);
    }

    /** A path of the primary back into this file system's namespace. */
    private Path logical(Path physical) {
        String root = new Path(primaryRoot).toUri().getPath();
        String p = physical.toUri().getPath();
        String rest = p.startsWith(root) ? p.substring(root.length()) : p;
        return new Path(SCHEME + "://" + (rest.startsWith("/") ? rest : "/" + rest));
    }

    @Override
    public Path getWorkingDirectory() {
        return new Path(SCHEME + ":///");
    }

    @Override
    public Path getHomeDirectory() {
        return getWorkingDirectory();
    }

    @Override
    public URI getUri() {
        return URI.create(SCHEME + ":///");
    }

    @Override
    public FileStatus getFileStatus(Path f) throws IOException {
        return new LogicalStatus(primary.getFileStatus(onPrimary(f)));
    }

    @Override
    public BlockLocation[] getFileBlockLocations(FileStatus file, long start, long len) throws IOException {
        return primary.getFileBlockLocations(primary.getFileStatus(onPrimary(file.getPath())), start, len);
    }

    @Override
    public FSDataInputStream open(Path f, int bufferSize) throws IOException {
        return primary.open(onPrimary(f), bufferSize);
    }

    @Override
    public FSDataInputStream open(Path f) throws IOException {
        return primary.open(onPrimary(f));
    }

    @Override
    public FileStatus[] listStatus(Path f) throws IOException {
        FileStatus[] statuses = primary.listStatus(onPrimary(f));
        if (statuses == null) {
            return null;
        }
        FileStatus[] logical = new FileStatus[statuses.length];
        for (int i = 0; i < statuses.length; i++) {
            logical[i] = new LogicalStatus(statuses[i]);
        }
        return logical;
    }

    @Override
    public boolean delete(Path f, boolean recursive) throws IOException {
        boolean deleted = primary.delete(onPrimary(f), recursive);
        deleteSidecar(primary, onPrimary(f));
        if (replica != null) {
            // Best effort: a file left in the replica is garbage, never a correctness problem (nothing references
            // it once Flink has dropped it); a failed delete must not fail the job in the primary.
            try {
                replica.delete(onReplica(f), recursive);
                deleteSidecar(replica, onReplica(f));
            } catch (IOException ignored) {
                // see above
            }
        }
        return deleted;
    }

    private static void deleteSidecar(FileSystem fs, Path file) {
        try {
            if (file.getParent() != null) {
                fs.delete(sidecar(file), false);
            }
        } catch (IOException ignored) {
            // a stray sidecar is harmless
        }
    }

    @Override
    public boolean mkdirs(Path f) throws IOException {
        boolean made = primary.mkdirs(onPrimary(f));
        if (replica != null) {
            made &= replica.mkdirs(onReplica(f));
        }
        return made;
    }

    @Override
    public FSDataOutputStream create(Path f, WriteMode overwrite) throws IOException {
        FSDataOutputStream first = primary.create(onPrimary(f), overwrite);
        if (replica == null) {
            return first;
        }
        FSDataOutputStream second;
        try {
            second = replica.create(onReplica(f), overwrite);
        } catch (IOException e) {
            first.close();
            throw e;
        }
        return new DualOutputStream(first, second, onReplica(f));
    }

    @Override
    public boolean rename(Path src, Path dst) throws IOException {
        boolean renamed = primary.rename(onPrimary(src), onPrimary(dst));
        if (replica != null) {
            renamed &= replica.rename(onReplica(src), onReplica(dst));
            if (replica.exists(sidecar(onReplica(src)))) {
                replica.rename(sidecar(onReplica(src)), sidecar(onReplica(dst)));
            }
        }
        return renamed;
    }

    @Override
    public boolean isDistributedFS() {
        return true;
    }

    /** Both streams get every byte; close succeeds only when both closed and the replica's digest is written. */
    private final class DualOutputStream extends FSDataOutputStream {
        private final FSDataOutputStream first;
        private final FSDataOutputStream second;
        private final Path replicaFile;
        private final MessageDigest digest;
        private boolean closed;

        DualOutputStream(FSDataOutputStream first, FSDataOutputStream second, Path replicaFile) {
            this.first = first;
            this.second = second;
            this.replicaFile = replicaFile;
            try {
                this.digest = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void write(int b) throws IOException {
            first.write(b);
            second.write(b);
            digest.update((byte) b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            first.write(b, off, len);
            second.write(b, off, len);
            digest.update(b, off, len);
        }

        @Override
        public long getPos() throws IOException {
            return first.getPos();
        }

        @Override
        public void flush() throws IOException {
            first.flush();
            second.flush();
        }

        @Override
        public void sync() throws IOException {
            first.sync();
            second.sync();
        }

        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            try {
                second.close();
            } finally {
                first.close();
            }
            try (OutputStream out = replica.create(sidecar(replicaFile), WriteMode.OVERWRITE)) {
                out.write(HexFormat.of().formatHex(digest.digest()).getBytes(StandardCharsets.US_ASCII));
            }
        }
    }

    /** A status of the primary, with its path in the {@code dual://} namespace (Flink deletes by these paths). */
    private final class LogicalStatus implements FileStatus {
        private final FileStatus status;

        LogicalStatus(FileStatus status) {
            this.status = status;
        }

        @Override
        public long getLen() {
            return status.getLen();
        }

        @Override
        public long getBlockSize() {
            return status.getBlockSize();
        }

        @Override
        public short getReplication() {
            return status.getReplication();
        }

        @Override
        public long getModificationTime() {
            return status.getModificationTime();
        }

        @Override
        public long getAccessTime() {
            return status.getAccessTime();
        }

        @Override
        public boolean isDir() {
            return status.isDir();
        }

        @Override
        public Path getPath() {
            return logical(status.getPath());
        }
    }
}
