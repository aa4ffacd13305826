package io.hongbao.jobs;

import java.time.Duration;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The execution settings every hongbao job runs with: RocksDB (bloom filters on) with incremental checkpoints,
 * exactly-once checkpointing at a configurable interval into a configurable directory, checkpoints retained on cancel,
 * an exponential-delay restart strategy, no Kryo (generic types off) and a pinned max parallelism. On a cluster, config.yaml may set the
 * same keys; what a job is given on its command line wins.
 */
public final class JobEnvironment {
    private JobEnvironment() {}

    /**
     * {@code pipeline.max-parallelism}: the key groups every keyed operator's state is split into, fixed at the job's
     * first start and kept in every checkpoint and savepoint, so also the highest parallelism the job can ever be
     * rescaled to. Left unset, Flink derives 128 for any parallelism up to 85. 4096 is 16x the ~245 cores the
     * gala's peak needs (BENCHMARKS.md), and no more than the {@link io.hongbao.jobs.payout.PayoutSettings#IDENTITY_SHARDS
     * 16384 identity shards}, so every key group of the identity operator still holds shards (~4 each). More key
     * groups cost per key group: RocksDB's key prefix is 2 bytes above 256 either way, but a savepoint keeps 8
     * bytes of offsets per key group and keyed operator, and each subtask's RocksDB timer queue keeps a cache per
     * key group it owns. CHANGING IT breaks restoring every earlier checkpoint and savepoint (keyed state is
     * addressed by key group): a job started without it (128) cannot resume from them at this value.
     */
    public static final int MAX_PARALLELISM = 4096;

    public static Configuration configuration(String checkpointDir, Duration checkpointInterval) {
        Configuration conf = new Configuration();
        conf.setString("state.backend.type", "rocksdb");
        conf.setString("execution.checkpointing.incremental", "true");
        // Nearly every shake is new, so the dedupe lookup nearly always misses: without a bloom filter each miss
        // searches every level's SST index. ~1 byte more state per event id, 1.4x the payout rate
        // (BENCHMARKS.md, step 4).
        conf.setString("state.backend.rocksdb.use-bloom-filter", "true");
        conf.setString("execution.checkpointing.mode", "EXACTLY_ONCE");
        conf.setString("execution.checkpointing.interval", checkpointInterval.toMillis() + " ms");
        conf.setString("execution.checkpointing.min-pause", Math.max(100, checkpointInterval.toMillis() / 4) + " ms");
        conf.setString("execution.checkpointing.timeout", "10 min");
        conf.setString("execution.checkpointing.num-retained", "3");
        conf.setString("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION");
        if (checkpointDir != null) {
            conf.setString("execution.checkpointing.dir", checkpointDir);
        }
        // Every type the job moves or keeps has a serializer of its own (POJOs, ShakeRecord's, the money model's):
        // a type that would fall back to Kryo fails the job as it is built instead of costing silently.
        conf.setString("pipeline.generic-types", "false");
        conf.setString("pipeline.max-parallelism", Integer.toString(MAX_PARALLELISM));
        conf.setString("restart-strategy.type", "exponential-delay");
        conf.setString("restart-strategy.exponential-delay.initial-backoff", "1 s");
        conf.setString("restart-strategy.exponential-delay.max-backoff", "30 s");
        conf.setString("restart-strategy.exponential-delay.attempts-before-reset-backoff", "20");
        return conf;
    }

    /** @param restorePath a savepoint or retained checkpoint to resume from, or null for a fresh start */
    public static StreamExecutionEnvironment create(String checkpointDir, Duration checkpointInterval,
            String restorePath) {
        Configuration conf = configuration(checkpointDir, checkpointInterval);
        if (restorePath != null) {
            conf.setString("execution.state-recovery.path", restorePath);
        }
        return StreamExecutionEnvironment.getExecutionEnvironment(conf);
    }
}
