package io.hongbao.settlement.analytics;

import io.hongbao.settlement.SettlementDatabase;
import java.io.IOException;
import java.time.Duration;
import java.util.Objects;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * Upserts {@link InteractionCount}s into {@code interaction_count}, raising a cell's count and never lowering
 * it. Exactly-once in effect without transactions: the values are absolute and only grow, so a replay after a
 * restore rewrites values already there (no-ops) and then continues to the same final totals. Not tied to
 * checkpoints, so the current minute shows within the flush interval.
 *
 * <pre>{@code
 * counts.sinkTo(new InteractionCountSink(db, Duration.ofSeconds(1))).uid("interaction-count-sink");
 * }</pre>
 */
public final class InteractionCountSink implements Sink<InteractionCount> {
    private static final long serialVersionUID = 1L;

    private final SettlementDatabase database;
    private final Duration flushInterval;

    /** @param flushInterval how often the latest counts are written (also on every checkpoint and at the end) */
    public InteractionCountSink(SettlementDatabase database, Duration flushInterval) {
        this.database = Objects.requireNonNull(database, "database");
        if (flushInterval.isNegative() || flushInterval.isZero()) {
            throw new IllegalArgumentException("flush interval must be positive: " + flushInterval);
        }
        this.flushInterval = flushInterval;
    }

    @Override
    public SinkWriter<InteractionCount> createWriter(WriterInitContext context) throws IOException {
        SettlementDatabase.releaseWith(context.getUserCodeClassLoader()::registerReleaseHookIfAbsent);
        return new InteractionCountWriter(database, flushInterval, context.getProcessingTimeService(),
                "hongbao-interaction-counts-" + context.getTaskInfo().getIndexOfThisSubtask());
    }
}
