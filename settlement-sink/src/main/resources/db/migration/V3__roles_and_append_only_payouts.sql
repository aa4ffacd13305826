-- hongbao settlement, version 3: who may do what, and payouts that nobody can rewrite.
-- See settlement-sink/README.md ("Security").
--
-- Roles are cluster-wide while this migration runs once per database (tests create many databases on one
-- server, possibly concurrently): create the NOLOGIN group roles only when missing, and tolerate a
-- concurrent creator. Login users are made members by operators (bin/run-local does it locally):
--   CREATE ROLE hongbao_job LOGIN PASSWORD '...' IN ROLE hongbao_writer;
DO $$
DECLARE
    r TEXT;
BEGIN
    FOREACH r IN ARRAY ARRAY['hongbao_writer', 'hongbao_finance', 'hongbao_grafana'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL; -- another database's migration created it a moment ago
            END;
        END IF;
    END LOOP;
END $$;

-- Nothing for PUBLIC: every right below is granted to a named role.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO hongbao_writer, hongbao_finance, hongbao_grafana;

-- The job (writer, committer, orphan cleanup, interaction counts). Payouts, ledger lines and commit markers
-- are insert-only; of the round only the columns live changes move are updatable; tiers are reference data.
GRANT INSERT ON payout, round_ledger TO hongbao_writer;
-- Only the key columns: PostgreSQL names the duplicate key in a unique violation only to a role that may read
-- it, and the writer's "payout X was written twice" needs that name.
GRANT SELECT (payout_id, round_id, event_id) ON payout TO hongbao_writer;
GRANT SELECT (entry_id) ON round_ledger TO hongbao_writer;
GRANT SELECT, INSERT ON settlement_commit, settlement_lost_transaction, prize_tier TO hongbao_writer;
GRANT SELECT, INSERT ON round TO hongbao_writer;
GRANT UPDATE (budget_fen, paused, config_version, updated_at) ON round TO hongbao_writer;
GRANT SELECT, INSERT ON rejected_count TO hongbao_writer;
GRANT UPDATE (records, updated_at) ON rejected_count TO hongbao_writer;
GRANT SELECT, INSERT ON interaction_count TO hongbao_writer;
GRANT UPDATE (shakes, updated_at) ON interaction_count TO hongbao_writer;
-- So that the job's --migrate on an up-to-date schema is a check that passes (it cannot apply anything).
GRANT SELECT ON flyway_schema_history TO hongbao_writer;

-- Finance: reads everything it reconciles, writes nothing.
GRANT SELECT ON round, prize_tier, payout, round_ledger, rejected_count, settlement_commit,
    settlement_lost_transaction, round_paid, tier_paid, interaction_count, interaction_round, interaction_minute,
    interaction_channel, interaction_region TO hongbao_finance;

-- Grafana: aggregates only, no per-user rows (payout and round_ledger stay out).
GRANT SELECT ON round, prize_tier, rejected_count, round_paid, tier_paid, interaction_count, interaction_round,
    interaction_minute, interaction_channel, interaction_region TO hongbao_grafana;

-- Payouts must belong to a configured round and tier. Rounds and tiers are reference data registered before
-- the job writes (io.hongbao.settlement.RoundCatalog); the job then only updates non-key columns of a round,
-- which (FOR NO KEY UPDATE) does not conflict with the KEY SHARE lock a payout insert takes, also when that
-- insert sits in a prepared transaction.
ALTER TABLE payout
    ADD CONSTRAINT payout_round_fk FOREIGN KEY (round_id) REFERENCES round (round_id),
    ADD CONSTRAINT payout_tier_fk FOREIGN KEY (round_id, tier_id) REFERENCES prize_tier (round_id, tier_id);
-- round_ledger has no such key: a refused change may name a round nobody configured, and says so.

-- A payout's amount lies within its tier's range. A CHECK cannot see another table, hence a trigger.
CREATE FUNCTION payout_amount_within_tier() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    lo BIGINT;
    hi BIGINT;
BEGIN
    SELECT min_fen, max_fen INTO lo, hi FROM prize_tier WHERE round_id = NEW.round_id AND tier_id = NEW.tier_id;
    -- No tier: the foreign key (checked after this trigger) refuses the row with its own message.
    IF FOUND AND (NEW.amount_fen < lo OR NEW.amount_fen > hi) THEN
        RAISE EXCEPTION 'payout % pays % fen, outside tier % of round % (% to % fen)', NEW.payout_id,
            NEW.amount_fen, NEW.tier_id, NEW.round_id, lo, hi
            USING ERRCODE = 'check_violation', CONSTRAINT = 'payout_amount_within_tier', TABLE = 'payout';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER payout_amount_within_tier BEFORE INSERT ON payout
    FOR EACH ROW EXECUTE FUNCTION payout_amount_within_tier();

-- Append-only: no UPDATE, DELETE or TRUNCATE, whoever asks (also the table owner; only a superuser can
-- switch triggers off). Privileges already keep the job out; the trigger also stops an admin's slip.
-- A correction is a new, compensating row (see the README), never an edit.
CREATE FUNCTION settlement_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused (a correction is a new compensating row, never an edit)',
        TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege', TABLE = TG_TABLE_NAME;
END $$;
CREATE TRIGGER payout_append_only BEFORE UPDATE OR DELETE ON payout
    FOR EACH ROW EXECUTE FUNCTION settlement_append_only();
CREATE TRIGGER payout_no_truncate BEFORE TRUNCATE ON payout
    FOR EACH STATEMENT EXECUTE FUNCTION settlement_append_only();
CREATE TRIGGER round_ledger_append_only BEFORE UPDATE OR DELETE ON round_ledger
    FOR EACH ROW EXECUTE FUNCTION settlement_append_only();
CREATE TRIGGER round_ledger_no_truncate BEFORE TRUNCATE ON round_ledger
    FOR EACH STATEMENT EXECUTE FUNCTION settlement_append_only();
CREATE TRIGGER settlement_commit_append_only BEFORE UPDATE OR DELETE ON settlement_commit
    FOR EACH ROW EXECUTE FUNCTION settlement_append_only();
CREATE TRIGGER settlement_commit_no_truncate BEFORE TRUNCATE ON settlement_commit
    FOR EACH STATEMENT EXECUTE FUNCTION settlement_append_only();
