package io.hongbao.replication;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.FileSystem.WriteMode;
import org.apache.flink.core.fs.Path;

/**
 * Asynchronous replication of completed checkpoints and savepoints from datacenter A's storage root to B's.
 *
 * <p>For each directory in A with a {@code _metadata} (a completed checkpoint {@code <job>/chk-N} or a savepoint),
 * not yet replicated to B: list every file it references ({@link CheckpointFiles}), copy the missing ones to B under
 * the same relative path, check each copy's SHA-256 against the source's, and then, last, write
 * {@link ReplicaManifest} atomically (temporary name, then rename). A replica without a manifest is incomplete and
 * never chosen. Shared files of incremental checkpoints are immutable (unique names), so one copied and verified
 * for an earlier manifest is not copied again.
 *
 * <p>Paths: checkpoint metadata names shared files by absolute URI. Both datacenters therefore mount their
 * storage under one <em>logical root</em> (the {@code execution.checkpointing.dir} every job is given): in
 * production the same bucket name with per-datacenter endpoints, on one machine a symlink switched on failover.
 * The replicator reads A through A's physical root and maps a referenced path to a relative one by stripping the
 * logical or the physical root.
 *
 * <p>Cleanup in B ({@link #cleanup}) deletes a file only when no retained manifest references it, and only below
 * job directories that replicated checkpoints live in: the job that runs in B after a failover writes beside them
 * and is never touched.
 */
public final class CheckpointReplicator {

    /** Names of directories below a job directory that never hold a {@code _metadata}: not walked for it. */
    private static final Set<String> NOT_CHECKPOINTS = Set.of("shared", "taskowned");

    private final StorageRoot source;
    private final StorageRoot target;
    private final StorageRoot logical;
    private final Clock clock;
    /** Files already verified in B for an earlier manifest (relative path → entry): immutable, not re-copied. */
    private final Map<String, ReplicaManifest.Entry> verified = new HashMap<>();
    /** Checkpoints of B that verified in an earlier {@link #newestVerifiedIncrementally} call, by directory. */
    private final Map<String, KnownGood> knownGood = new HashMap<>();

    public CheckpointReplicator(StorageRoot source, StorageRoot target, StorageRoot logical, Clock clock) {
        this.source = source;
        this.target = target;
        this.logical = logical;
        this.clock = clock;
    }

    /** What one replication attempt of a checkpoint did. */
    public record Outcome(String checkpointDir, Status status, ReplicaManifest manifest, int filesCopied,
            long bytesCopied, String detail) {}

    public enum Status { REPLICATED, ALREADY_REPLICATED, SKIPPED }

    /** The result of checking one replica in B. */
    public record Verification(String checkpointDir, boolean ok, ReplicaManifest manifest, List<String> problems) {}

    /** Replicates every completed checkpoint of A that B has no manifest for, oldest first. */
    public List<Outcome> replicateAll() throws IOException {
        List<Outcome> outcomes = new ArrayList<>();
        List<CompletedDir> completed = completedDirs(source);
        completed.sort(Comparator.comparingLong(CompletedDir::metadataModified));
        for (CompletedDir dir : completed) {
            if (target.fs().exists(target.resolve(dir.relative() + "/" + ReplicaManifest.FILE_NAME))) {
                continue;
            }
            outcomes.add(replicate(dir.relative()));
        }
        return outcomes;
    }

