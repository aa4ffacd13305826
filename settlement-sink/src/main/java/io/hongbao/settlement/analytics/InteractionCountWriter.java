package io.hongbao.settlement.analytics;

import io.hongbao.settlement.SettlementDatabase;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.api.common.operators.ProcessingTimeService;
import org.apache.flink.api.connector.sink2.SinkWriter;

/**
 * Keeps the latest count per cell and upserts them in one batch every flush interval, on every checkpoint
 * ({@link #flush}) and at the end of input. Between flushes a busy cell costs one map put per shake, not one
 * row write.
 */
final class InteractionCountWriter implements SinkWriter<InteractionCount> {
    // GREATEST: an older (replayed) value never lowers a count already written.
    static final String UPSERT = "INSERT INTO interaction_count AS c (round_id, minute_start, channel, region, "
            + "shakes, updated_at) VALUES (?, ?, ?, ?, ?, now()) "
            + "ON CONFLICT (round_id, minute_start, channel, region) DO UPDATE "
            + "SET shakes = EXCLUDED.shakes, updated_at = now() WHERE c.shakes < EXCLUDED.shakes";

    private final SettlementDatabase database;
    private final long flushIntervalMs;
    private final ProcessingTimeService time;
    private final String applicationName;
    private final Map<String, InteractionCount> latest = new LinkedHashMap<>();
    private Connection connection;
    private volatile boolean closed;

    InteractionCountWriter(SettlementDatabase database, Duration flushInterval, ProcessingTimeService time,
            String applicationName) {
        this.database = database;
        this.flushIntervalMs = flushInterval.toMillis();
        this.time = time;
        this.applicationName = applicationName;
        scheduleFlush();
    }

    @Override
    public void write(InteractionCount count, Context context) {
        latest.merge(count.cell(), count, (old, now) -> now.shakes >= old.shakes ? now : old);
    }

    @Override
    public void flush(boolean endOfInput) throws IOException {
        if (latest.isEmpty()) {
            return;
        }
        try {
            upsert();
        } catch (SQLException first) {
            // One reconnect for a dropped connection; a second failure fails the task, and the restore replays.
            closeConnection();
            try {
                upsert();
            } catch (SQLException e) {
                e.addSuppressed(first);
                throw new IOException("writing " + latest.size() + " interaction counts to "
                        + database.redactedUrl() + " failed: " + e.getMessage(), e);
            }
        }
        latest.clear();
    }

    private void upsert() throws SQLException {
        if (connection == null) {
            connection = database.connect(applicationName);
        }
        try (PreparedStatement ps = connection.prepareStatement(UPSERT)) {
            for (InteractionCount c : latest.values()) {
                ps.setInt(1, c.roundId);
                ps.setObject(2, OffsetDateTime.ofInstant(Instant.ofEpochMilli(c.minuteStartMs), ZoneOffset.UTC));
                ps.setString(3, c.channel);
                ps.setString(4, c.region);
                ps.setLong(5, c.shakes);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    private void scheduleFlush() {
        time.registerTimer(time.getCurrentProcessingTime() + flushIntervalMs, now -> {
            if (!closed) {
                flush(false);
                scheduleFlush();
            }
        });
    }

    private void closeConnection() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // broken already; a new one is opened on the next flush
            }
            connection = null;
        }
    }

    @Override
    public void close() {
        closed = true;
        closeConnection();
    }
}
