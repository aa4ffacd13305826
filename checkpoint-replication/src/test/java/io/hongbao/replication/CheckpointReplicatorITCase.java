package io.hongbao.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The replicator against real checkpoints: a MiniCluster job on incremental RocksDB writes retained checkpoints
 * into datacenter A's root (reached through a "logical root" symlink, as the drill does), whose shared SST files
 * are referenced by more than one checkpoint.
 */
class CheckpointReplicatorITCase {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setConfiguration(clusterConfiguration()).setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    /** The JobManager keeps this many completed checkpoints (a cluster setting; the job's is not used here). */
    static Configuration clusterConfiguration() {
        Configuration conf = new Configuration();
        conf.setString("execution.checkpointing.num-retained", "4");
        return conf;
    }

    @TempDir static Path work;
    static Path logical;
    static Path dcA;

    @BeforeAll
    static void checkpointsInDatacenterA() throws Exception {
        dcA = Files.createDirectories(work.resolve("dc-a"));
        logical = work.resolve("checkpoints");
        Files.createSymbolicLink(logical, dcA);
        JobClient job = startJob("file://" + logical, null);
        // Four retained checkpoints, so that at least one shared file is referenced by two of them.
        awaitCheckpoints(dcA.resolve(job.getJobID().toHexString()), 4, Duration.ofSeconds(60));
        job.cancel().get();
    }

    static JobClient startJob(String checkpointDir, String restorePath) throws Exception {
        Configuration conf = new Configuration();
        conf.setString("state.backend.type", "rocksdb");
        conf.setString("execution.checkpointing.incremental", "true");
        conf.setString("execution.checkpointing.dir", checkpointDir);
        conf.setString("execution.checkpointing.interval", "300 ms");
        conf.setString("execution.checkpointing.num-retained", "4");
        conf.setString("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION");
        // Small state would otherwise be inlined into _metadata: make every state handle a file, as at scale.
        conf.setString("execution.checkpointing.data-inline-threshold", "0 b");
        if (restorePath != null) {
            conf.setString("execution.state-recovery.path", restorePath);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        env.fromSource(new DataGeneratorSource<>(i -> i, Long.MAX_VALUE, RateLimiterStrategy.perSecond(2000),
                        Types.LONG), WatermarkStrategy.noWatermarks(), "numbers").uid("numbers")
                .keyBy(i -> i % 5000)
                .process(new CountPerKey()).uid("count-per-key")
                .sinkTo(new DiscardingSink<>());
        return env.executeAsync("replicated-state");
    }

    /** Keyed state that changes every record: each checkpoint uploads new SST files, keeps older ones. */
    static final class CountPerKey extends KeyedProcessFunction<Long, Long, Long> {
        private transient ValueState<Long> count;

        @Override
        public void open(OpenContext context) {
            count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Types.LONG));
        }

