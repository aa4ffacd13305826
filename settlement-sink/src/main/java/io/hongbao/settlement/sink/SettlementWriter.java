package io.hongbao.settlement.sink;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.hongbao.money.LedgerEntry;
import io.hongbao.money.Payout;
import io.hongbao.money.RejectCount;
import io.hongbao.money.Round;
import io.hongbao.money.SettlementRow;
import io.hongbao.money.Tier;
import io.hongbao.settlement.RoundCatalog;
import io.hongbao.settlement.SettlementDatabase;
import java.io.IOException;
import java.security.SecureRandom;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import org.apache.flink.api.connector.sink2.CommittingSinkWriter;
import org.apache.flink.api.connector.sink2.StatefulSinkWriter;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.SimpleCounter;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.postgresql.util.PSQLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One writer subtask of {@link SettlementSink}. Payouts and ledger entries go, in JDBC batches, into one open
 * transaction per checkpoint; at the checkpoint ({@link #prepareCommit()}) the writer inserts the commit marker
 * into the same transaction and runs {@code PREPARE TRANSACTION '<gid>'}; the gid travels to the committer.
 * After {@code PREPARE} the session is free again, so one connection serves every checkpoint.
 *
 * <p>Round configs and reject counts are absolute values: the writer keeps the latest per key and hands them
 * over in the committable (see {@link SettlementCommittable} for why they stay out of the transaction).
 *
 * <p>Rows never fail the writer: each batch is one call of the database's write function (an {@code INSERT ... ON
 * CONFLICT DO NOTHING RETURNING}, V12) inside a savepoint; a row whose key is taken by an identical row is skipped
 * and counted, one whose key is taken by a different row, or that the database refused (unknown tier, amount
 * outside the tier's range), is written to {@code settlement_quarantine} instead (same transaction, so exactly
 * once; not paid).
 * A batch that waited in vain for a key locked by an unfinished transaction (typically this sink's previous
 * prepared transaction, whose commit is on its way) is undone and its rows retried one by one at the checkpoint;
 * a key still locked then is quarantined. A money rule the database refuses at PREPARE (budget, caps) stops the
 * job without restarts (see {@link #failure}). Any other database error fails the writer; the open transaction
 * dies with the connection, so nothing is half written, and Flink restarts from the last checkpoint.
 */
public final class SettlementWriter
        implements CommittingSinkWriter<SettlementRow, SettlementCommittable>,
        StatefulSinkWriter<SettlementRow, WaitingRows> {
    private static final Logger LOG = LoggerFactory.getLogger(SettlementWriter.class);

    // One call per batch: arrays of the columns. The functions (V12) are the job's only write path: they insert
    // with ON CONFLICT DO NOTHING (both unique keys of payout) and name each row's outcome: INSERTED, CONFLICT
    // (a key is taken: compared below), or a per-row money rule the row breaks (not written: quarantined).
    private static final String INSERT_PAYOUTS = "SELECT row_key, outcome FROM settlement_write_payouts(?::text[], "
            + "?::int4[], ?::int4[], ?::int8[], ?::int8[], ?::text[], ?::text[], ?::int4[], ?::int8[], ?::int8[])";
    private static final String SELECT_PAYOUTS = "SELECT payout_id, round_id, tier_id, user_id, amount_fen, event_id, "
            + "kafka_topic, kafka_partition, kafka_offset, (extract(epoch FROM shake_event_time) * 1000)::int8 "
            + "FROM payout WHERE payout_id = ANY (?)";
    private static final String INSERT_LEDGER = "SELECT row_key, outcome FROM settlement_write_ledger(?::text[], "
            + "?::int4[], ?::text[], ?::int8[], ?::int8[], ?::text[], ?::int8[], ?::text[])";
    private static final String SELECT_LEDGER = "SELECT entry_id, round_id, kind, amount_fen, budget_fen_after, detail, "
            + "(extract(epoch FROM effective_at) * 1000)::int8, source FROM round_ledger WHERE entry_id = ANY (?)";
    private static final String INSERT_QUARANTINE = "SELECT settlement_write_quarantine(?, ?, ?, ?, ?, ?::jsonb, ?, "
            + "?::jsonb, ?, ?, ?)";
    private static final String INSERT_MARKER = "SELECT settlement_write_commit_marker(?, ?, ?, ?, ?, ?, ?, ?)";
    // An added round and its tiers (V14), in this transaction, after its ROUND_ADDED line and before its payouts.
    private static final String ADD_ROUND = "SELECT settlement_add_round(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::int4[], "
            + "?::text[], ?::int8[], ?::int8[], ?::int8[], ?::int4[])";
    private static final String VISIBLE_ROUNDS = "SELECT round_id FROM round WHERE round_id = ANY (?)";

    /**
     * Checkpoints a row of an added round waits for its round to become visible (its line or the round in another
     * subtask's transaction, committed when that checkpoint completes) before a payout is quarantined and a round
     * stops the job.
     */
    static final int ROUND_WAIT_CHECKPOINTS = 10;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final SettlementSink.Options options;
    private final int subtask;
    private final String nonce;
    private final Connection connection;
    private final PreparedStatement insertPayouts;
    private final PreparedStatement selectPayouts;
    private final PreparedStatement insertLedger;
    private final PreparedStatement selectLedger;
    private final PreparedStatement insertQuarantine;
    private final PreparedStatement insertMarker;
    private final PreparedStatement addRound;
    private final PreparedStatement visibleRounds;
    private final PayoutTable payouts = new PayoutTable();
    private final LedgerTable ledger = new LedgerTable();
    private final Counter duplicateRowsSkipped;
    private final Counter rowsQuarantined;

    /** The last checkpoint this writer took or was restored from; part of every gid it prepares. */
    private long lastCheckpointId;
    private long sequence;

    private int payoutsInTransaction;
    private int quarantinedInTransaction;
    private int ledgerEntriesInTransaction;
    private long payoutFenInTransaction;
    private int roundsAddedInTransaction;
    /** Per round, its configs of this checkpoint by version (all are applied, in order: each window move has its line). */
    private final TreeMap<Integer, TreeMap<Integer, Round>> roundConfigs = new TreeMap<>();
    /** Rounds this transaction sees (registered, added here or committed): cached, rounds never go away. */
    private final Set<Integer> knownRounds = new HashSet<>();
    /** Checkpoints a round to add has waited for its ROUND_ADDED line. */
    private final Map<Integer, Integer> roundWaits = new HashMap<>();
    /** Payouts of a round this transaction does not see yet, by payout id, with the checkpoints they waited. */
    private final LinkedHashMap<String, WaitingRows.Waiting<Payout>> awaitingRound = new LinkedHashMap<>();
    private final TreeMap<String, RejectCount> rejectCounts = new TreeMap<>();

    /**
     * Connects, checks that the server can prepare transactions, and rolls back the orphaned transactions this
     * subtask owns. {@code restoredCheckpointId} is 0 on a fresh start.
     */
    public SettlementWriter(SettlementSink.Options options, int subtask, int parallelism, long restoredCheckpointId)
            throws IOException {
        this(options, subtask, parallelism, restoredCheckpointId, null);
    }

    /**
     * As above, registering the counters {@code hongbao.duplicateRowsSkipped} and {@code hongbao.rowsQuarantined}
     * in {@code metrics} (the writer's operator group; none when null).
     */
    public SettlementWriter(SettlementSink.Options options, int subtask, int parallelism, long restoredCheckpointId,
            MetricGroup metrics) throws IOException {
        this(options, subtask, parallelism, restoredCheckpointId, metrics, List.of());
    }

    /** As above, with the rows that waited for their round in the restored checkpoint (any subtask's). */
    public SettlementWriter(SettlementSink.Options options, int subtask, int parallelism, long restoredCheckpointId,
            MetricGroup metrics, Collection<WaitingRows> restored) throws IOException {
        this.options = options;
        for (WaitingRows w : restored) {
            for (WaitingRows.Waiting<Round> r : w.rounds()) {
                roundConfigs.computeIfAbsent(r.row().roundId(), k -> new TreeMap<>()).put(r.row().version(), r.row());
                roundWaits.merge(r.row().roundId(), r.checkpoints(), Math::max);
            }
            for (WaitingRows.Waiting<Payout> p : w.payouts()) {
                awaitingRound.putIfAbsent(p.row().payoutId(), p);
            }
        }
        MetricGroup group = metrics == null ? null : metrics.addGroup("hongbao");
        this.duplicateRowsSkipped = group == null ? new SimpleCounter() : group.counter("duplicateRowsSkipped");
        this.rowsQuarantined = group == null ? new SimpleCounter() : group.counter("rowsQuarantined");
        this.subtask = subtask;
        this.lastCheckpointId = restoredCheckpointId;
        this.nonce = newNonce();
        SettlementDatabase db = options.database();
        Connection c = null;
        try {
            c = db.connect("hongbao-settlement-writer-" + options.sinkName() + "-" + subtask);
            requireTwoPhaseCommit(c, db, parallelism);
            List<String> orphans = OrphanedTransactions.rollBack(c, options.sinkName(), subtask, parallelism,
                    restoredCheckpointId);
            LOG.info("Settlement writer {} subtask {}/{} (nonce {}) starts after checkpoint {}; rolled back {} orphaned "
                    + "prepared transactions", options.sinkName(), subtask, parallelism, nonce, restoredCheckpointId,
                    orphans.size());
            try (Statement st = c.createStatement()) {
                // No legitimate write waits for a lock (inserts of fresh keys only): a wait means a key is already
                // in a transaction that is not finished (a copy of an uncommitted row); see insert().
                st.execute("SET lock_timeout = " + options.lockTimeout().toMillis());
                // The transaction stays open between checkpoints, possibly idle.
                st.execute("SET idle_in_transaction_session_timeout = 0");
            }
            c.setAutoCommit(false);
            this.connection = c;
            this.insertPayouts = c.prepareStatement(INSERT_PAYOUTS);
            this.selectPayouts = c.prepareStatement(SELECT_PAYOUTS);
            this.insertLedger = c.prepareStatement(INSERT_LEDGER);
            this.selectLedger = c.prepareStatement(SELECT_LEDGER);
            this.insertQuarantine = c.prepareStatement(INSERT_QUARANTINE);
            this.insertMarker = c.prepareStatement(INSERT_MARKER);
            this.addRound = c.prepareStatement(ADD_ROUND);
            this.visibleRounds = c.prepareStatement(VISIBLE_ROUNDS);
        } catch (SQLException e) {
            closeQuietly(c);
            throw new IOException("settlement writer " + options.sinkName() + " subtask " + subtask
                    + " cannot start on " + db.redactedUrl() + ": " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            closeQuietly(c);
            throw e;
        }
    }

    /** Fails with a message naming {@code max_prepared_transactions} when the server cannot prepare. */
    static void requireTwoPhaseCommit(Connection c, SettlementDatabase db, int parallelism)
            throws SQLException, TwoPhaseCommitUnavailableException {
        int max;
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW max_prepared_transactions")) {
            rs.next();
            max = Integer.parseInt(rs.getString(1));
        }
        if (max <= 0) {
            throw new TwoPhaseCommitUnavailableException("PostgreSQL at " + db.redactedUrl()
                    + " has max_prepared_transactions = " + max + ": the settlement sink needs prepared transactions "
                    + "(two-phase commit). Set max_prepared_transactions to at least parallelism x (concurrent "
                    + "checkpoints + 1), e.g. ALTER SYSTEM SET max_prepared_transactions = 64, and restart the server "
                    + "(locally: bin/local-stack ensure-postgres).");
        }
        if (max < 2 * parallelism) {
            LOG.warn("max_prepared_transactions = {} on {} is below 2 x sink parallelism ({}): PREPARE TRANSACTION will "
                    + "fail when checkpoints overlap", max, db.redactedUrl(), parallelism);
        }
    }

    @Override
    public void write(SettlementRow row, Context context) throws IOException {
        row.validate();
        // Rows are immutable: the writer keeps them as they come.
        try {
            if (row instanceof Payout p) {
                add(payouts, p);
            } else if (row instanceof LedgerEntry l) {
                add(ledger, l);
            } else if (row instanceof RejectCount c) {
                rejectCounts.merge(c.reason(), c, (old, now) -> now.records() >= old.records() ? now : old);
            } else if (row instanceof Round r) {
                roundConfigs.computeIfAbsent(r.roundId(), k -> new TreeMap<>()).put(r.version(), r);
            }
        } catch (SQLException e) {
            throw failure("writing", e);
        }
    }

    /** Queues a row for its table's next batch; a second row with the key of a queued one is decided here. */
    private <R> void add(RowTable<R> table, R row) throws SQLException, IOException {
        R queued = table.batch.get(table.key(row));
        if (queued != null) {
            if (queued.equals(row)) {
                duplicateRowsSkipped.inc();
            } else {
                quarantine(table, row, queued, Reason.CONFLICTING_CONTENT, "key already taken in this transaction by "
                        + "a row that differs in " + table.differences(row, queued));
            }
            return;
        }
        table.batch.put(table.key(row), row);
        if (table.batch.size() >= options.batchSize()) {
            executeBatches();
        }
    }

    /**
     * Sends the pending batches (into the open transaction): ledger lines first, then the rounds to add (their
     * ROUND_ADDED lines must be visible), then payouts (an added round's need it).
     */
    private void executeBatches() throws IOException {
        try {
            send(ledger);
            addRounds();
            send(payouts);
        } catch (SQLException e) {
            throw failure("writing", e);
        }
    }

    /**
     * Adds the rounds of this checkpoint's configs that this transaction does not see (V14: settlement_add_round, with
     * their tiers), from their version 1 (the job adds a round at version 1), each in a savepoint: one whose
     * ROUND_ADDED line is not visible yet (HB207: it sits in another subtask's transaction, or comes later in this
     * one) stays queued and is tried again.
     */
    private void addRounds() throws SQLException {
        List<Integer> unknown = roundConfigs.keySet().stream().filter(id -> !knownRounds.contains(id)).toList();
        if (unknown.isEmpty()) {
            return;
        }
        Set<Integer> visible = visible(unknown);
        for (int id : unknown) {
            if (visible.contains(id)) {
                continue;
            }
            Round first = roundConfigs.get(id).firstEntry().getValue();
            if (first.version() > 1) {
                // A later config of a round another subtask adds (the one with its version 1): wait until the
                // round is visible. Adding it from here would race that subtask for the key, and take a window
                // that moved since without using its RESCHEDULED line.
                continue;
            }
            Savepoint savepoint = connection.setSavepoint();
            try {
                bindAddRound(first);
                String outcome;
                try (ResultSet rs = addRound.executeQuery()) {
                    rs.next();
                    outcome = rs.getString(1);
                }
                connection.releaseSavepoint(savepoint);
                knownRounds.add(id);
                if ("ADDED".equals(outcome)) {
                    roundsAddedInTransaction++;
                    LOG.info("Settlement writer {} subtask {} added round {} ({} tiers)", options.sinkName(), subtask,
                            id, first.tiers().size());
                }
            } catch (SQLException e) {
                if (!MoneyRuleViolationException.isRoundWithoutAddedLine(e)) {
                    throw e;
                }
                connection.rollback(savepoint);
            }
        }
    }

    private void bindAddRound(Round r) throws SQLException {
        RoundCatalog.bindRound(addRound, r);
        List<Tier> tiers = r.tiers();
        addRound.setArray(11, connection.createArrayOf("int4", tiers.stream().map(Tier::tierId).toArray()));
        addRound.setArray(12, connection.createArrayOf("text", tiers.stream().map(Tier::name).toArray()));
        addRound.setArray(13, connection.createArrayOf("int8", tiers.stream().map(Tier::minFen).toArray()));
        addRound.setArray(14, connection.createArrayOf("int8", tiers.stream().map(Tier::maxFen).toArray()));
        addRound.setArray(15, connection.createArrayOf("int8", tiers.stream().map(Tier::countCap).toArray()));
        addRound.setArray(16, connection.createArrayOf("int4", tiers.stream().map(Tier::weight).toArray()));
    }

    /** Which of these rounds this transaction sees; the seen ones are remembered. */
    private Set<Integer> visible(Collection<Integer> rounds) throws SQLException {
        Set<Integer> out = new HashSet<>();
        List<Integer> ask = new ArrayList<>();
        for (int id : rounds) {
            if (knownRounds.contains(id)) {
                out.add(id);
            } else {
                ask.add(id);
            }
        }
        if (!ask.isEmpty()) {
            visibleRounds.setArray(1, connection.createArrayOf("int4", ask.toArray()));
            try (ResultSet rs = visibleRounds.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getInt(1));
                }
            }
            knownRounds.addAll(out);
        }
        return out;
    }

    private <R> void send(RowTable<R> table) throws SQLException, IOException {
        if (table.batch.isEmpty()) {
            return;
        }
        List<R> rows = new ArrayList<>(table.batch.values());
        table.batch.clear();
        if (!insert(table, rows)) {
            // A key of the batch is in a transaction that is not finished, typically one this sink prepared at
            // the last checkpoint and whose commit is on its way: decide these rows at the checkpoint.
            LOG.warn("Settlement writer {} subtask {}: a {} key of this batch of {} is locked by an unfinished "
                    + "transaction; the batch is retried row by row at the checkpoint", options.sinkName(), subtask,
                    table.kind, rows.size());
            table.deferred.addAll(rows);
        }
    }

    /**
     * Inserts {@code rows} with {@code ON CONFLICT DO NOTHING}; the rows that did not go in are compared with the
     * row holding their key: identical ones are skipped, others quarantined. Returns false, having undone the
     * statement (savepoint), when a key is locked by an unfinished transaction, so its content is unknown.
     */
    private <R> boolean insert(RowTable<R> table, List<R> rows) throws SQLException, IOException {
        Map<String, String> outcomes;
        Savepoint savepoint = connection.setSavepoint();
        try {
            outcomes = table.insert(connection, rows);
            connection.releaseSavepoint(savepoint);
        } catch (SQLException e) {
            if (!isKeyLocked(e)) {
                throw e;
            }
            connection.rollback(savepoint);
            return false;
        }
        List<R> conflicts = new ArrayList<>();
        Set<Integer> roundsSeen = null;
        for (R row : rows) {
            String outcome = outcomes.get(table.key(row));
            if (row instanceof Payout p && "UNKNOWN_TIER".equals(outcome)) {
                roundsSeen = roundsSeen != null ? roundsSeen : visible(roundsOf(rows));
                if (!roundsSeen.contains(p.roundId())) {
                    // A round this transaction does not see (yet): an added round whose line and config are in
                    // another subtask's transaction, or later in this one. Tried again at the checkpoint, then in
                    // later ones (writer state).
                    awaitRound(p, 0);
                    continue;
                }
            }
            if ("INSERTED".equals(outcome)) {
                table.counted(row);
            } else if ("CONFLICT".equals(outcome)) {
                conflicts.add(row);
            } else {
                // A per-row money rule (unknown tier, amount outside the tier's range): the database did not write
                // it. Failing would restart the job onto the same row forever; everyone else must still be paid.
                Reason reason = Reason.valueOf(outcome);
                quarantine(table, row, null, reason, reason == Reason.UNKNOWN_TIER
                        ? "round " + table.roundId(row) + " has no such tier: the database refused the row"
                        : "amount outside the tier's min_fen..max_fen: the database refused the row");
            }
        }
        if (!conflicts.isEmpty()) {
            Map<String, R> existing = table.select(connection, conflicts.stream().map(table::key).toList());
            for (R row : conflicts) {
                R held = existing.get(table.key(row));
                if (row.equals(held)) {
                    duplicateRowsSkipped.inc();
                } else if (held == null) {
                    quarantine(table, row, null, Reason.CONFLICTING_CONTENT, "a unique key of the row is taken by a "
                            + "row the writer cannot see");
                } else {
                    quarantine(table, row, held, Reason.CONFLICTING_CONTENT, "key already taken by a committed "
                            + "row that differs in " + table.differences(row, held));
                }
            }
        }
        return true;
    }

    private static <R> Set<Integer> roundsOf(List<R> rows) {
        Set<Integer> out = new HashSet<>();
        for (R row : rows) {
            if (row instanceof Payout p) {
                out.add(p.roundId());
            }
        }
        return out;
    }

    private void awaitRound(Payout p, int checkpoints) throws SQLException, IOException {
        WaitingRows.Waiting<Payout> queued = awaitingRound.get(p.payoutId());
        if (queued == null) {
            awaitingRound.put(p.payoutId(), new WaitingRows.Waiting<>(p, checkpoints));
        } else if (queued.row().equals(p)) {
            duplicateRowsSkipped.inc();
        } else {
            quarantine(payouts, p, queued.row(), Reason.CONFLICTING_CONTENT, "key already taken by a payout waiting "
                    + "for its round that differs in " + payouts.differences(p, queued.row()));
        }
    }

    /**
     * At the checkpoint, after the rounds this checkpoint adds: the payouts that waited for their round. Those whose
     * round is visible now are written (an unknown tier of it is quarantined as usual); the others wait one more
     * checkpoint, in the writer's state, up to {@link #ROUND_WAIT_CHECKPOINTS}; then they are quarantined
     * (UNKNOWN_TIER: no such round appeared), not paid.
     */
    private void retryAwaitingRound() throws SQLException, IOException {
        if (awaitingRound.isEmpty()) {
            return;
        }
        List<WaitingRows.Waiting<Payout>> waiting = new ArrayList<>(awaitingRound.values());
        awaitingRound.clear();
        Set<Integer> visible = visible(waiting.stream().map(w -> w.row().roundId()).toList());
        List<Payout> ready = new ArrayList<>();
        for (WaitingRows.Waiting<Payout> w : waiting) {
            if (visible.contains(w.row().roundId())) {
                ready.add(w.row());
            } else if (w.checkpoints() + 1 > ROUND_WAIT_CHECKPOINTS) {
                quarantine(payouts, w.row(), null, Reason.UNKNOWN_TIER, "round " + w.row().roundId() + " did not "
                        + "appear within " + ROUND_WAIT_CHECKPOINTS + " checkpoints: the database refused the row");
            } else {
                awaitingRound.put(w.row().payoutId(), new WaitingRows.Waiting<>(w.row(), w.checkpoints() + 1));
            }
        }
        if (!ready.isEmpty() && !insert(payouts, ready)) {
            payouts.deferred.addAll(ready);
            retryDeferred(payouts);
        }
    }

    /** The rows whose key was locked: one by one now; a key still locked is quarantined (content unknown). */
    private <R> void retryDeferred(RowTable<R> table) throws SQLException, IOException {
        List<R> rows = new ArrayList<>(table.deferred);
        table.deferred.clear();
        for (R row : rows) {
            if (!insert(table, List.of(row))) {
                quarantine(table, row, null, Reason.KEY_LOCKED, "key locked for more than " + options.lockTimeout()
                        + " twice by a transaction that is prepared or open and was not committed: its content "
                        + "could not be compared (a duplicate of an uncommitted row, or another job's)");
            }
        }
    }

    private <R> void quarantine(RowTable<R> table, R row, R existing, Reason reason, String detail)
            throws SQLException, IOException {
        insertQuarantine.setString(1, table.kind);
        insertQuarantine.setString(2, table.key(row));
        insertQuarantine.setInt(3, table.roundId(row));
        insertQuarantine.setString(4, reason.name());
        insertQuarantine.setString(5, detail);
        insertQuarantine.setString(6, JSON.writeValueAsString(row));
        insertQuarantine.setString(7, existing == null ? null : table.key(existing));
        insertQuarantine.setString(8, existing == null ? null : JSON.writeValueAsString(existing));
        insertQuarantine.setString(9, table.lineage(row));
        insertQuarantine.setString(10, options.sinkName());
        insertQuarantine.setInt(11, subtask);
        insertQuarantine.execute();
        rowsQuarantined.inc();
        quarantinedInTransaction++;
        LOG.error("Settlement writer {} subtask {} quarantined {} {} ({}): {}; not paid, see settlement_quarantine",
                options.sinkName(), subtask, table.kind, table.key(row), reason, detail);
    }

    /**
     * A unique-key check that waited for a transaction holding the same key (lock timeout, or a deadlock with
     * another writer inserting the other's keys). Any other lock wait (a table lock of an admin's DDL, say) is
     * not about a row's content: it stays a failure.
     */
    static boolean isKeyLocked(SQLException e) {
        if (!("55P03".equals(e.getSQLState()) || "40P01".equals(e.getSQLState()))) {
            return false;
        }
        if (e instanceof PSQLException p && p.getServerErrorMessage() != null) {
            String where = p.getServerErrorMessage().getWhere();
            return where != null && (where.contains("while inserting index tuple")
                    || where.contains("while checking uniqueness"));
        }
        return false;
    }

    /** Rows per checkpoint that the writer skipped as identical copies of a row already written. */
    public long duplicateRowsSkipped() {
        return duplicateRowsSkipped.getCount();
    }

    /** Rows the writer quarantined instead of writing them. */
    public long rowsQuarantined() {
        return rowsQuarantined.getCount();
    }

    @Override
    public void flush(boolean endOfInput) throws IOException {
        executeBatches();
    }

    @Override
    public Collection<SettlementCommittable> prepareCommit() throws IOException {
        executeBatches();
        try {
            retryDeferred(payouts);
            retryDeferred(ledger);
            retryAwaitingRound();
        } catch (SQLException e) {
            throw failure("deciding rows whose key was locked or whose round was not visible", e);
        }
        // Configs of rounds this transaction sees go to the committer, every version in order; those of a round
        // still to add wait in the writer's state (the committer could not apply them).
        List<Round> configs = new ArrayList<>();
        for (Iterator<Map.Entry<Integer, TreeMap<Integer, Round>>> it = roundConfigs.entrySet().iterator(); it.hasNext();) {
            Map.Entry<Integer, TreeMap<Integer, Round>> e = it.next();
            if (knownRounds.contains(e.getKey())) {
                configs.addAll(e.getValue().values());
                roundWaits.remove(e.getKey());
                it.remove();
            } else if (roundWaits.merge(e.getKey(), 1, Integer::sum) > ROUND_WAIT_CHECKPOINTS) {
                String message = "settlement writer " + options.sinkName() + " subtask " + subtask + ": round "
                        + e.getKey() + " came as a config of a round the database does not have, and no ROUND_ADDED "
                        + "ledger line of it became visible within " + ROUND_WAIT_CHECKPOINTS + " checkpoints";
                LOG.error("{}. The job stops without restarts.", message);
                throw new SuppressRestartsException(new MoneyRuleViolationException(message, null));
            }
        }
        String gid = null;
        if (payoutsInTransaction + ledgerEntriesInTransaction + quarantinedInTransaction + roundsAddedInTransaction
                > 0) {
            TransactionId id = new TransactionId(options.sinkName(), subtask, lastCheckpointId, nonce, sequence++);
            gid = id.gid();
            try {
                insertMarker.setString(1, gid);
                insertMarker.setString(2, options.sinkName());
                insertMarker.setInt(3, subtask);
                insertMarker.setLong(4, lastCheckpointId);
                insertMarker.setString(5, nonce);
                insertMarker.setInt(6, payoutsInTransaction);
                insertMarker.setInt(7, ledgerEntriesInTransaction);
                insertMarker.setLong(8, payoutFenInTransaction);
                insertMarker.execute();
                try (Statement st = connection.createStatement()) {
                    st.execute("PREPARE TRANSACTION " + TransactionId.literal(gid));
                }
            } catch (SQLException e) {
                throw failure("preparing " + gid, e);
            }
            LOG.debug("Prepared {}: {} payouts ({} fen), {} ledger entries, {} rounds added", gid, payoutsInTransaction,
                    payoutFenInTransaction, ledgerEntriesInTransaction, roundsAddedInTransaction);
        }
        List<SettlementCommittable> out = new ArrayList<>(1);
        if (gid != null || !configs.isEmpty() || !rejectCounts.isEmpty()) {
            out.add(new SettlementCommittable(gid, options.sinkName(), subtask, payoutsInTransaction,
                    ledgerEntriesInTransaction, payoutFenInTransaction, configs,
                    new ArrayList<>(rejectCounts.values())));
        }
        payoutsInTransaction = 0;
        quarantinedInTransaction = 0;
        ledgerEntriesInTransaction = 0;
        payoutFenInTransaction = 0;
        roundsAddedInTransaction = 0;
        rejectCounts.clear();
        return out;
    }

    /**
     * The rows that wait for their round (configs of a round to add, payouts of a round not visible), taken right
     * after {@link #prepareCommit()}; also how the writer learns checkpoint ids (the API passes them nowhere else).
     */
    @Override
    public List<WaitingRows> snapshotState(long checkpointId) {
        lastCheckpointId = Math.max(lastCheckpointId, checkpointId);
        WaitingRows state = waitingRows();
        return state.isEmpty() ? List.of() : List.of(state);
    }

    /** What waits for its round now. */
    WaitingRows waitingRows() {
        List<WaitingRows.Waiting<Round>> rounds = new ArrayList<>();
        roundConfigs.forEach((id, versions) -> versions.values().forEach(
                r -> rounds.add(new WaitingRows.Waiting<>(r, roundWaits.getOrDefault(id, 0)))));
        return new WaitingRows(rounds, new ArrayList<>(awaitingRound.values()));
    }

    @Override
    public void close() {
        // Closing the session rolls back the open (not prepared) transaction; prepared ones stay for the committer
        // or for orphan cleanup.
        closeQuietly(connection);
    }

    /**
     * A failure of the writer: only what is not about a row's content reaches here (the server or the connection
     * failed, a serialization failure, a lock that is not a key's); never carries the password.
     *
     * <p>A money rule the database refused (SQLSTATE class {@code HB}, V12: a round over its budget, a tier over
     * its cap, a user over a cap at PREPARE; a budget line beyond the campaign) is not a fault a restart cures: the
     * job would replay the same records into the same refusal, forever. It is thrown as Flink's
     * {@link SuppressRestartsException}, so the job goes FAILED at once, loudly, and nothing of the transaction is
     * paid (it dies unprepared).
     */
    private IOException failure(String doing, SQLException e) {
        SQLException cause = e;
        if (e instanceof BatchUpdateException && e.getNextException() != null) {
            cause = e.getNextException();
        }
        String message = "settlement writer " + options.sinkName() + " subtask " + subtask + ": " + doing
                + " failed (" + cause.getSQLState() + "): " + cause.getMessage();
        if (MoneyRuleViolationException.isMoneyRule(cause)) {
            LOG.error("{}. The database refused a money rule: the job decided something it must not pay; it stops "
                    + "without restarts, nothing of this transaction is paid.", message);
            throw new SuppressRestartsException(new MoneyRuleViolationException(message, cause));
        }
        return new IOException(message, e);
    }

    static OffsetDateTime timestamp(long epochMs) {
        return OffsetDateTime.ofInstant(Instant.ofEpochMilli(epochMs), ZoneOffset.UTC);
    }

    enum Reason { CONFLICTING_CONTENT, KEY_LOCKED, UNKNOWN_TIER, AMOUNT_OUT_OF_RANGE }

    /** One insert-only table the writer fills: its batch, its deferred rows, and how to insert and compare. */
    private abstract static class RowTable<R> {
        final String kind;
        final LinkedHashMap<String, R> batch = new LinkedHashMap<>();
        final List<R> deferred = new ArrayList<>();

        RowTable(String kind) {
            this.kind = kind;
        }

        abstract String key(R row);

        abstract int roundId(R row);

        abstract String lineage(R row);

        /** Inserts the rows, skipping taken keys and refused rows; returns each key's outcome. */
        abstract Map<String, String> insert(Connection c, List<R> rows) throws SQLException;

        /** The rows holding these keys, as visible to this transaction. */
        abstract Map<String, R> select(Connection c, List<String> keys) throws SQLException;

        /** Which columns differ (for the quarantine's detail). */
        abstract String differences(R a, R b);

        /** A row went in. */
        abstract void counted(R row);

        /** Binds one SQL array per column ({@code types[k]} its element type) and runs the insert function. */
        static Map<String, String> insertColumns(PreparedStatement st, Connection c, String[] types, Object[][] cols)
                throws SQLException {
            for (int k = 0; k < cols.length; k++) {
                st.setArray(k + 1, c.createArrayOf(types[k], cols[k]));
            }
            return outcomes(st);
        }

        static Map<String, String> outcomes(PreparedStatement st) throws SQLException {
            Map<String, String> out = new HashMap<>();
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), rs.getString(2));
                }
            }
            return out;
        }

        static void diff(List<String> out, String column, Object a, Object b) {
            if (!Objects.equals(a, b)) {
                out.add(column + " (" + a + " vs " + b + ")");
            }
        }
    }

    private final class PayoutTable extends RowTable<Payout> {
        PayoutTable() {
            super("payout");
        }

        @Override
        String key(Payout p) {
            return p.payoutId();
        }

        @Override
        int roundId(Payout p) {
            return p.roundId();
        }

        @Override
        String lineage(Payout p) {
            return p.kafkaTopic() + "/" + p.kafkaPartition() + "/" + p.kafkaOffset();
        }

        @Override
        Map<String, String> insert(Connection c, List<Payout> rows) throws SQLException {
            int n = rows.size();
            Object[][] cols = new Object[10][n];
            for (int i = 0; i < n; i++) {
                Payout p = rows.get(i);
                cols[0][i] = p.payoutId();
                cols[1][i] = p.roundId();
                cols[2][i] = p.tierId();
                cols[3][i] = p.userId();
                cols[4][i] = p.amountFen();
                cols[5][i] = p.eventId();
                cols[6][i] = p.kafkaTopic();
                cols[7][i] = p.kafkaPartition();
                cols[8][i] = p.kafkaOffset();
                cols[9][i] = p.shakeEventTimeMs();
            }
            String[] types = {"text", "int4", "int4", "int8", "int8", "text", "text", "int4", "int8", "int8"};
            return insertColumns(insertPayouts, c, types, cols);
        }

        @Override
        Map<String, Payout> select(Connection c, List<String> keys) throws SQLException {
            selectPayouts.setArray(1, c.createArrayOf("text", keys.toArray()));
            Map<String, Payout> out = new HashMap<>();
            try (ResultSet rs = selectPayouts.executeQuery()) {
                while (rs.next()) {
                    Payout p = new Payout(rs.getInt(2), rs.getInt(3), rs.getLong(4), rs.getLong(5), rs.getString(6),
                            rs.getString(7), rs.getInt(8), rs.getLong(9), rs.getLong(10));
                    out.put(rs.getString(1), p); // the key as stored (a forged row's may not be p.payoutId())
                }
            }
            return out;
        }

        @Override
        String differences(Payout a, Payout b) {
            List<String> d = new ArrayList<>();
            diff(d, "tier_id", a.tierId(), b.tierId());
            diff(d, "user_id", a.userId(), b.userId());
            diff(d, "amount_fen", a.amountFen(), b.amountFen());
            diff(d, "kafka_topic", a.kafkaTopic(), b.kafkaTopic());
            diff(d, "kafka_partition", a.kafkaPartition(), b.kafkaPartition());
            diff(d, "kafka_offset", a.kafkaOffset(), b.kafkaOffset());
            diff(d, "shake_event_time", timestamp(a.shakeEventTimeMs()), timestamp(b.shakeEventTimeMs()));
            return String.join(", ", d);
        }

        @Override
        void counted(Payout p) {
            payoutsInTransaction++;
            payoutFenInTransaction = Math.addExact(payoutFenInTransaction, p.amountFen());
        }
    }

    private final class LedgerTable extends RowTable<LedgerEntry> {
        LedgerTable() {
            super("ledger");
        }

        @Override
        String key(LedgerEntry l) {
            return l.entryId();
        }

        @Override
        int roundId(LedgerEntry l) {
            return l.roundId();
        }

        @Override
        String lineage(LedgerEntry l) {
            return l.source();
        }

        @Override
        Map<String, String> insert(Connection c, List<LedgerEntry> rows) throws SQLException {
            int n = rows.size();
            Object[][] cols = new Object[8][n];
            for (int i = 0; i < n; i++) {
                LedgerEntry l = rows.get(i);
                cols[0][i] = l.entryId();
                cols[1][i] = l.roundId();
                cols[2][i] = l.kind();
                cols[3][i] = l.amountFen();
                cols[4][i] = l.budgetFenAfter();
                cols[5][i] = l.detail();
                cols[6][i] = l.effectiveAtMs();
                cols[7][i] = l.source();
            }
            String[] types = {"text", "int4", "text", "int8", "int8", "text", "int8", "text"};
            return insertColumns(insertLedger, c, types, cols);
        }

        @Override
        Map<String, LedgerEntry> select(Connection c, List<String> keys) throws SQLException {
            selectLedger.setArray(1, c.createArrayOf("text", keys.toArray()));
            Map<String, LedgerEntry> out = new HashMap<>();
            try (ResultSet rs = selectLedger.executeQuery()) {
                while (rs.next()) {
                    LedgerEntry l = new LedgerEntry(rs.getString(1), rs.getInt(2), rs.getString(3), rs.getLong(4),
                            rs.getLong(5), rs.getString(6), rs.getLong(7), rs.getString(8));
                    out.put(l.entryId(), l);
                }
            }
            return out;
        }

        @Override
        String differences(LedgerEntry a, LedgerEntry b) {
            List<String> d = new ArrayList<>();
            diff(d, "round_id", a.roundId(), b.roundId());
            diff(d, "kind", a.kind(), b.kind());
            diff(d, "amount_fen", a.amountFen(), b.amountFen());
            diff(d, "budget_fen_after", a.budgetFenAfter(), b.budgetFenAfter());
            diff(d, "detail", a.detail(), b.detail());
            diff(d, "effective_at", timestamp(a.effectiveAtMs()), timestamp(b.effectiveAtMs()));
            diff(d, "source", a.source(), b.source());
            return String.join(", ", d);
        }

        @Override
        void counted(LedgerEntry l) {
            ledgerEntriesInTransaction++;
        }
    }

    private static String newNonce() {
        byte[] b = new byte[6];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException e) {
                LOG.debug("closing settlement connection", e);
            }
        }
    }
}
