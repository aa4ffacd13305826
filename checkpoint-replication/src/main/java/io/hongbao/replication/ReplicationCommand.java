package io.hongbao.replication;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The replicator's command line: {@code replicate} (continuously, or {@code --once}), {@code newest} (the restore
 * path of the newest verified replica) and {@code verify}. Runs on the Flink cluster's classpath:
 * {@code java -cp 'hongbao-checkpoint-replication.jar:<flink lib>/*' io.hongbao.replication.ReplicationCommand}.
 */
@Command(name = "checkpoint-replication", mixinStandardHelpOptions = true,
        subcommands = {ReplicationCommand.Replicate.class, ReplicationCommand.Newest.class,
            ReplicationCommand.Watch.class, ReplicationCommand.Verify.class, ReplicationCommand.Offsets.class},
        description = "Replicates completed Flink checkpoints and savepoints from datacenter A to B, verified.")
public final class ReplicationCommand {

    /** Where the storage roots are, as every subcommand needs them. */
    static final class Roots {
        @Option(names = "--logical-root", required = true,
                description = "The checkpoint directory the jobs are given (identical in both datacenters).")
        String logical;

        @Option(names = "--source", description = "A's physical storage root (default: the logical root).")
        String source;

        @Option(names = "--target", required = true, description = "B's physical storage root.")
        String target;

        @Option(names = "--source-config", description = "Flink configuration directory for A's file system "
                + "(e.g. A's s3.endpoint); default: the JVM-wide file systems.")
        java.nio.file.Path sourceConfig;

        @Option(names = "--target-config", description = "Flink configuration directory for B's file system.")
        java.nio.file.Path targetConfig;

        CheckpointReplicator replicator() throws IOException {
            // The source is only opened when replicating; verifying and choosing read the target alone.
            StorageRoot sourceRoot = source == null ? StorageRoot.named(logical) : root(source, sourceConfig);
            StorageRoot targetRoot = root(target, targetConfig);
            return new CheckpointReplicator(sourceRoot, targetRoot, StorageRoot.named(logical), Clock.systemUTC());
        }

        private static StorageRoot root(String uri, java.nio.file.Path configDir) throws IOException {
            if (configDir == null) {
                return StorageRoot.of(uri);
            }
            if (!Files.isDirectory(configDir)) {
                throw new IOException("not a Flink configuration directory: " + configDir);
            }
            Configuration config = GlobalConfiguration.loadConfiguration(configDir.toString());
            return StorageRoot.of(uri, config);
        }
    }

    @Command(name = "replicate", description = "Copy completed checkpoints A→B, verify, write manifests; "
            + "keep the newest --retain replicas in B.")
    static final class Replicate implements Callable<Integer> {
        @Mixin Roots roots;

        @Option(names = "--once", description = "One pass, then exit.")
        boolean once;

        @Option(names = "--interval", defaultValue = "PT1S", description = "Pause between passes (${DEFAULT-VALUE}).")
        Duration interval;

        @Option(names = "--retain", defaultValue = "5",
                description = "Replicas kept in B; older ones and files no kept one needs are deleted (${DEFAULT-VALUE}).")
        int retain;

        @Override
        public Integer call() throws Exception {
            CheckpointReplicator replicator = roots.replicator();
            System.out.printf("replicating %s -> %s (logical root %s), every %s, retaining %d%n",
                    roots.source == null ? roots.logical : roots.source, roots.target, roots.logical, interval, retain);
            do {
                try {
                    for (CheckpointReplicator.Outcome outcome : replicator.replicateAll()) {
                        report(outcome);
                    }
                    CheckpointReplicator.Cleanup cleanup = replicator.cleanup(retain);
                    if (!cleanup.replicasRemoved().isEmpty() || cleanup.filesDeleted() > 0) {
                        System.out.printf("%s cleanup: removed replicas %s, %d files no retained replica needs%n",
                                Instant.now(), cleanup.replicasRemoved(), cleanup.filesDeleted());
                    }
                } catch (IOException e) {
                    // A pass that fails (storage hiccup, A going away) is retried; the manifests stay truthful.
                    System.out.printf("%s pass failed, retrying: %s%n", Instant.now(), e);
                }
                System.out.flush();
                if (!once) {
                    Thread.sleep(interval.toMillis());
                }
            } while (!once);
            return 0;
        }

        private static void report(CheckpointReplicator.Outcome outcome) {
            if (outcome.status() == CheckpointReplicator.Status.REPLICATED) {
                ReplicaManifest m = outcome.manifest();
                System.out.printf("%s replicated %s (checkpoint %d): %d files, %d copied (%d bytes), lag %d ms%n",
                        Instant.ofEpochMilli(m.replicatedAt()), m.checkpointDir(), m.checkpointId(), m.files().size(),
                        outcome.filesCopied(), outcome.bytesCopied(), m.replicatedAt() - m.metadataModified());
            } else if (outcome.status() == CheckpointReplicator.Status.SKIPPED) {
                System.out.printf("%s skipped %s: %s%n", Instant.now(), outcome.checkpointDir(), outcome.detail());
            }
        }
    }

    @Command(name = "newest", description = "Print the restore path of the newest replica in B that verifies "
            + "(every file present, sizes and SHA-256 as in its manifest); exit 1 if none does.")
    static final class Newest implements Callable<Integer> {
        @Mixin Roots roots;

