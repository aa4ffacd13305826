package io.hongbao.settlement.sink;

import io.hongbao.money.SettlementRow;
import io.hongbao.settlement.SettlementDatabase;
import java.io.IOException;
import java.io.Serializable;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import org.apache.flink.api.common.TaskInfo;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.api.connector.sink2.CommitterInitContext;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SupportsCommitter;
import org.apache.flink.api.connector.sink2.SupportsWriterState;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.metrics.Gauge;

/**
 * Writes {@link SettlementRow}s to the PostgreSQL settlement tables exactly once, with PostgreSQL prepared
 * transactions (two-phase commit): each writer subtask prepares one transaction per checkpoint
 * ({@link SettlementWriter}), the committer commits it when the checkpoint completes
 * ({@link SettlementCommitter}), and a restore rolls back what no completed checkpoint covers
 * ({@link OrphanedTransactions}).
 *
 * <pre>{@code
 * SettlementSink sink = SettlementSink.builder()
 *         .database(SettlementDatabase.of("jdbc:postgresql://127.0.0.1:5432/hongbao", "hongbao", password))
 *         .sinkName("payouts")
 *         .build();
 * records.sinkTo(sink).name("settlement").uid("settlement-sink");
 * }</pre>
 *
 * <p>Needs checkpointing (rows become visible only when a checkpoint completes), the schema applied
 * ({@link io.hongbao.settlement.SettlementSchema#migrate}) and {@code max_prepared_transactions > 0} on the
 * server. The sink name must stay the same across restarts of a job and differ between jobs sharing a database.
 */
public final class SettlementSink implements Sink<SettlementRow>, SupportsCommitter<SettlementCommittable>,
        SupportsWriterState<SettlementRow, WaitingRows> {
    private static final long serialVersionUID = 1L;

    private final Options options;

    private SettlementSink(Options options) {
        this.options = options;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Options options() {
        return options;
    }

    @Override
    public SettlementWriter createWriter(WriterInitContext context) throws IOException {
        return restoreWriter(context, List.of());
    }

    /** The restored state: rows of added rounds that waited for their round (none before V14's writer). */
    @Override
    public SettlementWriter restoreWriter(WriterInitContext context, Collection<WaitingRows> recoveredState)
            throws IOException {
        TaskInfo task = context.getTaskInfo();
        SettlementDatabase.releaseWith(context.getUserCodeClassLoader()::registerReleaseHookIfAbsent);
        return new SettlementWriter(options, task.getIndexOfThisSubtask(), task.getNumberOfParallelSubtasks(),
                context.getRestoredCheckpointId().orElse(0L), context.metricGroup(), recoveredState);
    }

    @Override
    public SimpleVersionedSerializer<WaitingRows> getWriterStateSerializer() {
        return WaitingRows.Serializer.INSTANCE;
    }

    @Override
    public Committer<SettlementCommittable> createCommitter(CommitterInitContext context) {
        SettlementCommitter committer = new SettlementCommitter(options.database(), options.sinkName());
        context.metricGroup().addGroup("hongbao").gauge("commitLatencyMs", (Gauge<Long>) committer::lastCommitLatencyMs);
        return committer;
    }

    @Override
    public SimpleVersionedSerializer<SettlementCommittable> getCommittableSerializer() {
        return new SettlementCommittableSerializer();
    }

    /** The sink's settings. */
    public record Options(SettlementDatabase database, String sinkName, int batchSize, Duration lockTimeout)
            implements Serializable {
        public Options {
            Objects.requireNonNull(database, "database");
            TransactionId.requireSinkName(sinkName);
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch size must be positive: " + batchSize);
            }
            if (lockTimeout.isNegative() || lockTimeout.isZero()) {
                throw new IllegalArgumentException("lock timeout must be positive: " + lockTimeout);
            }
        }
    }

    /** Builds a {@link SettlementSink}; only the database is required. */
    public static final class Builder {
        private SettlementDatabase database;
        private String sinkName = "settlement";
        private int batchSize = 1000;
        private Duration lockTimeout = Duration.ofSeconds(5);

        private Builder() {}

        public Builder database(SettlementDatabase database) {
            this.database = database;
            return this;
        }

        /** Part of every gid: stable across restarts of one job, distinct per job (default "settlement"). */
        public Builder sinkName(String sinkName) {
            this.sinkName = sinkName;
            return this;
        }

        /** Rows per JDBC batch (default 1000). */
        public Builder batchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        /**
         * How long a batch may wait for a key locked by an unfinished transaction (default 5 s). Writes only
         * insert fresh keys, so a wait means a copy of a row that is not committed yet: the batch is then decided
         * row by row at the checkpoint, waiting once more as long, and a key still locked is quarantined. Other
         * lock waits (a table lock) fail the writer after this time.
         */
        public Builder lockTimeout(Duration lockTimeout) {
            this.lockTimeout = lockTimeout;
            return this;
        }

        public SettlementSink build() {
            return new SettlementSink(new Options(database, sinkName, batchSize, lockTimeout));
        }
    }
}
