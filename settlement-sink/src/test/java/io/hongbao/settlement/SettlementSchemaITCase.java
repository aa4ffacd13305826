package io.hongbao.settlement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hongbao.settlement.testing.EmbeddedSettlementDb;
import io.hongbao.settlement.testing.Sql;
import org.junit.jupiter.api.Test;

class SettlementSchemaITCase {

    @Test
    void shouldCreateTheSchemaInAnEmptyDatabase() {
        SettlementDatabase db = EmbeddedSettlementDb.emptyDatabase("schema_empty");

        int applied = SettlementSchema.migrate(db);

        assertThat(applied).isPositive();
        assertThat(Sql.strings(db, """
                SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'
                AND table_name <> 'flyway_schema_history' ORDER BY table_name"""))
                .containsExactly("campaign", "interaction_channel", "interaction_count", "interaction_minute",
                        "interaction_region", "interaction_round", "payout", "payout_minute", "payout_tally",
                        "prize_tier", "reconciliation_check_rule", "reconciliation_round", "reconciliation_summary",
                        "reconciliation_tier", "reconciliation_violation", "rejected_count", "round",
                        "round_budget_history", "round_ledger", "round_paid", "round_schedule",
                        "round_schedule_change", "settled_minute", "settlement_commit",
                        "settlement_lost_transaction", "settlement_prepared_pending", "settlement_quarantine",
                        "settlement_quarantine_count", "tier_paid");
    }

    @Test
    void shouldBeIdempotent() {
        SettlementDatabase db = EmbeddedSettlementDb.emptyDatabase("schema_twice");

        SettlementSchema.migrate(db);
        int second = SettlementSchema.migrate(db.jdbcUrl(), db.user(), db.password());

        assertThat(second).isZero();
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM flyway_schema_history WHERE success")).isPositive();
    }

    @Test
    void shouldEnforceTheMoneyRulesInTheSchema() {
        SettlementDatabase db = EmbeddedSettlementDb.migratedGala("schema_rules"); // rounds 1, 2; tiers 1..1000 fen
        String insert = "INSERT INTO payout (payout_id, round_id, tier_id, user_id, amount_fen, event_id, kafka_topic, "
                + "kafka_partition, kafka_offset, shake_event_time) VALUES ";
        String event = "0123456789abcdef0123456789abcdef";

        assertThatThrownBy(() -> Sql.execute(db, insert + "('r1-" + event + "', 1, 7, 7, 0, '" + event
                + "', 't', 0, 0, now())")).rootCause().hasMessageContaining("payout_amount_fen_check");
        assertThatThrownBy(() -> Sql.execute(db, insert + "('r1-" + event + "', 1, 1, 7, 0, '" + event
                + "', 't', 0, 0, now())")).rootCause().hasMessageContaining("pays 0 fen, outside tier 1 of round 1");
        assertThatThrownBy(() -> Sql.execute(db, insert + "('r2-" + event + "', 1, 1, 7, 10, '" + event
                + "', 't', 0, 0, now())")).rootCause().hasMessageContaining("payout_id_derived");
        assertThatThrownBy(() -> Sql.execute(db, insert + "('r9-" + event + "', 9, 1, 7, 10, '" + event
                + "', 't', 0, 0, now())")).rootCause().hasMessageContaining("payout_round_fk");
        assertThatThrownBy(() -> Sql.execute(db, insert + "('r1-" + event + "', 1, 7, 7, 10, '" + event
                + "', 't', 0, 0, now())")).rootCause().hasMessageContaining("payout_tier_fk");
        assertThatThrownBy(() -> Sql.execute(db, insert + "('r1-" + event + "', 1, 1, 7, 1001, '" + event
                + "', 't', 0, 0, now())")).rootCause()
                .hasMessageContaining("pays 1001 fen, outside tier 1 of round 1 (1 to 1000 fen)");
        Sql.execute(db, insert + "('r1-" + event + "', 1, 1, 7, 1000, '" + event + "', 't', 0, 0, now())");
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM payout")).isOne();
    }
}
