package io.hongbao.bench;

import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.checkpoint.CheckpointStatsSnapshot;
import org.apache.flink.runtime.checkpoint.CompletedCheckpointStats;
import org.apache.flink.runtime.jobmaster.JobResult;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Runs one bounded job to its end on a fresh MiniCluster inside this JVM (one TaskManager with a slot per
 * parallel subtask) and reads its checkpoint statistics from the finished job: the MiniCluster is ours, so
 * the archived execution graph is there after the job ends, which a local environment's would not be.
 */
public final class FlinkRun {
    static final int MANAGED_MB_PER_SLOT = 512;

    private FlinkRun() {}

    /** What the checkpoints of a run cost. Sizes in bytes, durations in ms; -1 where none completed. */
    public record Checkpoints(long completed, long failed, long avgDurationMs, long maxDurationMs,
            long avgCheckpointedBytes, long lastFullStateBytes,
            /** Full state size by checkpoint id, of the completed checkpoints the job's history keeps. */
            java.util.Map<Long, Long> fullStateBytesById,
            /** The longest synchronous part of a subtask's snapshot (Flink's sync duration), ms. */
            long maxSyncMs) {}

    /** The job, given an environment with the run's configuration and parallelism. */
    @FunctionalInterface
    public interface Topology {
        void build(StreamExecutionEnvironment env) throws Exception;
    }

    public static Checkpoints run(String name, Configuration conf, int parallelism, Topology topology)
            throws Exception {
        Configuration cluster = new Configuration(conf);
        // Managed memory (RocksDB's block cache and memtables) per slot as a small production TaskManager has
        // it. With 128 MB a slot, the 10^7-device dedupe state (~300 MB) made every lookup a cache miss and the
        // run took 20 minutes; the rates would then measure this box's RAM budget, not the job.
        cluster.setString("taskmanager.memory.managed.size", (MANAGED_MB_PER_SLOT * parallelism) + " mb");
        cluster.setString("rest.bind-port", "0");
        MiniClusterConfiguration config = new MiniClusterConfiguration.Builder()
                .setConfiguration(cluster)
                .setNumTaskManagers(1)
                .setNumSlotsPerTaskManager(parallelism)
                .build();
        try (MiniCluster mini = new MiniCluster(config)) {
            mini.start();
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
            env.setParallelism(parallelism);
            topology.build(env);
            var graph = env.getStreamGraph();
            graph.setJobName(name);
            JobID id = mini.submitJob(graph).get().getJobID();
            JobResult result = mini.requestJobResult(id).get();
            if (!result.isSuccess()) {
                throw new IllegalStateException("benchmark job " + name + " failed",
                        result.getSerializedThrowable().map(t -> t.deserializeError(FlinkRun.class.getClassLoader()))
                                .orElse(null));
            }
            CheckpointStatsSnapshot stats = mini.getArchivedExecutionGraph(id).get().getCheckpointStatsSnapshot();
            return checkpoints(stats);
        }
    }

    private static java.util.Map<Long, Long> fullSizes(CheckpointStatsSnapshot stats) {
        java.util.Map<Long, Long> sizes = new java.util.TreeMap<>();
        for (var c : stats.getHistory().getCheckpoints()) {
            if (c instanceof CompletedCheckpointStats done) {
                sizes.put(done.getCheckpointId(), done.getStateSize());
            }
        }
        return sizes;
    }

    private static long maxSyncMs(CheckpointStatsSnapshot stats) {
        long max = -1;
        for (var c : stats.getHistory().getCheckpoints()) {
            for (var task : c.getAllTaskStateStats()) {
                for (var subtask : task.getSubtaskStats()) {
                    if (subtask != null) {
                        max = Math.max(max, subtask.getSyncCheckpointDuration());
                    }
                }
            }
        }
        return max;
    }

    static Checkpoints checkpoints(CheckpointStatsSnapshot stats) {
        if (stats == null) {
            return new Checkpoints(0, 0, -1, -1, -1, -1, java.util.Map.of(), -1);
        }
        var counts = stats.getCounts();
        var summary = stats.getSummaryStats();
        CompletedCheckpointStats last = stats.getHistory().getLatestCompletedCheckpoint();
        boolean any = counts.getNumberOfCompletedCheckpoints() > 0;
        return new Checkpoints(counts.getNumberOfCompletedCheckpoints(), counts.getNumberOfFailedCheckpoints(),
                any ? summary.getEndToEndDurationStats().getAverage() : -1,
                any ? summary.getEndToEndDurationStats().getMaximum() : -1,
                any ? summary.getCheckpointedSize().getAverage() : -1,
                last != null ? last.getStateSize() : -1, fullSizes(stats), maxSyncMs(stats));
    }
}
