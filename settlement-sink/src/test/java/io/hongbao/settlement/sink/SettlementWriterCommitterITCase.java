package io.hongbao.settlement.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hongbao.settlement.RoundCatalog;
import io.hongbao.settlement.SettlementDatabase;
import io.hongbao.money.LedgerEntry;
import io.hongbao.money.RejectCount;
import io.hongbao.money.Round;
import io.hongbao.settlement.testing.EmbeddedSettlementDb;
import io.hongbao.settlement.testing.RecordingCommitRequest;
import io.hongbao.settlement.testing.RecordingCommitRequest.Outcome;
import io.hongbao.settlement.testing.Records;
import io.hongbao.settlement.testing.Sql;
import io.hongbao.settlement.reconcile.Reconciliation;
import io.hongbao.settlement.reconcile.ReconciliationResult;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.flink.api.connector.sink2.Committer.CommitRequest;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.junit.jupiter.api.Test;

/** The writer and committer on their own (no Flink), against a real PostgreSQL with prepared transactions. */
class SettlementWriterCommitterITCase {
    private static final String SINK = "payouts";

    private static SettlementSink.Options options(SettlementDatabase db) {
        return new SettlementSink.Options(db, SINK, 2, Duration.ofSeconds(30));
    }

    private static SettlementWriter writer(SettlementDatabase db, int subtask, int parallelism, long restored)
            throws IOException {
        // As the job connects: a login member of hongbao_writer, never a superuser.
        return new SettlementWriter(options(EmbeddedSettlementDb.asJob(db)), subtask, parallelism, restored);
    }

    private static SettlementCommitter committer(SettlementDatabase db) {
        return new SettlementCommitter(EmbeddedSettlementDb.asJob(db), SINK);
    }

    private static SettlementCommittable prepareOne(SettlementWriter w) throws IOException {
        Collection<SettlementCommittable> out = w.prepareCommit();
        assertThat(out).hasSize(1);
        return out.iterator().next();
    }

    private static RecordingCommitRequest<SettlementCommittable> commit(SettlementCommitter committer,
            SettlementCommittable c) throws Exception {
        RecordingCommitRequest<SettlementCommittable> request = new RecordingCommitRequest<>(c);
        List<CommitRequest<SettlementCommittable>> requests = new ArrayList<>();
        requests.add(request);
        committer.commit(requests);
        return request;
    }

