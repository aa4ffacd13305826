package io.hongbao.settlement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.fail;

import io.hongbao.settlement.testing.EmbeddedSettlementDb;
import io.hongbao.settlement.testing.Records;
import io.hongbao.settlement.testing.Sql;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The roles the migrations create, exercised through real login users that are members of them: what the
 * job may write, that nobody (the job, the readers, not even the tables' owner) can rewrite a payout, and
 * that the readers can write nothing at all.
 */
class DatabaseRolesITCase {
    private static final String INSUFFICIENT_PRIVILEGE = "42501";
    private static final String PAYOUT = "INSERT INTO payout (payout_id, round_id, tier_id, user_id, amount_fen, "
            + "event_id, kafka_topic, kafka_partition, kafka_offset, shake_event_time) VALUES ('r1-%1$s', 1, 1, 7, %2$d, "
            + "'%1$s', 'hongbao.shakes', 0, %3$d, now())";

    private static String payout(long n, long amountFen) {
        return String.format(PAYOUT, Records.eventId(n), amountFen, n);
    }

    @Test
    void shouldCreateTheGroupRolesWithoutLoginOrSuperpowers() {
        SettlementDatabase db = EmbeddedSettlementDb.migratedDatabase("roles_made");
        SettlementSchema.migrate(EmbeddedSettlementDb.emptyDatabase("roles_again")); // roles exist: still migrates

        assertThat(Sql.strings(db, "SELECT rolname || ' ' || rolcanlogin || ' ' || rolsuper || ' ' || rolcreaterole"
                + " || ' ' || rolcreatedb FROM pg_roles WHERE rolname LIKE 'hongbao\\_%' ORDER BY rolname"))
                .containsExactly("hongbao_finance false false false false", "hongbao_grafana false false false false",
                        "hongbao_writer false false false false");
    }

    @Test
    void shouldLetTheJobWriteOnlyThroughItsFunctionsAndNeverRewrite() {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("roles_writer");
        SettlementDatabase job = EmbeddedSettlementDb.asJob(db);

        // Its write path (V12): the functions; a budget moves with its ledger line.
        Sql.execute(job, "SELECT settlement_write_payouts('{r1-" + Records.eventId(1) + "}', '{1}', '{1}', '{7}', "
                + "'{100}', '{" + Records.eventId(1) + "}', '{hongbao.shakes}', '{0}', '{1}', '{0}')",
                "SELECT settlement_write_ledger('{raise-1}', '{1}', '{BUDGET_RAISED}', '{1}', '{10000001}', '{test}', "
                        + "'{0}', '{test}')");
        Sql.execute(job, "SELECT settlement_apply_round_config(1, 10000001, true, 1)");
        // No table directly.
        assertThat(sqlState(job, payout(2, 100))).isEqualTo(INSUFFICIENT_PRIVILEGE);
        assertThat(sqlState(job, "UPDATE round SET budget_fen = budget_fen + 1, paused = true, config_version = 2 "
                + "WHERE round_id = 1")).isEqualTo(INSUFFICIENT_PRIVILEGE);

        assertThat(sqlState(job, "UPDATE payout SET amount_fen = 1")).isEqualTo(INSUFFICIENT_PRIVILEGE);
        assertThat(sqlState(job, "DELETE FROM payout")).isEqualTo(INSUFFICIENT_PRIVILEGE);
        assertThat(sqlState(job, "TRUNCATE payout")).isEqualTo(INSUFFICIENT_PRIVILEGE);
        assertThat(sqlState(job, "UPDATE round_ledger SET amount_fen = 0")).isEqualTo(INSUFFICIENT_PRIVILEGE);
        assertThat(sqlState(job, "DELETE FROM settlement_commit")).isEqualTo(INSUFFICIENT_PRIVILEGE);
        // Reference data: a tier's range and a round's window are not the job's to move.
        assertThat(sqlState(job, "UPDATE prize_tier SET max_fen = 1000000")).isEqualTo(INSUFFICIENT_PRIVILEGE);
        assertThat(sqlState(job, "UPDATE round SET ends_at = ends_at + interval '1 day'"))
                .isEqualTo(INSUFFICIENT_PRIVILEGE);
        assertThat(sqlState(job, "DELETE FROM round")).isEqualTo(INSUFFICIENT_PRIVILEGE);
        // Nor the schema, nor switching the protection off.
        assertThat(sqlState(job, "ALTER TABLE payout DISABLE TRIGGER USER")).isEqualTo(INSUFFICIENT_PRIVILEGE);
        assertThat(sqlState(job, "DROP TABLE payout")).isEqualTo(INSUFFICIENT_PRIVILEGE);
        assertThat(sqlState(job, "CREATE TABLE shadow_payout (id INT)")).isEqualTo(INSUFFICIENT_PRIVILEGE);
        assertThat(sqlState(job, "SET session_replication_role = replica")).isEqualTo(INSUFFICIENT_PRIVILEGE);
        // It does not read payouts either (only the columns its duplicate comparison needs): reconciling is finance's.
        assertThat(sqlState(job, "SELECT * FROM payout")).isEqualTo(INSUFFICIENT_PRIVILEGE);
        // Quarantine: through its function only, never rewritten, not read back.
        Sql.execute(job, "SELECT settlement_write_quarantine('payout', 'r1-x', NULL, 'KEY_LOCKED', 'test', '{}', NULL, "
                + "NULL, 't/0/1', 'payouts', 0)");
        for (String rewrite : List.of("UPDATE settlement_quarantine SET reason = 'KEY_LOCKED'",
                "DELETE FROM settlement_quarantine", "TRUNCATE settlement_quarantine", "SELECT * FROM settlement_quarantine")) {
            assertThat(sqlState(job, rewrite)).as(rewrite).isEqualTo(INSUFFICIENT_PRIVILEGE);
        }
        assertThat(sqlState(db, "DELETE FROM settlement_quarantine")).as("owner: append-only")
                .isEqualTo(INSUFFICIENT_PRIVILEGE);

        assertThat(Sql.strings(db, "SELECT amount_fen || ' ' || user_id FROM payout")).containsExactly("100 7");
        assertThat(Sql.strings(db, "SELECT budget_fen || ' ' || paused FROM round WHERE round_id = 1"))
                .containsExactly("10000001 true");
    }

    @Test
    void shouldRefuseToRewriteAPayoutEvenForTheTablesOwner() {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("roles_owner"); // connects as postgres
        Sql.execute(db, payout(1, 100), "INSERT INTO round_ledger (entry_id, round_id, kind, amount_fen, "
                + "budget_fen_after, effective_at, source) VALUES ('e1', 1, 'CONFIGURED', 5, 5, now(), 'test')");

        for (String rewrite : List.of("UPDATE payout SET amount_fen = 1000", "DELETE FROM payout", "TRUNCATE payout",
                "UPDATE round_ledger SET amount_fen = 0", "DELETE FROM round_ledger", "TRUNCATE round_ledger CASCADE")) {
            assertThat(sqlState(db, rewrite)).as(rewrite).isEqualTo(INSUFFICIENT_PRIVILEGE);
        }
        assertThat(Sql.strings(db, "SELECT amount_fen::text FROM payout")).containsExactly("100");
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM round_ledger")).isOne();
    }

    @ParameterizedTest
    @ValueSource(strings = {"hongbao_finance", "hongbao_grafana"})
    void shouldLetTheReadersWriteNothing(String role) {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("roles_" + role.substring(8));
        Sql.execute(db, payout(1, 100));
        SettlementDatabase reader = EmbeddedSettlementDb.asMemberOf(db, role);

        List<String> relations = Sql.strings(db, "SELECT c.relname FROM pg_class c JOIN pg_namespace n "
                + "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v') ORDER BY 1");
        assertThat(relations).contains("payout", "round", "interaction_count", "round_paid");
        for (String relation : relations) {
            assertThat(Sql.strings(reader, "SELECT has_table_privilege('" + relation + "', "
                    + "'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')::text"))
                    .as("%s may change %s", role, relation).containsExactly("false");
        }
        for (String table : Sql.strings(db, "SELECT table_name FROM information_schema.tables "
                + "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1")) {
            assertThat(sqlState(reader, "DELETE FROM " + table)).as("DELETE FROM %s", table)
                    .isEqualTo(INSUFFICIENT_PRIVILEGE);
            assertThat(sqlState(reader, "INSERT INTO " + table + " DEFAULT VALUES")).as("INSERT INTO %s", table)
                    .isEqualTo(INSUFFICIENT_PRIVILEGE);
        }
        assertThat(sqlState(reader, "UPDATE round SET budget_fen = 0")).isEqualTo(INSUFFICIENT_PRIVILEGE);
        assertThat(sqlState(reader, "CREATE TABLE mine (id INT)")).isEqualTo(INSUFFICIENT_PRIVILEGE);
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM payout")).isOne();
    }

    @Test
    void shouldLetFinanceReadEverySettlementAndAnalyticsRelation() {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("roles_finance_reads");
        SettlementDatabase finance = EmbeddedSettlementDb.asMemberOf(db, "hongbao_finance");

        // Every table and view a migration creates must be readable by finance: a new one without a grant fails here.
        assertThat(Sql.strings(finance, "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                + "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v') AND c.relname <> 'flyway_schema_history' "
                + "AND NOT has_table_privilege(c.oid, 'SELECT')")).isEmpty();
        assertThatCode(() -> Sql.strings(finance, "SELECT payout_id FROM payout")).doesNotThrowAnyException();
    }

    @Test
    void shouldShowGrafanaAggregatesButNoPerUserRows() {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("roles_grafana_reads");
        Sql.execute(db, payout(1, 100));
        SettlementDatabase grafana = EmbeddedSettlementDb.asMemberOf(db, "hongbao_grafana");

        assertThat(Sql.count(grafana, "SELECT paid_fen FROM round_paid WHERE round_id = 1")).isEqualTo(100);
        assertThat(Sql.count(grafana, "SELECT COUNT(*) FROM tier_paid")).isEqualTo(4);
        assertThat(Sql.count(grafana, "SELECT COUNT(*) FROM interaction_round")).isZero();
        assertThat(sqlState(grafana, "SELECT user_id FROM payout")).isEqualTo(INSUFFICIENT_PRIVILEGE);
        assertThat(sqlState(grafana, "SELECT * FROM round_ledger")).isEqualTo(INSUFFICIENT_PRIVILEGE);
        assertThat(sqlState(grafana, "SELECT * FROM settlement_quarantine")).isEqualTo(INSUFFICIENT_PRIVILEGE);
        assertThat(Sql.count(grafana, "SELECT COALESCE(SUM(quarantined_rows), 0) FROM settlement_quarantine_count"))
                .isZero();
    }

    /** The SQLSTATE {@code sql} fails with as {@code db}'s user; fails the test when it succeeds. */
    private static String sqlState(SettlementDatabase db, String sql) {
        String state = Sql.sqlState(db, sql);
        return state != null ? state : fail("expected %s to fail as %s", sql, db.user());
    }
}