    /** Replicates one checkpoint directory (relative to the roots). */
    public Outcome replicate(String checkpointDir) throws IOException {
        Path sourceDir = source.resolve(checkpointDir);
        Path manifestPath = target.resolve(checkpointDir + "/" + ReplicaManifest.FILE_NAME);
        if (target.fs().exists(manifestPath)) {
            return new Outcome(checkpointDir, Status.ALREADY_REPLICATED, readManifest(manifestPath), 0, 0, "");
        }
        CheckpointFiles.Listing listing;
        long metadataModified;
        try {
            metadataModified = source.fs().getFileStatus(new Path(sourceDir, CheckpointFiles.METADATA))
                    .getModificationTime();
            listing = CheckpointFiles.list(source.fs(), sourceDir);
        } catch (FileNotFoundException e) {
            return skipped(checkpointDir, "gone from the source (subsumed) before it was read: " + e.getMessage());
        } catch (IOException e) {
            // A _metadata still being written reads as truncated: the next pass sees it complete.
            return skipped(checkpointDir, "metadata not readable (yet): " + e);
        }
        List<ReplicaManifest.Entry> entries = new ArrayList<>();
        int copied = 0;
        long bytes = 0;
        for (Path file : listing.files()) {
            String relative = relativize(file).orElse(null);
            if (relative == null) {
                return skipped(checkpointDir, "references " + file + " outside the storage root (" + logical
                        + " / " + source + "): not replicable by this root's replicator");
            }
            ReplicaManifest.Entry known = verified.get(relative);
            Path targetFile = target.resolve(relative);
            if (known != null && !relative.equals(checkpointDir + "/" + CheckpointFiles.METADATA)
                    && target.fs().exists(targetFile)
                    && target.fs().getFileStatus(targetFile).getLen() == known.size()) {
                entries.add(known);
                continue;
            }
            try {
                ReplicaManifest.Entry entry = copyVerified(source.resolve(relative), targetFile, relative);
                entries.add(entry);
                copied++;
                bytes += entry.size();
            } catch (FileNotFoundException e) {
                return skipped(checkpointDir, "a referenced file vanished from the source (checkpoint subsumed "
                        + "while copying): " + relative);
            }
        }
        ReplicaManifest manifest = new ReplicaManifest(ReplicaManifest.FORMAT, checkpointDir, listing.checkpointId(),
                metadataModified, clock.millis(), List.copyOf(entries));
        writeAtomically(manifestPath, manifest.toJson());
        for (ReplicaManifest.Entry entry : entries) {
            verified.put(entry.path(), entry);
        }
        return new Outcome(checkpointDir, Status.REPLICATED, manifest, copied, bytes, "");
    }

    private static Outcome skipped(String checkpointDir, String why) {
        return new Outcome(checkpointDir, Status.SKIPPED, null, 0, 0, why);
    }

    private Optional<String> relativize(Path file) {
        Optional<String> relative = logical.relativize(file);
        if (relative.isEmpty()) {
            relative = source.relativize(file);
        }
        return relative;
    }