        @Override
        public void processElement(Long value, Context ctx, Collector<Long> out) throws IOException {
            long next = (count.value() == null ? 0 : count.value()) + 1;
            count.update(next);
            out.collect(next);
        }
    }

    static void awaitCheckpoints(Path jobDir, int count, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (completedCheckpoints(jobDir).size() < count) {
            assertThat(System.nanoTime()).as("%d checkpoints in %s", count, jobDir).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    /** Waits until the job has fully stopped (a cancel's future completes before its tasks are gone). */
    static void awaitTerminal(JobClient job, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!job.getJobStatus().get().isGloballyTerminalState()) {
            assertThat(System.nanoTime()).as("job %s stopped", job.getJobID()).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    /** The completed checkpoints ({@code chk-N} with a {@code _metadata}) of a job directory, oldest first. */
    static List<Path> completedCheckpoints(Path jobDir) throws IOException {
        if (!Files.isDirectory(jobDir)) {
            return List.of();
        }
        try (Stream<Path> dirs = Files.list(jobDir)) {
            return dirs.filter(d -> d.getFileName().toString().startsWith("chk-"))
                    .filter(d -> Files.exists(d.resolve(CheckpointFiles.METADATA)))
                    .sorted(Comparator.comparingLong(d -> Long.parseLong(d.getFileName().toString().substring(4))))
                    .toList();
        }
    }

    private static CheckpointReplicator replicator(Path target) throws IOException {
        Files.createDirectories(target);
        return new CheckpointReplicator(StorageRoot.of("file://" + dcA), StorageRoot.of("file://" + target),
                StorageRoot.of("file://" + logical), Clock.systemUTC());
    }

    /** A replicator from A to {@code target} that has replicated every retained checkpoint of A. */
    private static CheckpointReplicator replicatedInto(Path target) throws IOException {
        CheckpointReplicator replicator = replicator(target);
        assertThat(replicator.replicateAll()).isNotEmpty();
        return replicator;
    }

    /** For each shared file, the replicas whose manifest lists it. */
    private static Map<String, List<String>> sharedFileUsers(List<ReplicaManifest> manifests) {
        Map<String, List<String>> users = new HashMap<>();
        for (ReplicaManifest m : manifests) {
            m.files().stream().map(ReplicaManifest.Entry::path).filter(p -> p.contains("/shared/"))
                    .forEach(p -> users.computeIfAbsent(p, k -> new ArrayList<>()).add(m.checkpointDir()));
        }
        return users;
    }

    @Test
    void replicatesEveryReferencedFileOnceAndTheReplicasVerify(@TempDir Path dcB) throws IOException {
        CheckpointReplicator replicator = replicator(dcB);

        List<CheckpointReplicator.Outcome> outcomes = replicator.replicateAll();

        assertThat(outcomes).hasSizeGreaterThanOrEqualTo(4)
                .allMatch(o -> o.status() == CheckpointReplicator.Status.REPLICATED);
        List<ReplicaManifest> manifests = replicator.manifests();
        assertThat(manifests).allSatisfy(m -> assertThat(replicator.verify(m.checkpointDir()).problems()).isEmpty());
        // Incremental: some shared SST is needed by two checkpoints, and was copied only once.
        assertThat(sharedFileUsers(manifests).values()).anyMatch(users -> users.size() >= 2);
        int listed = manifests.stream().mapToInt(m -> m.files().size()).sum();
        int copied = outcomes.stream().mapToInt(CheckpointReplicator.Outcome::filesCopied).sum();
        assertThat(copied).isLessThan(listed);
        // Every file the manifest lists is byte-identical in B.
        for (ReplicaManifest.Entry entry : manifests.get(0).files()) {
            assertThat(dcB.resolve(entry.path())).hasSameBinaryContentAs(dcA.resolve(entry.path()));
        }
        // A second pass has nothing to do.
        assertThat(replicator.replicateAll()).isEmpty();
    }

    @Test
    void aCorruptOrMissingFilePassesTheReplicaOverForAnOlderCompleteOne(@TempDir Path dcB) throws IOException {
        CheckpointReplicator replicator = replicatedInto(dcB);
        List<ReplicaManifest> manifests = replicator.manifests();
        ReplicaManifest newest = manifests.get(0);
        ReplicaManifest second = manifests.get(1);
        assertThat(replicator.newestVerified().chosen()).get()
                .extracting(CheckpointReplicator.Verification::checkpointDir).isEqualTo(newest.checkpointDir());

        // One flipped byte, same size: only the hash notices.
        flipFirstByte(dcB.resolve(newest.checkpointDir()).resolve("_metadata"));
        CheckpointReplicator.Choice choice = replicator.newestVerified();
        assertThat(choice.rejected()).singleElement().satisfies(v -> {
            assertThat(v.checkpointDir()).isEqualTo(newest.checkpointDir());
            assertThat(v.problems()).anyMatch(p -> p.contains("sha256"));
        });
        assertThat(choice.chosen()).get().extracting(CheckpointReplicator.Verification::checkpointDir)
                .isEqualTo(second.checkpointDir());

        // A state file the second one needs goes missing: the third is chosen (if a third is retained). Not its
        // _metadata: without that the directory is no checkpoint at all and is not even a candidate.
        String needed = second.files().stream().map(ReplicaManifest.Entry::path)
                .filter(path -> !path.endsWith("/" + CheckpointFiles.METADATA)).reduce((a, b) -> b).orElseThrow();
        Files.delete(dcB.resolve(needed));
        choice = replicator.newestVerified();
        assertThat(choice.rejected()).extracting(CheckpointReplicator.Verification::checkpointDir)
                .contains(newest.checkpointDir(), second.checkpointDir());
        assertThat(choice.rejected().get(1).problems()).contains(needed + ": missing");
        if (manifests.size() > 2) {
            assertThat(choice.chosen()).get().extracting(v -> v.manifest().files().stream()
                    .map(ReplicaManifest.Entry::path).collect(Collectors.toSet()))
                    .satisfies(files -> assertThat((Set<String>) files).doesNotContain(needed));
        }
    }

    @Test
    void aReplicaWithoutItsManifestIsIncompleteAndNeverChosen(@TempDir Path dcB) throws IOException {
        CheckpointReplicator replicator = replicatedInto(dcB);
        ReplicaManifest newest = replicator.manifests().get(0);

        // As if the replicator died after copying the files, before writing the manifest.
        Files.delete(dcB.resolve(newest.checkpointDir()).resolve(ReplicaManifest.FILE_NAME));

        assertThat(replicator.newestVerified().chosen()).get()
                .extracting(CheckpointReplicator.Verification::checkpointDir).isNotEqualTo(newest.checkpointDir());
    }

    @Test
    void cleanupDeletesOnlyWhatNoRetainedReplicaNeeds(@TempDir Path dcB) throws IOException {
        CheckpointReplicator replicator = replicatedInto(dcB);
        List<ReplicaManifest> manifests = replicator.manifests();
        ReplicaManifest newest = manifests.get(0);
        // The newest needs shared files that an older checkpoint uploaded first.
        Map<String, List<String>> users = sharedFileUsers(manifests);
        assertThat(newest.files()).anyMatch(e -> users.getOrDefault(e.path(), List.of()).size() >= 2);
        // A file of a job B runs after a failover, beside the replicas: not the replicator's to delete.
        Path ownJobFile = dcB.resolve(new JobID().toHexString()).resolve("shared").resolve("own-sst");
        Files.createDirectories(ownJobFile.getParent());
        Files.writeString(ownJobFile, "state of the job running in B");

        CheckpointReplicator.Cleanup cleanup = replicator.cleanup(1);

        assertThat(cleanup.replicasRemoved()).hasSize(manifests.size() - 1);
        assertThat(cleanup.filesDeleted()).isPositive();
        assertThat(replicator.manifests()).extracting(ReplicaManifest::checkpointDir)
                .containsExactly(newest.checkpointDir());
        assertThat(replicator.verify(newest.checkpointDir()).problems()).isEmpty();
        Set<String> needed = newest.files().stream().map(ReplicaManifest.Entry::path).collect(Collectors.toSet());
        String jobDir = newest.checkpointDir().substring(0, newest.checkpointDir().indexOf('/'));
        try (Stream<Path> left = Files.walk(dcB.resolve(jobDir))) {
            assertThat(left.filter(Files::isRegularFile).map(p -> dcB.relativize(p).toString()))
                    .allMatch(p -> needed.contains(p) || p.endsWith(ReplicaManifest.FILE_NAME));
        }
        assertThat(ownJobFile).exists();
    }

    @Test
    void aJobRestoresFromTheReplicaAfterTheLogicalRootIsSwitchedToB(@TempDir Path dcB) throws Exception {
        CheckpointReplicator replicator = replicatedInto(dcB);
        ReplicaManifest newest = replicator.newestVerified().chosen().orElseThrow().manifest();
        Path switched = work.resolve("checkpoints.switch");
        try {
            // Datacenter A is unreachable: the logical root now leads to B (an atomic symlink switch).
            Files.createSymbolicLink(switched, dcB);
            Files.move(switched, logical, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);

            JobClient restored = startJob("file://" + logical, replicator.restorePath(newest));
            // Running from the replica and checkpointing into B: the restore read every file it needed from B.
            awaitCheckpoints(dcB.resolve(restored.getJobID().toHexString()), 1, Duration.ofSeconds(60));
            assertThat(restored.getJobStatus().get()).hasToString("RUNNING");
            restored.cancel().get();
        } finally {
            Files.createSymbolicLink(switched, dcA);
            Files.move(switched, logical, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
    }

    private static void flipFirstByte(Path file) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            int b = raf.read();
            raf.seek(0);
            raf.write(b ^ 0xFF);
        }
    }

}
