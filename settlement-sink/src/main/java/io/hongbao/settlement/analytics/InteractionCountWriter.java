package io.hongbao.settlement.analytics;

import io.hongbao.settlement.SettlementDatabase;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
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
    // The job's only write path to the counts (V12): one call per flush, arrays of the cells; a count only rises
    // (an older, replayed value never lowers one already written).
    static final String UPSERT = "SELECT settlement_write_interaction_counts(?::int4[], ?::text[]::timestamptz[], ?::text[], "
            + "?::text[], ?::int8[])";

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
        int n = latest.size();
        Object[][] cols = new Object[5][n];
        int i = 0;
        for (InteractionCount c : latest.values()) {
            cols[0][i] = c.roundId;
            cols[1][i] = Instant.ofEpochMilli(c.minuteStartMs).toString(); // ISO-8601, UTC
            cols[2][i] = c.channel;
            cols[3][i] = c.region;
            cols[4][i] = c.shakes;
            i++;
        }
        String[] types = {"int4", "text", "text", "text", "int8"};
        try (PreparedStatement ps = connection.prepareStatement(UPSERT)) {
            for (int k = 0; k < cols.length; k++) {
                ps.setArray(k + 1, connection.createArrayOf(types[k], cols[k]));
            }
            ps.execute();
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
