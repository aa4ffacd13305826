package io.hongbao.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.FileUtils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import picocli.CommandLine;

/**
 * Synchronous dual-write checkpoint storage: a MiniCluster job on incremental RocksDB checkpoints into
 * {@code dual:///checkpoints} with datacenter A as primary and B as replica; then A is lost and the job resumes from
 * B's newest verified checkpoint under the very same URI.
 */
class DualWriteFileSystemITCase {

    static final Path ROOT = Path.of("target", "dual-write-it").toAbsolutePath();
    static final Path DC_A = ROOT.resolve("dc-a");
    static final Path DC_B = ROOT.resolve("dc-b");

    static Configuration datacenter(Path primary, Path replica) {
        Configuration conf = CheckpointReplicatorITCase.clusterConfiguration();
        conf.set(DualWriteFileSystemFactory.PRIMARY, "file://" + primary);
        if (replica != null) {
            conf.set(DualWriteFileSystemFactory.REPLICA, "file://" + replica);
        }
        return conf;
    }

    static {
        try {
            FileUtils.deleteDirectory(ROOT.toFile());
            Files.createDirectories(DC_A);
            Files.createDirectories(DC_B);
        } catch (IOException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setConfiguration(datacenter(DC_A, DC_B)).setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @AfterAll
    static void resetFileSystems() {
        FileSystem.initialize(new Configuration(), null);
    }

    /**
     * The files under {@code root}, once the listing holds still: a job that was just cancelled may still be
     * discarding subsumed checkpoints, and a file deleted under a walk fails it.
     */
    private static Set<String> files(Path root, boolean sidecars) throws IOException, InterruptedException {
        Set<String> previous = null;
        for (int attempt = 0; attempt < 100; attempt++) {
            Set<String> now = listing(root, sidecars);
            if (now != null && now.equals(previous)) {
                return now;
            }
            previous = now;
            Thread.sleep(100);
        }
        throw new AssertionError("the files under " + root + " kept changing for 10 s");
    }

    /** One walk, or null when a file vanished under it. */
    private static Set<String> listing(Path root, boolean sidecars) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(Files::isRegularFile).map(p -> root.relativize(p).toString())
                    .filter(p -> sidecars == p.endsWith(DualWriteFileSystem.SIDECAR_SUFFIX))
                    .collect(Collectors.toSet());
        } catch (java.io.UncheckedIOException e) {
            if (e.getCause() instanceof java.nio.file.NoSuchFileException) {
                return null;
            }
            throw e;
        }
    }

