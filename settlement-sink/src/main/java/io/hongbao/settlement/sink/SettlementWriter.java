package io.hongbao.settlement.sink;

import io.hongbao.settlement.SettlementDatabase;
import io.hongbao.settlement.SettlementRecord;
import io.hongbao.settlement.SettlementRecord.LedgerEntry;
import io.hongbao.settlement.SettlementRecord.Payout;
import io.hongbao.settlement.SettlementRecord.RejectCount;
import io.hongbao.settlement.SettlementRecord.RoundConfig;
import io.hongbao.settlement.SettlementRecord.Tier;
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
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.api.connector.sink2.CommittingSinkWriter;
import org.apache.flink.api.connector.sink2.StatefulSinkWriter;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;
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
 * <p>Any database error fails the writer; the open transaction dies with the connection, so nothing is half
 * written, and Flink restarts from the last checkpoint.
 */
public final class SettlementWriter
        implements CommittingSinkWriter<SettlementRecord, SettlementCommittable>, StatefulSinkWriter<SettlementRecord, Void> {
    private static final Logger LOG = LoggerFactory.getLogger(SettlementWriter.class);

    private static final String INSERT_PAYOUT = "INSERT INTO payout (payout_id, round_id, tier_id, user_id, amount_fen, "
            + "event_id, kafka_topic, kafka_partition, kafka_offset, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    private static final String INSERT_LEDGER = "INSERT INTO round_ledger (entry_id, round_id, kind, amount_fen, "
            + "budget_fen_after, detail, effective_at, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
    private static final String INSERT_MARKER = "INSERT INTO settlement_commit (gid, sink_name, subtask, "
            + "after_checkpoint_id, attempt_nonce, payouts, ledger_entries, payout_fen) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
    private static final Pattern DUPLICATE_PAYOUT = Pattern.compile("Key \\(payout_id\\)=\\((.+)\\) already exists");
    private static final Pattern DUPLICATE_EVENT =
            Pattern.compile("Key \\(round_id, event_id\\)=\\((\\d+), ([0-9a-f]+)\\) already exists");
    private static final Pattern DUPLICATE_ENTRY = Pattern.compile("Key \\(entry_id\\)=\\((.+)\\) already exists");

    private final SettlementSink.Options options;
    private final int subtask;
    private final String nonce;
    private final Connection connection;
    private final PreparedStatement insertPayout;
    private final PreparedStatement insertLedger;
    private final PreparedStatement insertMarker;

    /** The last checkpoint this writer took or was restored from; part of every gid it prepares. */
    private long lastCheckpointId;
    private long sequence;

    private int payoutBatch;
    private int ledgerBatch;
    private final List<String> payoutIdsInBatch = new ArrayList<>();
    private int payoutsInTransaction;
    private int ledgerEntriesInTransaction;
    private long payoutFenInTransaction;
    private final TreeMap<Integer, RoundConfig> roundConfigs = new TreeMap<>();
    private final TreeMap<String, RejectCount> rejectCounts = new TreeMap<>();

    /**
     * Connects, checks that the server can prepare transactions, and rolls back the orphaned transactions this
     * subtask owns. {@code restoredCheckpointId} is 0 on a fresh start.
     */
    public SettlementWriter(SettlementSink.Options options, int subtask, int parallelism, long restoredCheckpointId)
            throws IOException {
        this.options = options;
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
                // in a transaction that is prepared but not committed yet, i.e. a duplicate upstream.
                st.execute("SET lock_timeout = " + options.lockTimeout().toMillis());
                // The transaction stays open between checkpoints, possibly idle.
                st.execute("SET idle_in_transaction_session_timeout = 0");
            }
            c.setAutoCommit(false);
            this.connection = c;
            this.insertPayout = c.prepareStatement(INSERT_PAYOUT);
            this.insertLedger = c.prepareStatement(INSERT_LEDGER);
            this.insertMarker = c.prepareStatement(INSERT_MARKER);
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
    public void write(SettlementRecord record, Context context) throws IOException {
        record.validate();
        try {
            switch (record.kind) {
                case PAYOUT -> addPayout(record.payout);
                case LEDGER_ENTRY -> addLedgerEntry(record.ledgerEntry);
                case REJECT_COUNT -> rejectCounts.merge(record.rejectCount.reason, copy(record.rejectCount),
                        (old, now) -> now.records >= old.records ? now : old);
                case ROUND_CONFIG -> roundConfigs.merge(record.roundConfig.roundId, copy(record.roundConfig),
                        (old, now) -> now.version >= old.version ? now : old);
            }
        } catch (SQLException e) {
            throw failure("writing", e);
        }
    }

    private void addPayout(Payout p) throws SQLException, IOException {
        insertPayout.setString(1, p.payoutId);
        insertPayout.setInt(2, p.roundId);
        insertPayout.setInt(3, p.tierId);
        insertPayout.setLong(4, p.userId);
        insertPayout.setLong(5, p.amountFen);
        insertPayout.setString(6, p.eventId);
        insertPayout.setString(7, p.kafkaTopic);
        insertPayout.setInt(8, p.kafkaPartition);
        insertPayout.setLong(9, p.kafkaOffset);
        insertPayout.setObject(10, timestamp(p.decidedAtMs));
        insertPayout.addBatch();
        payoutIdsInBatch.add(p.payoutId);
        payoutBatch++;
        payoutsInTransaction++;
        payoutFenInTransaction = Math.addExact(payoutFenInTransaction, p.amountFen);
        if (payoutBatch >= options.batchSize()) {
            executeBatches();
        }
    }

    private void addLedgerEntry(LedgerEntry l) throws SQLException, IOException {
        insertLedger.setString(1, l.entryId);
        insertLedger.setInt(2, l.roundId);
        insertLedger.setString(3, l.kind);
        insertLedger.setLong(4, l.amountFen);
        insertLedger.setLong(5, l.budgetFenAfter);
        insertLedger.setString(6, l.detail);
        insertLedger.setObject(7, timestamp(l.effectiveAtMs));
        insertLedger.setString(8, l.source);
        insertLedger.addBatch();
        ledgerBatch++;
        ledgerEntriesInTransaction++;
        if (ledgerBatch >= options.batchSize()) {
            executeBatches();
        }
    }

    /** Sends the pending batches (into the open transaction); constraint violations surface here. */
    private void executeBatches() throws IOException {
        try {
            if (payoutBatch > 0) {
                insertPayout.executeBatch();
                payoutBatch = 0;
                payoutIdsInBatch.clear();
            }
            if (ledgerBatch > 0) {
                insertLedger.executeBatch();
                ledgerBatch = 0;
            }
        } catch (SQLException e) {
            throw failure("writing", e);
        }
    }

    @Override
    public void flush(boolean endOfInput) throws IOException {
        executeBatches();
    }

    @Override
    public Collection<SettlementCommittable> prepareCommit() throws IOException {
        executeBatches();
        String gid = null;
        if (payoutsInTransaction + ledgerEntriesInTransaction > 0) {
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
                insertMarker.executeUpdate();
                try (Statement st = connection.createStatement()) {
                    st.execute("PREPARE TRANSACTION " + TransactionId.literal(gid));
                }
            } catch (SQLException e) {
                throw failure("preparing " + gid, e);
            }
            LOG.debug("Prepared {}: {} payouts ({} fen), {} ledger entries", gid, payoutsInTransaction,
                    payoutFenInTransaction, ledgerEntriesInTransaction);
        }
        List<SettlementCommittable> out = new ArrayList<>(1);
        if (gid != null || !roundConfigs.isEmpty() || !rejectCounts.isEmpty()) {
            out.add(new SettlementCommittable(gid, options.sinkName(), subtask, payoutsInTransaction,
                    ledgerEntriesInTransaction, payoutFenInTransaction, new ArrayList<>(roundConfigs.values()),
                    new ArrayList<>(rejectCounts.values())));
        }
        payoutsInTransaction = 0;
        ledgerEntriesInTransaction = 0;
        payoutFenInTransaction = 0;
        roundConfigs.clear();
        rejectCounts.clear();
        return out;
    }

    /** Only to learn checkpoint ids (the writer API passes them nowhere else); the writer keeps no state. */
    @Override
    public List<Void> snapshotState(long checkpointId) {
        lastCheckpointId = Math.max(lastCheckpointId, checkpointId);
        return List.of();
    }

    @Override
    public void close() {
        // Closing the session rolls back the open (not prepared) transaction; prepared ones stay for the committer
        // or for orphan cleanup.
        closeQuietly(connection);
    }

    /** A failure of the writer, naming the duplicate row when there is one; never carries the password. */
    private IOException failure(String doing, SQLException e) {
        SQLException cause = e;
        if (e instanceof BatchUpdateException && e.getNextException() != null) {
            cause = e.getNextException();
        }
        String state = cause.getSQLState();
        String where = "settlement writer " + options.sinkName() + " subtask " + subtask;
        if ("23505".equals(state)) {
            String detail = detail(cause);
            Matcher m;
            if ((m = DUPLICATE_PAYOUT.matcher(detail)).find()) {
                return new DuplicateSettlementRowException(m.group(1), where + ": payout " + m.group(1)
                        + " was written twice (a bug upstream: each payout is decided once)", e);
            }
            if ((m = DUPLICATE_EVENT.matcher(detail)).find()) {
                String id = SettlementRecord.payoutId(Integer.parseInt(m.group(1)), m.group(2));
                return new DuplicateSettlementRowException(id, where + ": payout " + id + " (round " + m.group(1)
                        + ", event " + m.group(2) + ") was written twice (a bug upstream: each payout is decided once)", e);
            }
            if ((m = DUPLICATE_ENTRY.matcher(detail)).find()) {
                return new DuplicateSettlementRowException(m.group(1), where + ": ledger entry " + m.group(1)
                        + " was written twice (a bug upstream)", e);
            }
            return new DuplicateSettlementRowException(null, where + ": a settlement row was written twice: " + detail, e);
        }
        if ("55P03".equals(state)) {
            return new IOException(where + ": a row waited for a lock held by a transaction that is prepared but not "
                    + "yet committed, so one of these payouts was written twice (a bug upstream): "
                    + summarize(payoutIdsInBatch), e);
        }
        return new IOException(where + ": " + doing + " failed (" + state + "): " + cause.getMessage(), e);
    }

    private static String detail(SQLException e) {
        if (e instanceof PSQLException p) {
            ServerErrorMessage m = p.getServerErrorMessage();
            if (m != null && m.getDetail() != null) {
                return m.getDetail();
            }
        }
        return String.valueOf(e.getMessage());
    }

    private static String summarize(List<String> ids) {
        if (ids.isEmpty()) {
            return "(no payouts in the batch; a ledger entry)";
        }
        return ids.size() <= 5 ? ids.toString()
                : ids.subList(0, 5) + " and " + (ids.size() - 5) + " more in the batch";
    }

    static OffsetDateTime timestamp(long epochMs) {
        return OffsetDateTime.ofInstant(Instant.ofEpochMilli(epochMs), ZoneOffset.UTC);
    }

    private static RejectCount copy(RejectCount c) {
        RejectCount r = new RejectCount();
        r.reason = c.reason;
        r.records = c.records;
        return r;
    }

    private static RoundConfig copy(RoundConfig c) {
        RoundConfig r = new RoundConfig();
        r.roundId = c.roundId;
        r.name = c.name;
        r.startsAtMs = c.startsAtMs;
        r.endsAtMs = c.endsAtMs;
        r.budgetFen = c.budgetFen;
        r.winPerMillion = c.winPerMillion;
        r.winsPerRound = c.winsPerRound;
        r.fenPerGala = c.fenPerGala;
        r.paused = c.paused;
        r.version = c.version;
        r.tiers = new ArrayList<>();
        for (Tier t : c.tiers) {
            r.tiers.add(Tier.of(t.tierId, t.name, t.minFen, t.maxFen, t.countCap, t.weight));
        }
        return r;
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