    /**
     * Copies under a temporary name while hashing the source, re-reads the copy and hashes it, and renames it into
     * place only when both hashes and the sizes agree.
     */
    private ReplicaManifest.Entry copyVerified(Path from, Path to, String relative) throws IOException {
        long expectedSize = source.fs().getFileStatus(from).getLen();
        Path temporary = new Path(to.getParent(), "." + to.getName() + ".inprogress-" + UUID.randomUUID());
        MessageDigest sourceDigest = sha256();
        long written = 0;
        try (InputStream in = new DigestInputStream(source.fs().open(from), sourceDigest);
                OutputStream out = target.fs().create(temporary, WriteMode.NO_OVERWRITE)) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                out.write(buffer, 0, n);
                written += n;
            }
        }
        String sourceHash = HexFormat.of().formatHex(sourceDigest.digest());
        String copyHash = sha256Of(target.fs(), temporary);
        if (written != expectedSize || !sourceHash.equals(copyHash)) {
            target.fs().delete(temporary, false);
            throw new IOException("copy of " + relative + " does not match its source (size " + written + " of "
                    + expectedSize + ", sha256 " + copyHash + " vs " + sourceHash + ")");
        }
        target.fs().delete(to, false); // a stale, unverified leftover of an interrupted pass
        if (!target.fs().rename(temporary, to)) {
            throw new IOException("cannot rename " + temporary + " to " + to);
        }
        return new ReplicaManifest.Entry(relative, written, sourceHash);
    }

    private void writeAtomically(Path path, byte[] content) throws IOException {
        Path temporary = new Path(path.getParent(), "." + path.getName() + ".inprogress-" + UUID.randomUUID());
        try (OutputStream out = target.fs().create(temporary, WriteMode.NO_OVERWRITE)) {
            out.write(content);
        }
        if (!target.fs().rename(temporary, path)) {
            throw new IOException("cannot rename " + temporary + " to " + path);
        }
    }

    // ------------------------------------------------------------------------------------------ verify, choose

    /**
     * Checks a replica in B. With a manifest (written by {@link #replicate}): every listed file is present with
     * its size and SHA-256, and the {@code _metadata} in B (read with Flink's reader again) references no file the
     * manifest lacks. Without one (written by {@link DualWriteFileSystem}): every file the {@code _metadata}
     * references is present and its SHA-256 equals its sidecar's. The returned manifest lists what was verified.
     */
    public Verification verify(String checkpointDir) {
        Path manifestPath = target.resolve(checkpointDir + "/" + ReplicaManifest.FILE_NAME);
        try {
            if (!target.fs().exists(manifestPath)) {
                return verifyBySidecars(checkpointDir);
            }
        } catch (IOException e) {
            return new Verification(checkpointDir, false, null, List.of("cannot read the replica: " + e));
        }
        ReplicaManifest manifest;
        try {
            manifest = readManifest(manifestPath);
        } catch (IOException e) {
            return new Verification(checkpointDir, false, null, List.of("no readable manifest: " + e.getMessage()));
        }
        List<String> problems = new ArrayList<>();
        Set<String> listed = new HashSet<>();
        for (ReplicaManifest.Entry entry : manifest.files()) {
            listed.add(entry.path());
            checkFile(entry.path(), entry.size(), entry.sha256(), problems);
        }
        if (problems.isEmpty()) {
            try {
                for (String relative : referencedInTarget(checkpointDir).keySet()) {
                    if (!listed.contains(relative)) {
                        problems.add(relative + ": referenced by _metadata but not in the manifest");
                    }
                }
            } catch (IOException | RuntimeException e) {
                problems.add("_metadata unreadable in the replica: " + e);
            }
        }
        return new Verification(checkpointDir, problems.isEmpty(), manifest, List.copyOf(problems));
    }

    private Verification verifyBySidecars(String checkpointDir) {
        List<String> problems = new ArrayList<>();
        List<ReplicaManifest.Entry> entries = new ArrayList<>();
        long checkpointId = -1;
        long modified = 0;
        try {
            Path dir = target.resolve(checkpointDir);
            modified = target.fs().getFileStatus(new Path(dir, CheckpointFiles.METADATA)).getModificationTime();
            checkpointId = CheckpointFiles.list(target.fs(), dir).checkpointId();
            for (String relative : referencedInTarget(checkpointDir).keySet()) {
                Path sidecar = DualWriteFileSystem.sidecar(target.resolve(relative));
                String expected;
                try (FSDataInputStream in = target.fs().open(sidecar)) {
                    expected = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).trim();
                } catch (FileNotFoundException e) {
                    problems.add(relative + ": no recorded SHA-256 (" + sidecar.getName() + " missing)");
                    continue;
                }
                long size = checkFile(relative, -1, expected, problems);
                entries.add(new ReplicaManifest.Entry(relative, size, expected));
            }
        } catch (IOException | RuntimeException e) {
            problems.add("_metadata unreadable in the replica: " + e);
        }
        ReplicaManifest verified = new ReplicaManifest(ReplicaManifest.FORMAT, checkpointDir, checkpointId, modified,
                modified, List.copyOf(entries));
        return new Verification(checkpointDir, problems.isEmpty(), verified, List.copyOf(problems));
    }

    /** Adds what is wrong with one file of B to {@code problems}; returns its size (-1 if unreadable). */
    private long checkFile(String relative, long expectedSize, String expectedSha256, List<String> problems) {
        Path file = target.resolve(relative);
        try {
            long size = target.fs().getFileStatus(file).getLen();
            if (expectedSize >= 0 && size != expectedSize) {
                problems.add(relative + ": size " + size + ", recorded " + expectedSize);
                return size;
            }
            String hash = sha256Of(target.fs(), file);
            if (!hash.equals(expectedSha256)) {
                problems.add(relative + ": sha256 " + hash + ", recorded " + expectedSha256);
            }
            return size;
        } catch (FileNotFoundException e) {
            problems.add(relative + ": missing");
        } catch (IOException e) {
            problems.add(relative + ": unreadable: " + e.getMessage());
        }
        return -1;
    }

    /** The files B's copy of a checkpoint's {@code _metadata} references, relative to the root. */
    private Map<String, Path> referencedInTarget(String checkpointDir) throws IOException {
        Map<String, Path> referenced = new HashMap<>();
        for (Path file : CheckpointFiles.list(target.fs(), target.resolve(checkpointDir)).files()) {
            String relative = logical.relativize(file).or(() -> target.relativize(file))
                    .orElseThrow(() -> new IOException("references " + file + " outside the storage root"));
            referenced.put(relative, file);
        }
        return referenced;
    }

    /** The replicas in B that have a manifest, newest (by completion in A) first. */
    public List<ReplicaManifest> manifests() throws IOException {
        List<ReplicaManifest> manifests = new ArrayList<>();
        for (CompletedDir dir : completedDirs(target)) {
            Path manifestPath = target.resolve(dir.relative() + "/" + ReplicaManifest.FILE_NAME);
            if (target.fs().exists(manifestPath)) {
                manifests.add(readManifest(manifestPath));
            }
        }
        manifests.sort(Comparator.comparingLong(ReplicaManifest::metadataModified)
                .thenComparingLong(ReplicaManifest::checkpointId).reversed());
        return manifests;
    }

    /**
     * The newest replica that verifies, with the verdicts on the newer ones passed over. A restore in B uses it
     * through the logical root: {@code <logical root>/<checkpoint dir>}.
     */
    public record Choice(Optional<Verification> chosen, List<Verification> rejected) {}

    /**
     * Considers every directory of B with a {@code _metadata}, newest first (by completion in A as the manifest
     * records it, else by the time B's {@code _metadata} was written), and returns the first that verifies.
     */
    public Choice newestVerified() throws IOException {
        List<Verification> rejected = new ArrayList<>();
        for (String dir : newestFirst()) {
            Verification verification = verify(dir);
            if (verification.ok()) {
                return new Choice(Optional.of(verification), rejected);
            }
            rejected.add(verification);
        }
        return new Choice(Optional.empty(), rejected);
    }

    /**
     * {@link #newestVerified}, for a watcher that calls it again and again on one instance: a checkpoint that
     * verified in an earlier call (its {@code _metadata} read, every file it references hashed) is checked again
     * only by its {@code _metadata}'s size and time and by the presence and size of every file it references.
     * Checkpoint files are written once under unique names and never changed, so this finds what a loss can do to
     * them (a file deleted, cut short, never finished) without hashing the state again; the full check runs once per
     * checkpoint, when it first appears. What it no longer sees is a byte flipped in place after that first check.
     */
    public Choice newestVerifiedIncrementally() throws IOException {
        List<Verification> rejected = new ArrayList<>();
        List<String> dirs = newestFirst();
        knownGood.keySet().retainAll(new HashSet<>(dirs));
        for (String dir : dirs) {
            Verification verification = reverify(dir);
            if (verification == null) {
                FileStatus metadata = metadataStatus(dir);
                verification = verify(dir);
                if (verification.ok() && metadata != null) {
                    knownGood.put(dir, new KnownGood(metadata.getLen(), metadata.getModificationTime(), verification));
                }
            }
            if (verification.ok()) {
                return new Choice(Optional.of(verification), rejected);
            }
            rejected.add(verification);
        }
        return new Choice(Optional.empty(), rejected);
    }

    private record KnownGood(long metadataSize, long metadataModified, Verification verification) {}

    /** The quick check of a checkpoint that verified before; null when it is not known (or its metadata changed). */
    private Verification reverify(String dir) {
        KnownGood known = knownGood.get(dir);
        FileStatus metadata = known == null ? null : metadataStatus(dir);
        if (metadata == null || metadata.getLen() != known.metadataSize()
                || metadata.getModificationTime() != known.metadataModified()) {
            knownGood.remove(dir);
            return null;
        }
        List<String> problems = new ArrayList<>();
        for (ReplicaManifest.Entry entry : known.verification().manifest().files()) {
            try {
                long size = target.fs().getFileStatus(target.resolve(entry.path())).getLen();
                if (size != entry.size()) {
                    problems.add(entry.path() + ": size " + size + ", verified with " + entry.size());
                }
            } catch (FileNotFoundException e) {
                problems.add(entry.path() + ": missing");
            } catch (IOException e) {
                problems.add(entry.path() + ": unreadable: " + e.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            knownGood.remove(dir);
            return new Verification(dir, false, known.verification().manifest(), List.copyOf(problems));
        }
        return known.verification();
    }

    private FileStatus metadataStatus(String dir) {
        try {
            return target.fs().getFileStatus(target.resolve(dir + "/" + CheckpointFiles.METADATA));
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * The verdict on every checkpoint and savepoint in B, newest first, in either layout: the dual write's
     * (sidecars) and the asynchronous replicator's (manifests).
     */
    public List<Verification> verifyAll() throws IOException {
        List<Verification> verdicts = new ArrayList<>();
        for (String dir : newestFirst()) {
            verdicts.add(verify(dir));
        }
        return verdicts;
    }

    /** Every directory of B with a {@code _metadata}, newest first. */
    private List<String> newestFirst() throws IOException {
        // Completion time first; the checkpoint id breaks ties (file times can be coarser than checkpoints).
        Map<String, long[]> completedAt = new HashMap<>();
        for (CompletedDir dir : completedDirs(target)) {
            completedAt.put(dir.relative(), new long[] {dir.metadataModified(), idOf(dir.relative())});
        }
        for (ReplicaManifest manifest : manifests()) {
            completedAt.put(manifest.checkpointDir(),
                    new long[] {manifest.metadataModified(), manifest.checkpointId()});
        }
        List<String> newestFirst = new ArrayList<>(completedAt.keySet());
        newestFirst.sort(Comparator.comparing((String d) -> completedAt.get(d)[0])
                .thenComparing(d -> completedAt.get(d)[1]).reversed());
        return newestFirst;
    }

    /** The URI a job in B restores from (execution.state-recovery.path / --savepoint). */
    public String restorePath(ReplicaManifest manifest) {
        return logical.uri() + "/" + manifest.checkpointDir();
    }

    // ---------------------------------------------------------------------------------------------- cleanup

    /** What {@link #cleanup} removed. */
    public record Cleanup(List<String> replicasRemoved, int filesDeleted) {}

    /**
     * Keeps the {@code retain} newest replicas (by manifest) and deletes the older ones, manifest first (so a
     * half-deleted replica is never chosen), then every file below their job directories that no retained
     * manifest references. Files of a replica still being copied have no manifest yet: cleanup must not run
     * concurrently with {@link #replicate} on the same target (the command runs them one after the other).
     */
    public Cleanup cleanup(int retain) throws IOException {
        if (retain < 1) {
            throw new IllegalArgumentException("retain at least one replica");
        }
        List<ReplicaManifest> manifests = manifests();
        List<ReplicaManifest> kept = manifests.subList(0, Math.min(retain, manifests.size()));
        List<String> removed = new ArrayList<>();
        for (ReplicaManifest old : manifests.subList(kept.size(), manifests.size())) {
            target.fs().delete(target.resolve(old.checkpointDir() + "/" + ReplicaManifest.FILE_NAME), false);
            removed.add(old.checkpointDir());
        }
        Set<String> needed = new HashSet<>();
        Set<String> jobDirs = new HashSet<>();
        for (ReplicaManifest manifest : kept) {
            needed.add(manifest.checkpointDir() + "/" + ReplicaManifest.FILE_NAME);
            manifest.files().forEach(e -> needed.add(e.path()));
        }
        for (ReplicaManifest manifest : manifests) {
            jobDirs.add(topDirectory(manifest.checkpointDir()));
        }
        int deleted = 0;
        for (String jobDir : jobDirs) {
            deleted += sweep(target.resolve(jobDir), needed);
        }
        verified.keySet().retainAll(needed);
        return new Cleanup(removed, deleted);
    }

    /** N of a {@code chk-N} directory, -1 for a savepoint's. */
    private static long idOf(String checkpointDir) {
        int at = checkpointDir.lastIndexOf("/chk-");
        try {
            return at < 0 ? -1 : Long.parseLong(checkpointDir.substring(at + 5));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static String topDirectory(String relative) {
        int slash = relative.indexOf('/');
        return slash < 0 ? relative : relative.substring(0, slash);
    }

    /** Deletes the files below {@code dir} that are not {@code needed}, and directories left empty. */
    private int sweep(Path dir, Set<String> needed) throws IOException {
        FileStatus[] children = target.fs().listStatus(dir);
        if (children == null) {
            return 0;
        }
        int deleted = 0;
        for (FileStatus child : children) {
            Path path = child.getPath();
            if (child.isDir()) {
                deleted += sweep(path, needed);
                FileStatus[] left = target.fs().listStatus(path);
                if (left != null && left.length == 0) {
                    target.fs().delete(path, false);
                }
            } else {
                String relative = target.relativize(path).orElseThrow();
                if (!needed.contains(relative)) {
                    target.fs().delete(path, false);
                    deleted++;
                }
            }
        }
        return deleted;
    }

    // ---------------------------------------------------------------------------------------------- helpers

    private record CompletedDir(String relative, long metadataModified) {}

    /** Directories with a {@code _metadata} below a root: {@code <job>/chk-N} and {@code savepoint-*}. */
    private static List<CompletedDir> completedDirs(StorageRoot root) throws IOException {
        List<CompletedDir> found = new ArrayList<>();
        walk(root, root.path(), 0, found);
        return found;
    }

    private static void walk(StorageRoot root, Path dir, int depth, List<CompletedDir> found) throws IOException {
        FileStatus[] children;
        try {
            children = root.fs().listStatus(dir);
        } catch (FileNotFoundException e) {
            return; // deleted while walking (a subsumed checkpoint)
        }
        if (children == null) {
            return;
        }
        for (FileStatus child : children) {
            String name = child.getPath().getName();
            if (!child.isDir() && name.equals(CheckpointFiles.METADATA) && depth > 0) {
                found.add(new CompletedDir(root.relativize(dir).orElseThrow(), child.getModificationTime()));
            } else if (child.isDir() && depth < 2 && !NOT_CHECKPOINTS.contains(name)) {
                walk(root, child.getPath(), depth + 1, found);
            }
        }
    }

    private ReplicaManifest readManifest(Path path) throws IOException {
        try (FSDataInputStream in = target.fs().open(path)) {
            return ReplicaManifest.fromJson(in.readAllBytes());
        }
    }

    static String sha256Of(FileSystem fs, Path file) throws IOException {
        MessageDigest digest = sha256();
        try (InputStream in = new DigestInputStream(fs.open(file), digest)) {
            byte[] buffer = new byte[1 << 16];
            while (in.read(buffer) > 0) {
                // reading feeds the digest
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JRE has SHA-256", e);
        }
    }
}
