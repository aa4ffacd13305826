package io.hongbao.settlement.sink;

import io.hongbao.money.RejectCount;
import io.hongbao.money.Round;
import io.hongbao.settlement.SettlementDatabase;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a checkpoint's settlement rows visible: {@code COMMIT PREPARED '<gid>'}, then the committable's round
 * configs and reject counts as guarded upserts. Idempotent, because on recovery Flink hands every committable
 * of the restored checkpoint over again:
 *
 * <ul>
 *   <li>gid in {@code pg_prepared_xacts}: commit it;</li>
 *   <li>gid gone, its marker row in {@code settlement_commit}: it committed before; signal already committed;</li>
 *   <li>gid gone, no marker: the transaction is lost. Logged as an error, recorded in
 *       {@code settlement_lost_transaction} (reconciliation fails on it) and signalled as failed with a
 *       known reason ({@link LostTransactionException}).</li>
 * </ul>
 *
 * The upserts run after the commit in every case, and only ever move a row forward (a higher config version, a
 * larger count), so applying them again or out of order between subtasks changes nothing.
 *
 * <p>A connection-class error asks Flink to retry the request ({@code retryLater}); when Flink's retries
 * ({@code sink.committer.retries}) run out the job fails over and the commit is retried on recovery. A money
 * rule the database refuses (a budget moved without its ledger line, or beyond the campaign's total; a window moved
 * without its RESCHEDULED line, or retroactively) stops the
 * job without restarts ({@link SuppressRestartsException}): a replay would be refused the same way.
 */
public final class SettlementCommitter implements Committer<SettlementCommittable> {
    private static final Logger LOG = LoggerFactory.getLogger(SettlementCommitter.class);

    // The job's only write path (V12/V14 functions). Only what a live change moves (budget, pause, version, window)
    // is applied, to a registered or added round, every version in order; the database refuses a budget without its
    // ledger line or beyond the campaign, a window without its RESCHEDULED line or moved retroactively. Tiers and the
    // rest of a round are reference data (RoundCatalog; an added round's come with it, in the writer's transaction).
    private static final String APPLY_ROUND = "SELECT settlement_apply_round_config(?, ?, ?, ?, ?, ?)";
    private static final String APPLY_REJECTS = "SELECT settlement_apply_reject_count(?, ?)";
    private static final String RECORD_LOST = "SELECT settlement_record_lost_transaction(?, ?, ?, ?)";

    /** Retries (with the backoff below, about 3 s in all) before a budget without its ledger line stops the job. */
    static final int LEDGER_LINE_RETRIES = 5;

    private final SettlementDatabase database;
    private final String sinkName;
    private Connection connection;
    /** How long the latest {@link #commit} call took, for the {@code hongbao.commitLatencyMs} gauge. */
    private volatile long lastCommitLatencyMs;

    public SettlementCommitter(SettlementDatabase database, String sinkName) {
        this.database = database;
        this.sinkName = TransactionId.requireSinkName(sinkName);
    }

    @Override
    public void commit(Collection<CommitRequest<SettlementCommittable>> requests) throws IOException, InterruptedException {
        long started = System.nanoTime();
        commitAll(requests);
        lastCommitLatencyMs = (System.nanoTime() - started) / 1_000_000;
    }

    /** Milliseconds the latest commit of a checkpoint's transactions took (retries included). */
    public long lastCommitLatencyMs() {
        return lastCommitLatencyMs;
    }

    private void commitAll(Collection<CommitRequest<SettlementCommittable>> requests) throws InterruptedException {
        for (CommitRequest<SettlementCommittable> request : requests) {
            SettlementCommittable c = request.getCommittable();
            try {
                if (request.getNumberOfRetries() > 0) {
                    Thread.sleep(Math.min(2_000L, 100L << Math.min(request.getNumberOfRetries(), 5)));
                }
                commit(request, c);
            } catch (SQLException e) {
                closeConnection();
                if (MoneyRuleViolationException.mayAwaitLedgerLine(e)
                        && request.getNumberOfRetries() < LEDGER_LINE_RETRIES) {
                    // The raise's (or the move's) ledger line may sit in another subtask's transaction of the same
                    // checkpoint, whose committer has not committed it yet: give it a moment before calling it a
                    // violation.
                    LOG.warn("Committing {}: {}; retrying", c, e.getMessage());
                    request.retryLater();
                    continue;
                }
                if (MoneyRuleViolationException.isMoneyRule(e)) {
                    // The job moved a budget the database does not allow: a retry or a restart replays the same.
                    String message = "committing " + c + " refused by a money rule (" + e.getSQLState() + "): "
                            + e.getMessage();
                    LOG.error("{}. The job stops without restarts.", message);
                    throw new SuppressRestartsException(new MoneyRuleViolationException(message, e));
                }
                if (isTransient(e)) {
                    LOG.warn("Committing {} failed ({}), retrying: {}", c, e.getSQLState(), e.getMessage());
                    request.retryLater();
                } else {
                    request.signalFailedWithUnknownReason(
                            new IOException("committing " + c + " failed (" + e.getSQLState() + "): " + e.getMessage(), e));
                }
            }
        }
    }