    @Test
    void shouldKeepRowsInvisibleUntilTheCommitterCommits() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("invisible");
        try (SettlementWriter w = writer(db, 0, 1, 0); SettlementCommitter committer = committer(db)) {
            for (int n = 0; n < 5; n++) { // batch size 2: two batches go to the server before the checkpoint
                w.write(Records.payout(1, n), null);
            }
            w.write(new LedgerEntry("r1-configured", 1, "CONFIGURED", 100_000, 100_000, "from profile",
                    Records.ROUND_START_MS, "profile"), null);
            w.flush(false);
            assertThat(Sql.count(db, "SELECT COUNT(*) FROM payout")).isZero();

            SettlementCommittable c = prepareOne(w);

            assertThat(c.gid()).startsWith("hb:payouts:0:0:");
            assertThat(c.payouts()).isEqualTo(5);
            assertThat(c.payoutFen()).isEqualTo(1 + 2 + 3 + 4 + 5);
            assertThat(Sql.preparedGids(db)).containsExactly(c.gid());
            assertThat(Sql.count(db, "SELECT COUNT(*) FROM payout")).isZero();
            assertThat(Sql.count(db, "SELECT COUNT(*) FROM round_ledger")).isZero();
            assertThat(Sql.count(db, "SELECT COUNT(*) FROM settlement_commit")).isZero();

            RecordingCommitRequest<SettlementCommittable> request = commit(committer, c);

            assertThat(request.outcome()).isEqualTo(Outcome.COMMITTED);
            assertThat(Sql.count(db, "SELECT COUNT(*) FROM payout")).isEqualTo(5);
            assertThat(Sql.count(db, "SELECT SUM(amount_fen) FROM payout")).isEqualTo(15);
            assertThat(Sql.count(db, "SELECT COUNT(*) FROM round_ledger")).isOne();
            assertThat(Sql.strings(db, "SELECT gid FROM settlement_commit")).containsExactly(c.gid());
            assertThat(Sql.preparedGids(db)).isEmpty();
        }
    }

    @Test
    void shouldPrepareOneTransactionPerCheckpointOnOneConnection() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("per_checkpoint");
        try (SettlementWriter w = writer(db, 0, 1, 0); SettlementCommitter committer = committer(db)) {
            w.write(Records.payout(1, 1), null);
            SettlementCommittable first = prepareOne(w);
            w.snapshotState(1);
            w.write(Records.payout(1, 2), null);
            SettlementCommittable second = prepareOne(w);
            w.snapshotState(2);
            assertThat(w.prepareCommit()).as("nothing written, nothing to commit").isEmpty();

            assertThat(TransactionId.parse(first.gid()).orElseThrow().afterCheckpointId()).isZero();
            assertThat(TransactionId.parse(second.gid()).orElseThrow().afterCheckpointId()).isEqualTo(1);
            assertThat(Sql.preparedGids(db)).containsExactlyInAnyOrder(first.gid(), second.gid());

            commit(committer, first);
            commit(committer, second);
            assertThat(Sql.count(db, "SELECT COUNT(*) FROM payout")).isEqualTo(2);
        }
    }

    @Test
    void shouldTreatASecondCommitAsAlreadyCommitted() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("commit_twice");
        try (SettlementWriter w = writer(db, 0, 1, 0); SettlementCommitter committer = committer(db)) {
            w.write(Records.payout(1, 7), null);
            w.write(new RejectCount("OUT_OF_WINDOW", 3), null);
            SettlementCommittable c = prepareOne(w);

            assertThat(commit(committer, c).outcome()).isEqualTo(Outcome.COMMITTED);
            assertThat(commit(committer, c).outcome()).isEqualTo(Outcome.ALREADY_COMMITTED);
            // A fresh committer (as after a restore) agrees.
            try (SettlementCommitter recovered = committer(db)) {
                assertThat(commit(recovered, c).outcome()).isEqualTo(Outcome.ALREADY_COMMITTED);
            }

            assertThat(Sql.count(db, "SELECT COUNT(*) FROM payout")).isOne();
            assertThat(Sql.count(db, "SELECT records FROM rejected_count WHERE reason = 'OUT_OF_WINDOW'")).isEqualTo(3);
        }
    }

    @Test
    void shouldFailWithAKnownReasonWhenAPreparedTransactionIsLost() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("lost");
        try (SettlementWriter w = writer(db, 0, 1, 0); SettlementCommitter committer = committer(db)) {
            w.write(Records.payout(1, 1, 42, 888, 9), null);
            SettlementCommittable c = prepareOne(w);
            Sql.execute(db, "ROLLBACK PREPARED '" + c.gid() + "'"); // what must never happen

            RecordingCommitRequest<SettlementCommittable> request = commit(committer, c);

            assertThat(request.outcome()).isEqualTo(Outcome.FAILED_KNOWN);
            assertThat(request.failure()).isInstanceOf(LostTransactionException.class)
                    .hasMessageContaining(c.gid()).hasMessageContaining("1 payouts, 888 fen");
            assertThat(Sql.strings(db, "SELECT gid || ' ' || payout_fen FROM settlement_lost_transaction"))
                    .containsExactly(c.gid() + " 888");
            assertThat(Sql.count(db, "SELECT COUNT(*) FROM payout")).isZero();
        }
    }

    @Test
    void shouldRollBackOnlyOrphansOnRestore() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("orphans");
        // Attempt 1, parallelism 2. Checkpoint 5 completes; its committables are not committed yet when the job
        // fails, and both subtasks have prepared for checkpoint 6, which never completes.
        SettlementWriter s0 = writer(db, 0, 2, 0);
        SettlementWriter s1 = writer(db, 1, 2, 0);
        s0.snapshotState(4);
        s1.snapshotState(4);
        s0.write(Records.payout(1, 1), null);
        s1.write(Records.payout(1, 2), null);
        SettlementCommittable s0cp5 = prepareOne(s0);
        SettlementCommittable s1cp5 = prepareOne(s1);
        s0.snapshotState(5);
        s1.snapshotState(5);
        s0.write(Records.payout(1, 3), null);
        s1.write(Records.payout(1, 4), null);
        SettlementCommittable s0cp6 = prepareOne(s0);
        SettlementCommittable s1cp6 = prepareOne(s1);
        s0.close();
        s1.close();
        // Another job's sink in the same database, and a transaction of some other application.
        SettlementWriter other = new SettlementWriter(
                new SettlementSink.Options(db, "other-job", 10, Duration.ofSeconds(30)), 0, 1, 0);
        other.snapshotState(99);
        other.write(Records.payout(2, 1), null);
        SettlementCommittable otherCp = prepareOne(other);
        other.close();
        Sql.execute(db, "BEGIN; INSERT INTO rejected_count VALUES ('X', 1); PREPARE TRANSACTION 'someone-else'");

        // Attempt 2 restores checkpoint 5 at parallelism 2: subtask 0 starts first and cleans only its own orphan.
        try (SettlementWriter r0 = writer(db, 0, 2, 5)) {
            assertThat(Sql.preparedGids(db)).containsExactlyInAnyOrder(s0cp5.gid(), s1cp5.gid(), s1cp6.gid(),
                    otherCp.gid(), "someone-else");
            try (SettlementWriter r1 = writer(db, 1, 2, 5)) {
                assertThat(Sql.preparedGids(db)).containsExactlyInAnyOrder(s0cp5.gid(), s1cp5.gid(), otherCp.gid(),
                        "someone-else");
            }
        }
        assertThat(s0cp6.gid()).isNotNull();

        // The restored checkpoint's committables still commit.
        try (SettlementCommitter committer = committer(db)) {
            assertThat(commit(committer, s0cp5).outcome()).isEqualTo(Outcome.COMMITTED);
            assertThat(commit(committer, s1cp5).outcome()).isEqualTo(Outcome.COMMITTED);
        }
        assertThat(Sql.strings(db, "SELECT payout_id FROM payout ORDER BY payout_id"))
                .containsExactly(Records.payout(1, 1).payoutId(), Records.payout(1, 2).payoutId());
        Sql.execute(db, "ROLLBACK PREPARED 'someone-else'", "ROLLBACK PREPARED '" + otherCp.gid() + "'");
    }

    @Test
    void shouldCleanTheOrphansOfSubtasksThatNoLongerExistAfterScalingDown() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("rescale");
        List<SettlementCommittable> covered = new ArrayList<>();
        List<String> orphans = new ArrayList<>();
        for (int subtask = 0; subtask < 3; subtask++) {
            try (SettlementWriter w = writer(db, subtask, 3, 0)) {
                w.snapshotState(9);
                w.write(Records.payout(1, 10 + subtask), null);
                covered.add(prepareOne(w));
                w.snapshotState(10);
                w.write(Records.payout(1, 20 + subtask), null);
                orphans.add(prepareOne(w).gid());
            }
        }

        // Restore checkpoint 10 at parallelism 2: subtask 0 owns old subtasks 0 and 2, subtask 1 owns old 1.
        try (SettlementWriter r0 = writer(db, 0, 2, 10)) {
            assertThat(Sql.preparedGids(db)).doesNotContain(orphans.get(0), orphans.get(2)).contains(orphans.get(1));
        }
        try (SettlementWriter r1 = writer(db, 1, 2, 10)) {
            assertThat(Sql.preparedGids(db)).containsExactlyInAnyOrderElementsOf(
                    covered.stream().map(SettlementCommittable::gid).toList());
        }
    }

    @Test
    void shouldRollBackEverythingOfItsSubtaskOnAFreshStart() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("fresh");
        try (SettlementWriter w = writer(db, 0, 1, 0)) {
            w.snapshotState(3);
            w.write(Records.payout(1, 1), null);
            prepareOne(w);
        }
        try (SettlementWriter fresh = writer(db, 0, 1, 0)) {
            assertThat(Sql.preparedGids(db)).isEmpty();
        }
    }

    @Test
    void shouldSkipAnIdenticalPayoutAlreadyCommittedAndCountIt() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("dup_same_committed");
        try (SettlementWriter w = writer(db, 0, 1, 0); SettlementCommitter committer = committer(db)) {
            w.write(Records.payout(1, 5), null);
            commit(committer, prepareOne(w));
            w.snapshotState(1);
            // The same payout decided again (an event id replayed after its checkpoint), in the next transaction.
            w.write(Records.payout(1, 5), null);
            w.write(Records.payout(1, 6), null);
            SettlementCommittable second = prepareOne(w);

            assertThat(second.payouts()).as("only the new payout").isOne();
            assertThat(commit(committer, second).outcome()).isEqualTo(Outcome.COMMITTED);
            assertThat(w.duplicateRowsSkipped()).isOne();
            assertThat(w.rowsQuarantined()).isZero();
        }
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM payout WHERE payout_id = 'r1-00000000000000000000000000000005'"))
                .isOne();
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM payout")).isEqualTo(2);
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM settlement_quarantine")).isZero();
        assertThat(reconcile(db).passed()).isTrue();
    }

    @Test
    void shouldSkipAnIdenticalPayoutTwiceInOneTransaction() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("dup_same_txn");
        try (SettlementWriter w = writer(db, 0, 1, 0); SettlementCommitter committer = committer(db)) {
            w.write(Records.payout(1, 77), null);
            w.write(Records.payout(1, 78), null); // batch of two goes out
            w.write(Records.payout(1, 77), null); // a copy of a row sent in an earlier batch of this transaction
            w.write(Records.payout(1, 79), null);
            w.write(Records.payout(1, 79), null); // a copy within one batch
            commit(committer, prepareOne(w));
            assertThat(w.duplicateRowsSkipped()).isEqualTo(2);
        }
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM payout")).isEqualTo(3);
        assertThat(Sql.preparedGids(db)).isEmpty();
    }

    @Test
    void shouldQuarantineAConflictingPayoutAndKeepPayingEveryoneElse() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("dup_conflict");
        try (SettlementWriter w = writer(db, 0, 1, 0); SettlementCommitter committer = committer(db)) {
            w.write(Records.payout(1, 1, 7, 100, 5), null);
            commit(committer, prepareOne(w));
            w.snapshotState(1);
            // Same round and event (so the same payout id) for another user and amount: an event id reused.
            w.write(Records.payout(1, 1, 8, 900, 5), null);
            w.write(Records.payout(1, 6), null);
            commit(committer, prepareOne(w));
            assertThat(w.rowsQuarantined()).isOne();
            assertThat(w.duplicateRowsSkipped()).isZero();
        }
        assertThat(Sql.strings(db, "SELECT payout_id || ' ' || user_id || ' ' || amount_fen FROM payout ORDER BY 1"))
                .containsExactly("r1-00000000000000000000000000000005 7 100", "r1-00000000000000000000000000000006 6 7");
        assertThat(Sql.strings(db, "SELECT kind || ' ' || row_key || ' ' || reason || ' ' || existing_key || ' '"
                + " || (row_data->>'userId') || ' ' || (row_data->>'amountFen') || ' ' || lineage FROM settlement_quarantine"))
                .containsExactly("payout r1-00000000000000000000000000000005 CONFLICTING_CONTENT "
                        + "r1-00000000000000000000000000000005 8 900 hongbao.shakes/1/5");
        assertThat(Sql.strings(db, "SELECT detail FROM settlement_quarantine")).singleElement().asString()
                .contains("user_id (8 vs 7)").contains("amount_fen (900 vs 100)");
        ReconciliationResult r = reconcile(db);
        assertThat(r.passed()).isFalse();
        assertThat(r.violationCount("QUARANTINED")).isOne();
        assertThat(r.totalViolations()).as("nothing else is wrong").isOne();
    }

    @Test
    void shouldSkipAnIdenticalLedgerEntryAndQuarantineAConflictingOne() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("dup_ledger");
        LedgerEntry raised = new LedgerEntry("ctl-0-17", 1, "BUDGET_RAISED", 500, 10_000_500,
                "operator", Records.ROUND_START_MS, "hongbao.control/0/17");
        try (SettlementWriter w = writer(db, 0, 1, 0); SettlementCommitter committer = committer(db)) {
            w.write(raised, null);
            commit(committer, prepareOne(w));
            w.snapshotState(1);
            // The operator's control change sent twice; then the same entry id with another amount.
            w.write(raised, null);
            w.write(new LedgerEntry("ctl-0-17", 1, "BUDGET_RAISED", 5_000, 10_005_000, "operator",
                    Records.ROUND_START_MS, "hongbao.control/0/17"), null);
            w.write(Records.payout(1, 3), null);
            commit(committer, prepareOne(w));
            assertThat(w.duplicateRowsSkipped()).isOne();
            assertThat(w.rowsQuarantined()).isOne();
        }
        assertThat(Sql.strings(db, "SELECT entry_id || ' ' || amount_fen FROM round_ledger"))
                .containsExactly("ctl-0-17 500");
        assertThat(Sql.strings(db, "SELECT kind || ' ' || row_key || ' ' || reason || ' ' || lineage "
                + "FROM settlement_quarantine")).containsExactly("ledger ctl-0-17 CONFLICTING_CONTENT hongbao.control/0/17");
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM payout")).isOne();
    }

    @Test
    void shouldDecideACopyOfAPreparedPayoutAtTheCheckpointAfterItsCommit() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("dup_prepared");
        SettlementSink.Options quick = new SettlementSink.Options(EmbeddedSettlementDb.asJob(db), SINK, 1,
                Duration.ofMillis(300));
        try (SettlementWriter w = new SettlementWriter(quick, 0, 1, 0); SettlementCommitter committer = committer(db)) {
            w.write(Records.payout(1, 5), null);
            SettlementCommittable pending = prepareOne(w);
            w.snapshotState(1);

            // Its key is locked by the prepared transaction: the row waits for the checkpoint, the writer goes on.
            w.write(Records.payout(1, 5), null);
            w.write(Records.payout(1, 6), null);
            commit(committer, pending); // the checkpoint completed
            SettlementCommittable next = prepareOne(w);
            commit(committer, next);

            assertThat(next.payouts()).isOne();
            assertThat(w.duplicateRowsSkipped()).isOne();
            assertThat(w.rowsQuarantined()).isZero();
        }
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM payout")).isEqualTo(2);
    }

    @Test
    void shouldQuarantineACopyWhoseKeyStaysLockedByAnotherPreparedTransaction() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("dup_locked");
        SettlementSink.Options quick = new SettlementSink.Options(EmbeddedSettlementDb.asJob(db), SINK, 1,
                Duration.ofMillis(300));
        String other;
        try (SettlementWriter a = new SettlementWriter(quick, 0, 2, 0);
                SettlementWriter b = new SettlementWriter(quick, 1, 2, 0)) {
            a.write(Records.payout(1, 5), null);
            other = prepareOne(a).gid();
            b.write(Records.payout(1, 5), null);
            b.write(Records.payout(1, 6), null);
            SettlementCommittable c = prepareOne(b); // still locked at the checkpoint: quarantined, not paid
            try (SettlementCommitter committer = committer(db)) {
                commit(committer, c);
            }
            assertThat(b.rowsQuarantined()).isOne();
        }
        assertThat(Sql.strings(db, "SELECT row_key || ' ' || reason FROM settlement_quarantine"))
                .containsExactly("r1-00000000000000000000000000000005 KEY_LOCKED");
        assertThat(Sql.strings(db, "SELECT payout_id FROM payout")).containsExactly("r1-00000000000000000000000000000006");
        Sql.execute(db, "ROLLBACK PREPARED '" + other + "'");
    }

    @Test
    void shouldStillFailOnALockThatIsNotAKeys() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("table_locked");
        SettlementSink.Options quick = new SettlementSink.Options(EmbeddedSettlementDb.asJob(db), SINK, 1,
                Duration.ofMillis(300));
        Sql.execute(db, "BEGIN", "LOCK TABLE payout IN EXCLUSIVE MODE", "PREPARE TRANSACTION 'admin-ddl'");
        try (SettlementWriter w = new SettlementWriter(quick, 0, 1, 0)) {
            assertThatThrownBy(() -> w.write(Records.payout(1, 5), null)).isInstanceOf(IOException.class)
                    .hasMessageContaining("55P03");
        } finally {
            Sql.execute(db, "ROLLBACK PREPARED 'admin-ddl'");
        }
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM settlement_quarantine")).isZero();
    }

    private static ReconciliationResult reconcile(SettlementDatabase db) throws Exception {
        try (Connection c = EmbeddedSettlementDb.asMemberOf(db, "hongbao_finance").connect("reconcile")) {
            return new Reconciliation().run(c);
        }
    }

    @Test
    void shouldLeaveNothingWhenTheConnectionIsLostWhileWriting() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("conn_lost");
        SettlementWriter w = writer(db, 0, 1, 0);
        w.write(Records.payout(1, 1), null);
        w.write(Records.payout(1, 2), null); // batch sent: the rows are in the open transaction
        Sql.execute(db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                + "WHERE application_name = 'hongbao-settlement-writer-payouts-0'");

        // The checkpoint comes: marker insert and PREPARE fail, the job would restart from the last checkpoint.
        assertThatThrownBy(w::prepareCommit).isInstanceOf(IOException.class)
                .hasMessageContaining("settlement writer payouts subtask 0: preparing hb:payouts:0:0:");
        w.close();

        assertThat(Sql.count(db, "SELECT COUNT(*) FROM payout")).isZero();
        assertThat(Sql.preparedGids(db)).isEmpty();
    }

    @Test
    void shouldUpsertOnlyNewerRoundConfigsAndLargerRejectCounts() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedDatabase("upserts");
        RoundCatalog.register(db, new RoundCatalog.Campaign("upserts", 1_000_000),
                List.of(Records.round(1, 100_000, 0, Records.tier(1, 100, 888, 20))));
        try (SettlementWriter w = writer(db, 0, 1, 0); SettlementCommitter committer = committer(db)) {
            // A budget moves only with its ledger line (V12): the raise's line comes in the same checkpoint.
            w.write(new LedgerEntry("raise-1", 1, "BUDGET_RAISED", 50_000, 150_000, "test",
                    Records.ROUND_START_MS, "test"), null);
            w.write(Records.round(1, 100_000, 0, Records.tier(1, 100, 888, 20)), null);
            w.write(Records.round(1, 150_000, 1, Records.tier(1, 100, 888, 20)), null);
            w.write(new RejectCount("UNDECODABLE", 5), null);
            w.write(new RejectCount("UNDECODABLE", 6), null);
            SettlementCommittable newer = prepareOne(w);
            // Every version, in order (each may move the window with a line of its own): v0 is a no-op here.
            assertThat(newer.roundConfigs()).extracting(Round::version).containsExactly(0, 1);
            commit(committer, newer);

            // An older committable applied late (another subtask, a replay) changes nothing.
            w.write(Records.round(1, 100_000, 0, Records.tier(1, 100, 888, 20)), null);
            w.write(new RejectCount("UNDECODABLE", 4), null);
            SettlementCommittable older = prepareOne(w);
            assertThat(older.gid()).as("upserts only: no transaction").isNull();
            commit(committer, older);

            assertThat(Sql.count(db, "SELECT budget_fen FROM round WHERE round_id = 1")).isEqualTo(150_000);
            assertThat(Sql.count(db, "SELECT config_version FROM round WHERE round_id = 1")).isOne();
            assertThat(Sql.count(db, "SELECT records FROM rejected_count WHERE reason = 'UNDECODABLE'")).isEqualTo(6);
        }
    }

    /** The committer retries a change whose ledger line it does not see, then stops the job with the database's word. */
    private static void assertRetriedThenStopped(SettlementCommitter committer, SettlementCommittable c, String message)
            throws Exception {
        RecordingCommitRequest<SettlementCommittable> first = new RecordingCommitRequest<>(c, 0);
        committer.commit(List.of(first));
        assertThat(first.outcome()).isEqualTo(Outcome.RETRY);
        RecordingCommitRequest<SettlementCommittable> last =
                new RecordingCommitRequest<>(c, SettlementCommitter.LEDGER_LINE_RETRIES);
        assertThatThrownBy(() -> committer.commit(List.of(last))).isInstanceOf(SuppressRestartsException.class)
                .rootCause().hasMessageContaining(message);
    }

    @Test
    void shouldStopWithoutRestartsWhenABudgetMovesWithoutItsLedgerLine() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("budget_without_line");
        try (SettlementWriter w = writer(db, 0, 1, 0); SettlementCommitter committer = committer(db)) {
            w.write(Records.round(1, 20_000_000, 1, Records.tier(1, 1, 1_000, 1_000_000)),
                    null);
            // First a few retries (the line could be in another subtask's transaction, about to commit), then a stop.
            assertRetriedThenStopped(committer, prepareOne(w), "no ledger line sets it");
        }
        assertThat(Sql.count(db, "SELECT budget_fen FROM round WHERE round_id = 1")).isEqualTo(10_000_000);
    }

    @Test
    void shouldQuarantinePayoutsOfAnUnknownTierOrOutsideItsRangeAndPayTheRest() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("per_row_rules");
        try (SettlementWriter w = writer(db, 0, 1, 0); SettlementCommitter committer = committer(db)) {
            w.write(Records.payout(1, 1, 7, 100, 1), null);
            w.write(Records.payout(1, 99, 8, 1_000_000, 2), null); // tier 99 does not exist
            w.write(Records.payout(1, 2, 9, 1_001, 3), null); // tier 2 pays 1 to 1,000 fen
            w.write(Records.payout(1, 2, 10, 1_000, 4), null);
            commit(committer, prepareOne(w));
            assertThat(w.rowsQuarantined()).isEqualTo(2);
        }
        assertThat(Sql.strings(db, "SELECT user_id || ' ' || amount_fen FROM payout ORDER BY user_id"))
                .containsExactly("7 100", "10 1000");
        assertThat(Sql.strings(db, "SELECT row_key || ' ' || reason FROM settlement_quarantine ORDER BY row_key"))
                .containsExactly("r1-" + Records.eventId(2) + " UNKNOWN_TIER",
                        "r1-" + Records.eventId(3) + " AMOUNT_OUT_OF_RANGE");
        assertThat(Sql.count(db, "SELECT payouts FROM settlement_commit")).isEqualTo(2);
    }

    // Live schedule (V14). Round 1 of the reference rounds: [12:00, 12:10), tiers 1 and 2 paying 1 to 1,000 fen.
    private static final long MINUTE_MS = 60_000L;

    private static Round moved(Round r, long startsAtMs, long endsAtMs, int version) {
        return new Round(r.roundId(), r.name(), startsAtMs, endsAtMs, r.budgetFen(), r.winPerMillion(), r.winsPerRound(),
                r.fenPerGala(), r.paused(), version, r.tiers());
    }

    private static LedgerEntry rescheduled(String changeId, Round from, Round to, long effectiveAtMs) {
        return new LedgerEntry("change-" + changeId, from.roundId(), "RESCHEDULED", 0, from.budgetFen(),
                "window [" + java.time.Instant.ofEpochMilli(from.startsAtMs()) + ", "
                        + java.time.Instant.ofEpochMilli(from.endsAtMs()) + ") -> ["
                        + java.time.Instant.ofEpochMilli(to.startsAtMs()) + ", "
                        + java.time.Instant.ofEpochMilli(to.endsAtMs()) + ") from "
                        + java.time.Instant.ofEpochMilli(effectiveAtMs), effectiveAtMs, "hongbao.control/0/" + changeId);
    }

    /** Round 9, added three hours after round 1 with round 1's tiers, version 1. */
    private static Round added(int roundId, long budgetFen) {
        Round one = Records.referenceRounds().get(0);
        long start = one.startsAtMs() + 3 * Records.ONE_HOUR_MS;
        return new Round(roundId, "round " + roundId, start, start + 10 * MINUTE_MS, budgetFen, one.winPerMillion(),
                one.winsPerRound(), one.fenPerGala(), false, 1, one.tiers());
    }

    private static LedgerEntry roundAdded(String changeId, Round r) {
        return new LedgerEntry("change-" + changeId, r.roundId(), "ROUND_ADDED", r.budgetFen(), r.budgetFen(),
                "round " + r.roundId() + " added", r.startsAtMs() - MINUTE_MS, "hongbao.control/0/" + changeId);
    }

    @Test
    void shouldApplyARescheduledWindowWithItsLedgerLineAndStopOnAMoveWithoutOne() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("rescheduled");
        Round one = Records.referenceRounds().get(0);
        Round extended = moved(one, one.startsAtMs(), one.endsAtMs() + 10 * MINUTE_MS, 1);
        try (SettlementWriter w = writer(db, 0, 1, 0); SettlementCommitter committer = committer(db)) {
            w.write(rescheduled("7", one, extended, one.endsAtMs() - MINUTE_MS), null);
            w.write(extended, null);
            w.write(Records.payout(1, 1), null);
            assertThat(commit(committer, prepareOne(w)).outcome()).isEqualTo(Outcome.COMMITTED);
            assertThat(Sql.strings(db, "SELECT (ends_at AT TIME ZONE 'UTC') || ' v' || config_version FROM round "
                    + "WHERE round_id = 1")).containsExactly("2026-02-16 12:20:00 v1");
            assertThat(Sql.strings(db, "SELECT entry_id || ' v' || applied_version FROM round_schedule "
                    + "WHERE round_id = 1")).containsExactly("change-7 v1");

            // A job restarting with its profile (the window as registered) still matches the reference data.
            RoundCatalog.register(db, new RoundCatalog.Campaign("test gala", 100_000_000), Records.referenceRounds());

            // Shifted again, without a line: retried (the line may be in another subtask's transaction), then a stop.
            w.write(moved(extended, extended.startsAtMs() + MINUTE_MS, extended.endsAtMs() + MINUTE_MS, 2), null);
            assertRetriedThenStopped(committer, prepareOne(w), "no RESCHEDULED ledger line of the round moves it");
        }
        assertThat(Sql.count(db, "SELECT config_version FROM round WHERE round_id = 1")).isOne();
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM payout")).isOne();
    }

    @Test
    void shouldAddARoundWithItsTiersAndPayItsPayoutsInTheSameCheckpoint() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("added_round");
        Round nine = added(9, 5_000_000);
        for (int attempt = 0; attempt < 2; attempt++) { // the second is a replay of the same checkpoint's rows
            try (SettlementWriter w = writer(db, 0, 1, attempt); SettlementCommitter committer = committer(db)) {
                // Payouts first (batch size 2: a batch reaches the database before the round does), then the round.
                for (int n = 1; n <= 3; n++) {
                    w.write(Records.payout(9, n), null);
                }
                w.write(roundAdded("12", nine), null);
                w.write(nine, null);
                SettlementCommittable c = prepareOne(w);
                assertThat(c.payouts()).isEqualTo(attempt == 0 ? 3 : 0);
                assertThat(c.roundConfigs()).containsExactly(nine);
                commit(committer, c);
                assertThat(w.rowsQuarantined()).isZero();
                assertThat(w.duplicateRowsSkipped()).isEqualTo(attempt == 0 ? 0 : 4);
            }
        }
        assertThat(Sql.strings(db, "SELECT budget_fen || ' v' || config_version FROM round WHERE round_id = 9"))
                .containsExactly("5000000 v1");
        assertThat(Sql.strings(db, "SELECT tier_id || ' ' || name || ' ' || min_fen || '-' || max_fen || ' ' || count_cap "
                + "FROM prize_tier WHERE round_id = 9 ORDER BY tier_id"))
                .containsExactly("1 tier 1 1-1000 1000000", "2 tier 2 1-1000 1000000");
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM payout WHERE round_id = 9")).isEqualTo(3);
        assertThat(reconcile(db).passed()).isTrue();
    }

    @Test
    void shouldCarryTheRowsOfARoundAddedInAnotherSubtaskToALaterCheckpoint() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("added_elsewhere");
        Round nine = added(9, 5_000_000);
        byte[] state;
        SettlementCommittable lineOnly;
        try (SettlementWriter w0 = writer(db, 0, 2, 0); SettlementWriter w1 = writer(db, 1, 2, 0)) {
            // Subtask 0 has the ROUND_ADDED line; subtask 1 the round's config and its payouts.
            w0.write(roundAdded("12", nine), null);
            w1.write(nine, null);
            for (int n = 1; n <= 3; n++) {
                w1.write(Records.payout(9, n), null);
            }
            lineOnly = prepareOne(w0);
            assertThat(w1.prepareCommit()).as("nothing it could write yet").isEmpty();
            List<WaitingRows> waiting = w1.snapshotState(1);
            assertThat(waiting).singleElement().satisfies(s -> {
                assertThat(s.rounds()).extracting(WaitingRows.Waiting::row).containsExactly(nine);
                assertThat(s.payouts()).hasSize(3);
            });
            state = WaitingRows.Serializer.INSTANCE.serialize(waiting.get(0));
        }
        try (SettlementCommitter committer = committer(db)) {
            commit(committer, lineOnly); // checkpoint 1 completes
            // Subtask 1 restored from checkpoint 1 with its state: the round and its payouts go in now.
            WaitingRows restored = WaitingRows.Serializer.INSTANCE.deserialize(2, state);
            try (SettlementWriter w1 = new SettlementWriter(options(EmbeddedSettlementDb.asJob(db)), 1, 2, 1, null,
                    List.of(restored))) {
                SettlementCommittable c = prepareOne(w1);
                assertThat(c.payouts()).isEqualTo(3);
                assertThat(c.roundConfigs()).containsExactly(nine);
                commit(committer, c);
                assertThat(w1.snapshotState(2)).isEmpty();
            }
        }
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM payout WHERE round_id = 9")).isEqualTo(3);
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM prize_tier WHERE round_id = 9")).isEqualTo(2);
        assertThat(reconcile(db).passed()).isTrue();
    }

    @Test
    void shouldQuarantinePayoutsOfARoundThatNeverAppearsAndStopOnARoundWithoutItsLine() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("never_added");
        try (SettlementWriter w = writer(db, 0, 1, 0)) {
            w.write(Records.payout(9, 1), null);
            for (int k = 0; k < SettlementWriter.ROUND_WAIT_CHECKPOINTS; k++) {
                assertThat(w.prepareCommit()).isEmpty();
                assertThat(w.snapshotState(k + 1)).singleElement().extracting(s -> s.payouts().size()).isEqualTo(1);
            }
            SettlementCommittable c = prepareOne(w);
            assertThat(w.rowsQuarantined()).isOne();
            commit(committer(db), c);

            w.write(added(9, 5_000_000), null);
            for (int k = 0; k < SettlementWriter.ROUND_WAIT_CHECKPOINTS; k++) {
                assertThat(w.prepareCommit()).isEmpty();
            }
            assertThatThrownBy(w::prepareCommit).isInstanceOf(SuppressRestartsException.class)
                    .rootCause().hasMessageContaining("no ROUND_ADDED ledger line of it became visible");
        }
        assertThat(Sql.strings(db, "SELECT row_key || ' ' || reason FROM settlement_quarantine"))
                .containsExactly("r9-" + Records.eventId(1) + " UNKNOWN_TIER");
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM round WHERE round_id = 9")).isZero();
    }

    @Test
    void shouldStopWithoutRestartsOnAnAddedRoundBeyondTheCampaignAsOnARaiseBeyondIt() throws Exception {
        // Rounds 1 and 2 hold 20,000,000 fen of the campaign's 100,000,000.
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("added_beyond_campaign");
        Round big = added(9, 80_000_001);
        for (LedgerEntry line : List.of(roundAdded("12", big), new LedgerEntry("change-13", 1, "BUDGET_RAISED",
                80_000_001, 90_000_001, "raise", Records.ROUND_START_MS, "hongbao.control/0/13"))) {
            try (SettlementWriter w = writer(db, 0, 1, 0)) {
                w.write(line, null);
                w.write(Records.payout(1, 1), null);
                assertThatThrownBy(w::prepareCommit).as(line.kind()).isInstanceOf(SuppressRestartsException.class)
                        .rootCause().hasMessageContaining("above the campaign's total");
            }
        }
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM round")).isEqualTo(2);
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM round_ledger")).isZero();
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM payout")).isZero();
        assertThat(Sql.preparedGids(db)).isEmpty();
    }

    @Test
    void shouldRefuseToStartWithoutPreparedTransactions() throws Exception {
        try (EmbeddedPostgres plain = EmbeddedPostgres.builder().start()) { // max_prepared_transactions = 0
            SettlementDatabase db = SettlementDatabase.of(
                    "jdbc:postgresql://localhost:" + plain.getPort() + "/postgres", "postgres", null);

            assertThatThrownBy(() -> new SettlementWriter(options(db), 0, 1, 0))
                    .isInstanceOf(TwoPhaseCommitUnavailableException.class)
                    .hasMessageContaining("max_prepared_transactions = 0");
        }
    }
}