        @Override
        public Integer call() throws Exception {
            CheckpointReplicator replicator = roots.replicator();
            CheckpointReplicator.Choice choice = replicator.newestVerified();
            for (CheckpointReplicator.Verification rejected : choice.rejected()) {
                System.err.printf("passed over %s: %s%n", rejected.checkpointDir(), rejected.problems());
            }
            if (choice.chosen().isEmpty()) {
                System.err.println("no replica in " + roots.target + " verifies");
                return 1;
            }
            ReplicaManifest m = choice.chosen().get().manifest();
            System.err.printf("chose %s (checkpoint %d, %d files, %d bytes, completed in A at %s)%n",
                    m.checkpointDir(), m.checkpointId(), m.files().size(), m.totalBytes(),
                    Instant.ofEpochMilli(m.metadataModified()));
            System.out.println(replicator.restorePath(m));
            return 0;
        }
    }

    @Command(name = "watch", description = "In B, continuously: after every pass (the newest checkpoint that "
            + "verifies, each one hashed once when it appears, then re-checked by its files' presence and sizes) "
            + "replace --state-file with pass_started_ms, pass_ended_ms, restore, checkpoint; the failover reads the "
            + "restore path of the first pass that started after the loss.")
    static final class Watch implements Callable<Integer> {
        @Mixin Roots roots;

        @Option(names = "--state-file", required = true, description = "Where each pass's result goes (atomically).")
        java.nio.file.Path stateFile;

        @Option(names = "--interval", defaultValue = "PT0.2S", description = "Pause between passes (${DEFAULT-VALUE}).")
        Duration interval;

        @Override
        public Integer call() throws Exception {
            CheckpointReplicator replicator = roots.replicator();
            java.nio.file.Path temporary = stateFile.resolveSibling("." + stateFile.getFileName() + ".tmp");
            System.out.printf("%s watching %s (logical root %s) every %s, state in %s%n", Instant.now(), roots.target,
                    roots.logical, interval, stateFile);
            String previous = null;
            while (true) {
                long started = System.currentTimeMillis();
                String restore = "";
                String checkpoint = "";
                try {
                    CheckpointReplicator.Choice choice = replicator.newestVerifiedIncrementally();
                    if (choice.chosen().isPresent()) {
                        ReplicaManifest m = choice.chosen().get().manifest();
                        restore = replicator.restorePath(m);
                        checkpoint = Long.toString(m.checkpointId());
                    }
                    if (!restore.equals(previous)) {
                        System.out.printf("%s newest verified: %s%s%n", Instant.now(),
                                restore.isEmpty() ? "none" : restore, choice.rejected().isEmpty() ? ""
                                        : " (passed over " + choice.rejected().stream()
                                                .map(v -> v.checkpointDir() + ": " + v.problems()).toList() + ")");
                        previous = restore;
                    }
                } catch (IOException | RuntimeException e) {
                    // B's storage unreadable for a moment: the state file says so (no restore path), then retries.
                    System.out.printf("%s pass failed: %s%n", Instant.now(), e);
                    previous = null;
                }
                Files.writeString(temporary, "pass_started_ms=" + started + "\npass_ended_ms="
                        + System.currentTimeMillis() + "\nrestore=" + restore + "\ncheckpoint=" + checkpoint + "\n");
                Files.move(temporary, stateFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                System.out.flush();
                Thread.sleep(interval.toMillis());
            }
        }
    }

    @Command(name = "verify", description = "Verify every checkpoint and savepoint in B, dual-written (every file "
            + "the _metadata references present, each equal to its SHA-256 sidecar, _metadata too) or replicated "
            + "(its manifest); exit 1 if any fails or there is none.")
    static final class Verify implements Callable<Integer> {
        @Mixin Roots roots;

        @Spec CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            List<CheckpointReplicator.Verification> verdicts = roots.replicator().verifyAll();
            int failed = 0;
            for (CheckpointReplicator.Verification v : verdicts) {
                ReplicaManifest m = v.manifest();
                out.printf("%-4s %s (checkpoint %d, %d files)%s%n", v.ok() ? "OK" : "FAIL", v.checkpointDir(),
                        m == null ? -1 : m.checkpointId(), m == null ? 0 : m.files().size(),
                        v.ok() ? "" : ": " + v.problems());
                failed += v.ok() ? 0 : 1;
            }
            if (verdicts.isEmpty()) {
                out.println("FAIL no checkpoint or savepoint in " + roots.target);
            }
            out.flush();
            return failed == 0 && !verdicts.isEmpty() ? 0 : 1;
        }
    }

    @Command(name = "kafka-offsets", description = "Print 'partition offset' for each split of a Kafka topic in a "
            + "checkpoint (where a job restored from it resumes reading), then 'total N'.")
    static final class Offsets implements Callable<Integer> {
        @Option(names = "--checkpoint", required = true, description = "Physical checkpoint directory (chk-N).")
        String checkpoint;

        @Option(names = "--topic", required = true)
        String topic;

        @Override
        public Integer call() throws Exception {
            StorageRoot dir = StorageRoot.of(checkpoint);
            java.util.Map<Integer, Long> offsets = SourceOffsets.of(dir.fs(), dir.path(), topic);
            offsets.forEach((partition, offset) -> System.out.println(partition + " " + offset));
            if (offsets.values().stream().anyMatch(o -> o < 0)) {
                System.err.println("some splits start at a sentinel (latest or committed), not an offset: no total");
                return 1;
            }
            System.out.println("total " + offsets.values().stream().mapToLong(Long::longValue).sum());
            return offsets.isEmpty() ? 1 : 0;
        }
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new ReplicationCommand()).execute(args));
    }
}
