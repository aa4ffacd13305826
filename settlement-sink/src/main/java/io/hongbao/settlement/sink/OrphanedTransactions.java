package io.hongbao.settlement.sink;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rolls back the prepared transactions nobody will commit: those prepared by an attempt that failed before
 * the checkpoint they belonged to completed.
 *
 * <p><b>The rule.</b> A job restored from checkpoint {@code C} (or started fresh: {@code C = 0}) will commit
 * exactly the committables in its committer state, i.e. transactions prepared for checkpoints {@code <= C}.
 * Such a transaction was prepared before the writer took checkpoint {@code C}, so its
 * {@link TransactionId#afterCheckpointId()} is {@code < C}. A transaction for a checkpoint {@code > C} was
 * prepared after its writer had taken (or restored) {@code C}, so its {@code afterCheckpointId} is
 * {@code >= C}: that one is an orphan. Cleanup never touches a transaction the restored checkpoint covers, so
 * it cannot race the committers, which only commit those.
 *
 * <p><b>Who cleans what.</b> Writer subtask {@code i} of {@code p} handles the gids whose subtask {@code s}
 * has {@code s mod p == i}: every old subtask index (also those that no longer exist after scaling down) has
 * exactly one owner, and no two subtasks touch the same transaction. A writer cleans before it prepares
 * anything itself; the transactions of its own index are its own previous attempts'.
 */
public final class OrphanedTransactions {
    private static final Logger LOG = LoggerFactory.getLogger(OrphanedTransactions.class);

    private OrphanedTransactions() {}

    /**
     * Rolls back the orphans subtask {@code subtask} of {@code parallelism} owns; returns their gids.
     * {@code connection} must be in auto-commit mode.
     */
    public static List<String> rollBack(Connection connection, String sinkName, int subtask, int parallelism,
            long restoredCheckpointId) throws SQLException {
        List<String> orphans = new ArrayList<>();
        for (String gid : preparedGids(connection, sinkName)) {
            TransactionId id = TransactionId.parse(gid).orElse(null);
            if (id == null || !id.sinkName().equals(sinkName)) {
                continue;
            }
            if (id.subtask() % parallelism == subtask && id.afterCheckpointId() >= restoredCheckpointId) {
                orphans.add(gid);
            }
        }
        try (Statement st = connection.createStatement()) {
            for (String gid : orphans) {
                LOG.warn("Rolling back orphaned prepared transaction {} (restored checkpoint {}): its checkpoint never "
                        + "completed, the job replays its records", gid, restoredCheckpointId);
                try {
                    st.execute("ROLLBACK PREPARED " + TransactionId.literal(gid));
                } catch (SQLException e) {
                    if (!"42704".equals(e.getSQLState())) { // undefined_object: already gone
                        throw e;
                    }
                }
            }
        }
        return orphans;
    }

    /** Gids of this sink's prepared transactions in the connection's database. */
    static List<String> preparedGids(Connection connection, String sinkName) throws SQLException {
        List<String> gids = new ArrayList<>();
        try (PreparedStatement ps = connection.prepareStatement(
                "SELECT gid FROM pg_prepared_xacts WHERE database = current_database() AND starts_with(gid, ?) "
                        + "ORDER BY gid")) {
            ps.setString(1, TransactionId.prefix(sinkName));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    gids.add(rs.getString(1));
                }
            }
        }
        return gids;
    }
}