    private void commit(CommitRequest<SettlementCommittable> request, SettlementCommittable c) throws SQLException {
        Connection conn = connection();
        boolean alreadyCommitted = false;
        LostTransactionException lost = null;
        if (c.gid() != null) {
            if (isPrepared(conn, c.gid())) {
                try (Statement st = conn.createStatement()) {
                    st.execute("COMMIT PREPARED " + TransactionId.literal(c.gid()));
                    LOG.debug("Committed {}", c);
                } catch (SQLException e) {
                    // Someone else committed it between our look and our commit (undefined_object).
                    if (!"42704".equals(e.getSQLState()) || !markerCommitted(conn, c.gid())) {
                        throw e;
                    }
                    alreadyCommitted = true;
                }
            } else if (markerCommitted(conn, c.gid())) {
                alreadyCommitted = true;
            } else {
                lost = new LostTransactionException(c);
            }
        }
        if (lost != null) {
            recordLost(conn, c);
        }
        applyUpserts(conn, c);
        if (lost != null) {
            LOG.error("LOST SETTLEMENT TRANSACTION: {}. Recorded in settlement_lost_transaction; reconciliation will "
                    + "fail until finance resolves it.", lost.getMessage());
            request.signalFailedWithKnownReason(lost);
        } else if (alreadyCommitted) {
            LOG.info("{} was already committed", c.gid());
            request.signalAlreadyCommitted();
        }
    }

    static boolean isPrepared(Connection conn, String gid) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(
                "SELECT 1 FROM pg_prepared_xacts WHERE gid = ? AND database = current_database()")) {
            ps.setString(1, gid);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    static boolean markerCommitted(Connection conn, String gid) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("SELECT 1 FROM settlement_commit WHERE gid = ?")) {
            ps.setString(1, gid);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private void recordLost(Connection conn, SettlementCommittable c) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(RECORD_LOST)) {
            ps.setString(1, c.gid());
            ps.setString(2, c.sinkName());
            ps.setInt(3, c.payouts());
            ps.setLong(4, c.payoutFen());
            ps.execute();
        }
    }

    /**
     * Round configs (each version in order; one already passed is skipped) and reject counts (largest wins), in one
     * short transaction.
     */
    private void applyUpserts(Connection conn, SettlementCommittable c) throws SQLException {
        if (c.roundConfigs().isEmpty() && c.rejectCounts().isEmpty()) {
            return;
        }
        conn.setAutoCommit(false);
        try {
            // Keys in ascending order (the writer sorts them by round and version), so two committers never
            // deadlock on each other.
            try (PreparedStatement round = conn.prepareStatement(APPLY_ROUND)) {
                for (Round r : c.roundConfigs()) {
                    round.setInt(1, r.roundId());
                    round.setLong(2, r.budgetFen());
                    round.setBoolean(3, r.paused());
                    round.setInt(4, r.version());
                    round.setObject(5, SettlementWriter.timestamp(r.startsAtMs()));
                    round.setObject(6, SettlementWriter.timestamp(r.endsAtMs()));
                    round.execute(); // false: a newer version is already there
                }
            }
            try (PreparedStatement rejects = conn.prepareStatement(APPLY_REJECTS)) {
                for (RejectCount r : c.rejectCounts()) {
                    rejects.setString(1, r.reason());
                    rejects.setLong(2, r.records());
                    rejects.execute();
                }
            }
            conn.commit();
        } catch (SQLException e) {
            try {
                conn.rollback();
            } catch (SQLException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        } finally {
            if (!conn.isClosed()) {
                conn.setAutoCommit(true);
            }
        }
    }

    private Connection connection() throws SQLException {
        if (connection == null || connection.isClosed()) {
            connection = database.connect("hongbao-settlement-committer-" + sinkName);
            connection.setAutoCommit(true);
        }
        return connection;
    }

    /** Connection problems, shutdowns, serialization failures and deadlocks are worth another try. */
    static boolean isTransient(SQLException e) {
        String state = e.getSQLState();
        return state == null || state.startsWith("08") || state.startsWith("57P") || state.equals("40001")
                || state.equals("40P01") || state.equals("53300");
    }

    private void closeConnection() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException e) {
                LOG.debug("closing settlement committer connection", e);
            }
            connection = null;
        }
    }

    @Override
    public void close() {
        closeConnection();
    }
}