    private static int verify(StringWriter out, String... args) {
        CommandLine cli = new CommandLine(new ReplicationCommand());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(out, true));
        return cli.execute(args);
    }

    @Test
    void everyCheckpointFileIsInBothDatacentersAndAJobResumesInBAfterALosingA() throws Exception {
        FileSystem.initialize(datacenter(DC_A, DC_B), null);
        JobClient job = CheckpointReplicatorITCase.startJob("dual:///checkpoints", null);
        Path jobDirA = DC_A.resolve("checkpoints").resolve(job.getJobID().toHexString());
        CheckpointReplicatorITCase.awaitCheckpoints(jobDirA, 4, Duration.ofSeconds(60));
        job.cancel().get();
        CheckpointReplicatorITCase.awaitTerminal(job, Duration.ofSeconds(60));

        // Every file of A is in B, byte for byte, with its recorded SHA-256. B may hold more: files of the
        // checkpoint the cancellation aborted, which no completed checkpoint references (garbage, not state).
        assertThat(files(DC_A, false)).isNotEmpty();
        assertThat(files(DC_B, false)).containsAll(files(DC_A, false));
        for (String file : files(DC_A, false)) {
            assertThat(DC_B.resolve(file)).hasSameBinaryContentAs(DC_A.resolve(file));
            Path sidecar = DC_B.resolve(file).resolveSibling("." + DC_B.resolve(file).getFileName()
                    + DualWriteFileSystem.SIDECAR_SUFFIX);
            assertThat(sidecar).hasContent(CheckpointReplicator.sha256Of(
                    org.apache.flink.core.fs.FileSystem.getLocalFileSystem(),
                    new org.apache.flink.core.fs.Path(DC_A.resolve(file).toUri())));
        }

        // `verify` checks B's dual-written layout: it passes, and fails on a _metadata corrupted in B.
        String[] verify = {"verify", "--logical-root", "dual:///checkpoints",
            "--target", "file://" + DC_B.resolve("checkpoints")};
        StringWriter intact = new StringWriter();
        assertThat(verify(intact, verify)).as("verify on intact B:%n%s", intact).isZero();
        assertThat(intact.toString()).contains("OK ").doesNotContain("FAIL");
        Path metadata;
        try (Stream<Path> walk = Files.walk(DC_B.resolve("checkpoints"))) {
            metadata = walk.filter(p -> p.getFileName().toString().equals(CheckpointFiles.METADATA)).findFirst()
                    .orElseThrow();
        }
        byte[] original = Files.readAllBytes(metadata);
        byte[] corrupt = original.clone();
        corrupt[corrupt.length / 2] ^= 0x5a;
        Files.write(metadata, corrupt);
        StringWriter corrupted = new StringWriter();
        assertThat(verify(corrupted, verify)).as("verify on corrupt B:%n%s", corrupted).isEqualTo(1);
        assertThat(corrupted.toString()).contains("FAIL " + DC_B.resolve("checkpoints").relativize(metadata.getParent()))
                .contains("_metadata");
        Files.write(metadata, original);

        // Datacenter A is lost.
        FileUtils.deleteDirectory(DC_A.toFile());
        CheckpointReplicator inB = new CheckpointReplicator(StorageRoot.of("file://" + DC_B.resolve("checkpoints")),
                StorageRoot.of("file://" + DC_B.resolve("checkpoints")), StorageRoot.of("dual:///checkpoints"),
                Clock.systemUTC());
        CheckpointReplicator.Choice choice = inB.newestVerified();
        assertThat(choice.rejected()).isEmpty();
        ReplicaManifest newest = choice.chosen().orElseThrow().manifest();
        assertThat(newest.files()).anyMatch(e -> e.path().contains("/shared/"));
        String restorePath = inB.restorePath(newest);

        // The warm standby's watcher (`watch`): the incremental choice agrees, pass after pass; a checkpoint it
        // verified once is checked again by its files' presence, so one losing a file is passed over at once.
        for (int pass = 0; pass < 2; pass++) {
            assertThat(inB.newestVerifiedIncrementally().chosen().orElseThrow().checkpointDir())
                    .isEqualTo(newest.checkpointDir());
        }
        ReplicaManifest previous = inB.verifyAll().get(1).manifest();
        Set<String> previousFiles = previous.files().stream().map(ReplicaManifest.Entry::path)
                .collect(Collectors.toSet());
        String onlyNewest = newest.files().stream().map(ReplicaManifest.Entry::path)
                .filter(p -> !previousFiles.contains(p)).filter(p -> !p.endsWith("/" + CheckpointFiles.METADATA))
                .findFirst().orElseThrow(() -> new AssertionError("the newest checkpoint references no file of its own"));
        Path aside = ROOT.resolve("aside");
        Files.move(DC_B.resolve("checkpoints").resolve(onlyNewest), aside);
        CheckpointReplicator.Choice withoutIt = inB.newestVerifiedIncrementally();
        assertThat(withoutIt.rejected()).extracting(CheckpointReplicator.Verification::checkpointDir)
                .containsExactly(newest.checkpointDir());
        assertThat(withoutIt.rejected().get(0).problems()).containsExactly(onlyNewest + ": missing");
        assertThat(withoutIt.chosen().orElseThrow().checkpointDir()).isEqualTo(previous.checkpointDir());
        Files.move(aside, DC_B.resolve("checkpoints").resolve(onlyNewest));
        assertThat(inB.newestVerifiedIncrementally().chosen().orElseThrow().checkpointDir())
                .isEqualTo(newest.checkpointDir());
        assertThat(restorePath).isEqualTo("dual:///checkpoints/" + newest.checkpointDir());

        // B alone now: dual:///checkpoints is B's root; the URIs in the metadata name no datacenter.
        FileSystem.initialize(datacenter(DC_B, null), null);
        JobClient resumed = CheckpointReplicatorITCase.startJob("dual:///checkpoints", restorePath);
        CheckpointReplicatorITCase.awaitCheckpoints(
                DC_B.resolve("checkpoints").resolve(resumed.getJobID().toHexString()), 1, Duration.ofSeconds(60));
        assertThat(resumed.getJobStatus().get()).hasToString("RUNNING");
        resumed.cancel().get();
        assertThat(DC_A).doesNotExist();
    }
}
