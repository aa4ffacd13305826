package io.hongbao.jobs;

import java.time.Duration;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The execution settings every hongbao job runs with: RocksDB (bloom filters on) with incremental checkpoints,
 * exactly-once checkpointing at a configurable interval into a configurable directory, checkpoints retained on cancel,
 * an exponential-delay restart strategy, and no Kryo (generic types off). On a cluster, config.yaml may set the
 * same keys; what a job is given on its command line wins.
 */
public final class JobEnvironment {
    private JobEnvironment() {}

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
