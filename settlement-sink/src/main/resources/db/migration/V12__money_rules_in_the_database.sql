-- hongbao settlement, version 12: the database guards the money itself, whatever the job's login does.
-- See settlement-sink/README.md ("Money rules in the database" and "Security").
--
-- 1. The job's login writes only through the SECURITY DEFINER functions below (owned by the schema owner, who
--    migrates); it has no INSERT or UPDATE on any table. Each function writes only what its caller in the job
--    writes, and checks the per-row rules as it writes: a payout of an unknown tier, or outside its tier's range,
--    is not written and comes back refused (the writer quarantines it).
-- 2. The aggregate rules (a round's paid total within the budget in force, a tier's count within its cap, each
--    user's wins per round and fen per gala) are deferred constraint triggers: PostgreSQL runs them at PREPARE
--    TRANSACTION (or COMMIT), after the transaction's last payout, on everything the transaction can see.
-- 3. A round's budget changes only with a ledger line that sets it, and the sum of the rounds' budgets never
--    exceeds the campaign's total (one `campaign` row, registered with the rounds by RoundCatalog).
-- 4. Nobody but the owner may connect to this database unless granted (sql/logins.sql grants CONNECT per login),
--    and nobody may create temporary tables here or objects in schema public.

-- The column holds the winning shake's event time (gateway timestamp), not a decision's wall-clock time. Views
-- that read it (V10's payout_minute) follow the rename.
ALTER TABLE payout RENAME COLUMN decided_at TO shake_event_time;

-- ---------------------------------------------------------------------------------------------------------------
-- Reference data: the campaign and its total budget.

CREATE TABLE campaign (
    -- One row per database: a settlement database holds one campaign.
    singleton     BOOLEAN     PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    name          TEXT        NOT NULL CHECK (name <> ''),
    budget_fen    BIGINT      NOT NULL CHECK (budget_fen > 0),
    registered_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TRIGGER campaign_append_only BEFORE UPDATE OR DELETE ON campaign
    FOR EACH ROW EXECUTE FUNCTION settlement_append_only();
CREATE TRIGGER campaign_no_truncate BEFORE TRUNCATE ON campaign
    FOR EACH STATEMENT EXECUTE FUNCTION settlement_append_only();

-- Ledger kinds that set a round's budget (the others carry the budget as it stood, for the record).
CREATE FUNCTION settlement_is_budget_kind(kind TEXT) RETURNS BOOLEAN LANGUAGE sql IMMUTABLE
    RETURN kind IN ('CONFIGURED', 'BUDGET_RAISED', 'BUDGET_LOWERED');

-- The budget a round's payouts are held to: the round row's (moved by the committer after COMMIT PREPARED) or,
-- when higher, that of the newest budget line this transaction sees. A raise's line is written in the same
-- prepared transaction as the payouts it allows, while the round row follows only after the commit.
CREATE FUNCTION settlement_budget_in_force(r INT) RETURNS BIGINT LANGUAGE sql STABLE
    SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT GREATEST(ro.budget_fen,
                    (SELECT l.budget_fen_after FROM round_ledger l
                     WHERE l.round_id = r AND settlement_is_budget_kind(l.kind)
                     ORDER BY l.committed_at DESC, l.effective_at DESC, l.entry_id DESC LIMIT 1))
    FROM round ro WHERE ro.round_id = r
$$;

-- The campaign's total holds for the budgets in force of all rounds (raises included, whether applied to the
-- round row or only written as a ledger line). No campaign registered: no budget may be set at all.
CREATE FUNCTION settlement_check_campaign() RETURNS VOID LANGUAGE plpgsql
    SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    cap   BIGINT;
    total NUMERIC;
BEGIN
    SELECT budget_fen INTO cap FROM campaign;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no campaign is registered in this database: round budgets cannot be set (RoundCatalog '
            'registers the campaign with its rounds)' USING ERRCODE = 'HB202';
    END IF;
    SELECT COALESCE(SUM(settlement_budget_in_force(round_id)), 0) INTO total FROM round;
    IF total > cap THEN
        RAISE EXCEPTION 'the rounds'' budgets would add up to % fen, above the campaign''s total of % fen', total, cap
            USING ERRCODE = 'HB202', TABLE = 'campaign';
    END IF;
END $$;

-- A new round, and a budget line, must fit the campaign.
CREATE FUNCTION round_within_campaign() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    PERFORM settlement_check_campaign();
    RETURN NULL;
END $$;
CREATE TRIGGER round_within_campaign AFTER INSERT ON round
    FOR EACH ROW EXECUTE FUNCTION round_within_campaign();
CREATE TRIGGER round_ledger_within_campaign AFTER INSERT ON round_ledger
    FOR EACH ROW WHEN (settlement_is_budget_kind(NEW.kind)) EXECUTE FUNCTION round_within_campaign();

-- A round's budget moves only to a value a visible ledger line of the round sets (the line is written in the
-- checkpoint's prepared transaction; the committer moves the budget after COMMIT PREPARED), and within the
-- campaign. The window, win rate and user caps never change: they are reference data.
CREATE FUNCTION round_budget_with_ledger_line() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF (NEW.name, NEW.starts_at, NEW.ends_at, NEW.win_per_million, NEW.wins_per_round, NEW.fen_per_gala)
            IS DISTINCT FROM (OLD.name, OLD.starts_at, OLD.ends_at, OLD.win_per_million, OLD.wins_per_round,
                              OLD.fen_per_gala) OR NEW.round_id <> OLD.round_id THEN
        RAISE EXCEPTION 'round %: only budget, pause and config version may change (the rest is reference data)',
            OLD.round_id USING ERRCODE = 'HB203', TABLE = 'round';
    END IF;
    IF NEW.budget_fen <> OLD.budget_fen THEN
        IF NOT EXISTS (SELECT 1 FROM round_ledger l WHERE l.round_id = NEW.round_id
                       AND settlement_is_budget_kind(l.kind) AND l.budget_fen_after = NEW.budget_fen) THEN
            RAISE EXCEPTION 'round % budget % -> % fen refused: no ledger line sets it (a budget changes only with '
                'its round_ledger line)', OLD.round_id, OLD.budget_fen, NEW.budget_fen
                USING ERRCODE = 'HB201', TABLE = 'round';
        END IF;
        IF NEW.budget_fen > OLD.budget_fen THEN
            PERFORM settlement_check_campaign();
        END IF;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER round_budget_with_ledger_line AFTER UPDATE ON round
    FOR EACH ROW EXECUTE FUNCTION round_budget_with_ledger_line();
CREATE TRIGGER prize_tier_append_only BEFORE UPDATE OR DELETE ON prize_tier
    FOR EACH ROW EXECUTE FUNCTION settlement_append_only();

-- ---------------------------------------------------------------------------------------------------------------
-- Aggregate rules, checked at PREPARE.
--
-- The trigger functions are SECURITY DEFINER too: a deferred trigger fires at PREPARE, outside the function that
-- wrote the row, as the job's login, which may read none of the tables the checks read.
--
-- Every INSERT into payout appends, per (round, tier) it touched, one row here: count, fen and the users paid,
-- written by a statement trigger in the inserting transaction (so a rolled-back transaction leaves none). Sums
-- over these rows are what the payouts table would give, at a fraction of the rows, and each row carries its
-- transaction's id for the commit marker's check.
CREATE TABLE payout_tally (
    tally_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    round_id INT      NOT NULL,
    tier_id  INT      NOT NULL,
    payouts  BIGINT   NOT NULL CHECK (payouts > 0),
    paid_fen BIGINT   NOT NULL CHECK (paid_fen > 0),
    user_ids BIGINT[] NOT NULL,
    -- The top-level transaction (txid_current() is the same inside savepoints).
    txid     BIGINT   NOT NULL DEFAULT txid_current()
);
-- The sums read the index alone where the visibility map allows.
CREATE INDEX payout_tally_round_idx ON payout_tally (round_id, tier_id) INCLUDE (payouts, paid_fen);
CREATE INDEX payout_tally_txid_idx ON payout_tally (txid);
CREATE TRIGGER payout_tally_append_only BEFORE UPDATE OR DELETE ON payout_tally
    FOR EACH ROW EXECUTE FUNCTION settlement_append_only();
CREATE TRIGGER payout_tally_no_truncate BEFORE TRUNCATE ON payout_tally
    FOR EACH STATEMENT EXECUTE FUNCTION settlement_append_only();
INSERT INTO payout_tally (round_id, tier_id, payouts, paid_fen, user_ids)
SELECT round_id, tier_id, COUNT(*), SUM(amount_fen), array_agg(DISTINCT user_id) FROM payout GROUP BY round_id, tier_id;

CREATE FUNCTION payout_tally_statement() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    INSERT INTO payout_tally (round_id, tier_id, payouts, paid_fen, user_ids)
    SELECT round_id, tier_id, COUNT(*), SUM(amount_fen), array_agg(DISTINCT user_id)
    FROM new_payouts GROUP BY round_id, tier_id;
    RETURN NULL;
END $$;
CREATE TRIGGER payout_tally AFTER INSERT ON payout REFERENCING NEW TABLE AS new_payouts
    FOR EACH STATEMENT EXECUTE FUNCTION payout_tally_statement();

-- Fires once per tally row at PREPARE (deferred). Each check runs once per transaction, at the transaction's last
-- tally row of the round (of the tier; of all, for the users), and covers the whole round / tier / the users the
-- transaction paid, as the transaction sees them. Every tally row fires, so the last one always does; SET
-- CONSTRAINTS ... IMMEDIATE only makes the checks run after each statement, on the rows so far, and again after
-- the next statement that pays.
CREATE FUNCTION payout_tally_within_limits() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    budget BIGINT;
    paid   NUMERIC;
    cap    BIGINT;
    n      NUMERIC;
    users  BIGINT[];
    v      RECORD;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM payout_tally t WHERE t.txid = NEW.txid AND t.round_id = NEW.round_id
                   AND t.tally_id > NEW.tally_id) THEN
        budget := settlement_budget_in_force(NEW.round_id);
        SELECT SUM(paid_fen) INTO paid FROM payout_tally WHERE round_id = NEW.round_id;
        IF budget IS NULL OR paid > budget THEN
            RAISE EXCEPTION 'round % would pay % fen, above its budget in force of % fen', NEW.round_id, paid, budget
                USING ERRCODE = 'HB101', TABLE = 'payout', CONSTRAINT = 'round_within_budget';
        END IF;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM payout_tally t WHERE t.txid = NEW.txid AND t.round_id = NEW.round_id
                   AND t.tier_id = NEW.tier_id AND t.tally_id > NEW.tally_id) THEN
        SELECT count_cap INTO cap FROM prize_tier WHERE round_id = NEW.round_id AND tier_id = NEW.tier_id;
        SELECT SUM(payouts) INTO n FROM payout_tally WHERE round_id = NEW.round_id AND tier_id = NEW.tier_id;
        IF cap IS NULL OR n > cap THEN
            RAISE EXCEPTION 'round % tier % would pay % packets, above its cap of %', NEW.round_id, NEW.tier_id, n, cap
                USING ERRCODE = 'HB102', TABLE = 'payout', CONSTRAINT = 'tier_within_cap';
        END IF;
    END IF;
    IF EXISTS (SELECT 1 FROM payout_tally t WHERE t.txid = NEW.txid AND t.tally_id > NEW.tally_id) THEN
        RETURN NULL;
    END IF;
    users := ARRAY(SELECT DISTINCT u FROM payout_tally t, unnest(t.user_ids) AS u WHERE t.txid = NEW.txid);
    -- One pass over these users' payouts for both caps. fen_per_gala is cumulative over rounds in start order,
    -- against the cap of the round being paid (as Reconciliation reads it).
    SELECT user_id, round_id, wins, wins_per_round, gala_fen, fen_per_gala INTO v
    FROM (SELECT pr.user_id, pr.round_id, pr.wins, r.wins_per_round, r.fen_per_gala,
                 SUM(pr.fen) OVER (PARTITION BY pr.user_id ORDER BY r.starts_at, r.round_id) AS gala_fen
          FROM (SELECT user_id, round_id, COUNT(*) AS wins, SUM(amount_fen) AS fen FROM payout
                WHERE user_id = ANY (users) GROUP BY user_id, round_id) pr
          JOIN round r ON r.round_id = pr.round_id) per_round
    WHERE wins > wins_per_round OR gala_fen > fen_per_gala LIMIT 1;
    IF FOUND AND v.wins > v.wins_per_round THEN
        RAISE EXCEPTION 'user % would win % times in round %, above wins_per_round %', v.user_id, v.wins,
            v.round_id, v.wins_per_round
            USING ERRCODE = 'HB103', TABLE = 'payout', CONSTRAINT = 'user_wins_per_round';
    ELSIF FOUND THEN
        RAISE EXCEPTION 'user % would be paid % fen over the gala by round %, above fen_per_gala %', v.user_id,
            v.gala_fen, v.round_id, v.fen_per_gala
            USING ERRCODE = 'HB104', TABLE = 'payout', CONSTRAINT = 'user_fen_per_gala';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER payout_tally_within_limits AFTER INSERT ON payout_tally
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION payout_tally_within_limits();

-- The per-row rules stay for every writer, the owner's hand-made rows included (V3's trigger checks the range).
-- The commit marker says what its transaction holds, and is checked against it at PREPARE: a marker cannot
-- claim payouts its transaction did not write (say, to pass a rolled-back transaction off as committed).
ALTER TABLE settlement_commit ADD COLUMN txid BIGINT NOT NULL DEFAULT txid_current();
CREATE FUNCTION settlement_commit_matches_transaction() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    n   NUMERIC;
    fen NUMERIC;
BEGIN
    SELECT COALESCE(SUM(payouts), 0), COALESCE(SUM(paid_fen), 0) INTO n, fen FROM payout_tally WHERE txid = NEW.txid;
    IF n <> NEW.payouts OR fen <> NEW.payout_fen THEN
        RAISE EXCEPTION 'commit marker % claims % payouts (% fen), its transaction wrote % (% fen)', NEW.gid,
            NEW.payouts, NEW.payout_fen, n, fen USING ERRCODE = 'HB105', TABLE = 'settlement_commit';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER settlement_commit_matches_transaction AFTER INSERT ON settlement_commit
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION settlement_commit_matches_transaction();

-- Quarantine reasons for the per-row rules the write function refuses.
ALTER TABLE settlement_quarantine DROP CONSTRAINT settlement_quarantine_reason_check;
ALTER TABLE settlement_quarantine ADD CONSTRAINT settlement_quarantine_reason_check
    CHECK (reason IN ('CONFLICTING_CONTENT', 'KEY_LOCKED', 'UNKNOWN_TIER', 'AMOUNT_OUT_OF_RANGE'));

-- ---------------------------------------------------------------------------------------------------------------
-- The job's only write path. SECURITY DEFINER: they run as the schema owner; search_path is fixed (pg_temp last,
-- so no temporary object can stand in for a table).

-- Writer: payouts. One call per batch (arrays, one per column). Returns each row's key and outcome: INSERTED;
-- CONFLICT (a unique key is taken: the writer compares); UNKNOWN_TIER or AMOUNT_OUT_OF_RANGE (not written).
CREATE FUNCTION settlement_write_payouts(p_payout_id TEXT[], p_round_id INT[], p_tier_id INT[], p_user_id BIGINT[],
        p_amount_fen BIGINT[], p_event_id TEXT[], p_kafka_topic TEXT[], p_kafka_partition INT[],
        p_kafka_offset BIGINT[], p_shake_event_time_ms BIGINT[])
    RETURNS TABLE (row_key TEXT, outcome TEXT) LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp AS $$
    WITH v AS (
        SELECT * FROM unnest(p_payout_id, p_round_id, p_tier_id, p_user_id, p_amount_fen, p_event_id, p_kafka_topic,
                             p_kafka_partition, p_kafka_offset, p_shake_event_time_ms)
                      AS v (p, r, t, u, a, e, kt, kp, ko, d)),
    checked AS (
        SELECT v.*, CASE WHEN pt.tier_id IS NULL THEN 'UNKNOWN_TIER'
                         WHEN v.a < pt.min_fen OR v.a > pt.max_fen THEN 'AMOUNT_OUT_OF_RANGE' END AS refused
        FROM v LEFT JOIN prize_tier pt ON pt.round_id = v.r AND pt.tier_id = v.t),
    inserted AS (
        INSERT INTO payout (payout_id, round_id, tier_id, user_id, amount_fen, event_id, kafka_topic,
                            kafka_partition, kafka_offset, shake_event_time)
        SELECT p, r, t, u, a, e, kt, kp, ko, timestamptz 'epoch' + d * interval '1 millisecond'
        FROM checked WHERE refused IS NULL
        ON CONFLICT DO NOTHING RETURNING payout.payout_id)
    SELECT c.p, COALESCE(c.refused, CASE WHEN i.payout_id IS NOT NULL THEN 'INSERTED' ELSE 'CONFLICT' END)
    FROM checked c LEFT JOIN inserted i ON i.payout_id = c.p
$$;

-- Writer: ledger lines. Outcome INSERTED or CONFLICT. A budget line must fit the campaign (trigger above).
CREATE FUNCTION settlement_write_ledger(p_entry_id TEXT[], p_round_id INT[], p_kind TEXT[], p_amount_fen BIGINT[],
        p_budget_fen_after BIGINT[], p_detail TEXT[], p_effective_at_ms BIGINT[], p_source TEXT[])
    RETURNS TABLE (row_key TEXT, outcome TEXT) LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp AS $$
    WITH v AS (
        SELECT * FROM unnest(p_entry_id, p_round_id, p_kind, p_amount_fen, p_budget_fen_after, p_detail,
                             p_effective_at_ms, p_source) AS v (i, r, k, a, b, d, e, s)),
    inserted AS (
        INSERT INTO round_ledger (entry_id, round_id, kind, amount_fen, budget_fen_after, detail, effective_at, source)
        SELECT i, r, k, a, b, d, timestamptz 'epoch' + e * interval '1 millisecond', s FROM v
        ON CONFLICT DO NOTHING RETURNING round_ledger.entry_id)
    SELECT v.i, CASE WHEN n.entry_id IS NOT NULL THEN 'INSERTED' ELSE 'CONFLICT' END
    FROM v LEFT JOIN inserted n ON n.entry_id = v.i
$$;

-- Writer: a refused row.
CREATE FUNCTION settlement_write_quarantine(p_kind TEXT, p_row_key TEXT, p_round_id INT, p_reason TEXT,
        p_detail TEXT, p_row_data JSONB, p_existing_key TEXT, p_existing_row JSONB, p_lineage TEXT,
        p_sink_name TEXT, p_subtask INT)
    RETURNS VOID LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    INSERT INTO settlement_quarantine (kind, row_key, round_id, reason, detail, row_data, existing_key, existing_row,
                                       lineage, sink_name, subtask)
    VALUES (p_kind, p_row_key, p_round_id, p_reason, p_detail, p_row_data, p_existing_key, p_existing_row, p_lineage,
            p_sink_name, p_subtask)
$$;

-- Writer: the commit marker, right before PREPARE TRANSACTION '<gid>'. The gid must spell the marker's fields
-- (TransactionId's format) and not be a prepared transaction already; its counts are checked at PREPARE.
CREATE FUNCTION settlement_write_commit_marker(p_gid TEXT, p_sink_name TEXT, p_subtask INT,
        p_after_checkpoint_id BIGINT, p_attempt_nonce TEXT, p_payouts INT, p_ledger_entries INT, p_payout_fen BIGINT)
    RETURNS VOID LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF NOT starts_with(p_gid, format('hb:%s:%s:%s:%s:', p_sink_name, p_subtask, p_after_checkpoint_id, p_attempt_nonce))
            OR split_part(p_gid, ':', 6) !~ '^[0-9]+$' OR split_part(p_gid, ':', 7) <> '' THEN
        RAISE EXCEPTION 'commit marker gid % does not name sink %, subtask %, checkpoint %, nonce %', p_gid,
            p_sink_name, p_subtask, p_after_checkpoint_id, p_attempt_nonce USING ERRCODE = 'HB106';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_prepared_xacts WHERE gid = p_gid) THEN
        RAISE EXCEPTION 'commit marker %: a transaction with that gid is already prepared', p_gid
            USING ERRCODE = 'HB106';
    END IF;
    INSERT INTO settlement_commit (gid, sink_name, subtask, after_checkpoint_id, attempt_nonce, payouts,
                                   ledger_entries, payout_fen)
    VALUES (p_gid, p_sink_name, p_subtask, p_after_checkpoint_id, p_attempt_nonce, p_payouts, p_ledger_entries,
            p_payout_fen);
END $$;

-- Committer: a lost transaction, only when it is lost: not prepared, and no committed marker.
CREATE FUNCTION settlement_record_lost_transaction(p_gid TEXT, p_sink_name TEXT, p_payouts INT, p_payout_fen BIGINT)
    RETURNS BOOLEAN LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_prepared_xacts WHERE gid = p_gid AND database = current_database())
            OR EXISTS (SELECT 1 FROM settlement_commit WHERE gid = p_gid) THEN
        RAISE EXCEPTION 'transaction % is not lost: it is prepared or committed', p_gid USING ERRCODE = 'HB107';
    END IF;
    INSERT INTO settlement_lost_transaction (gid, sink_name, payouts, payout_fen)
    VALUES (p_gid, p_sink_name, p_payouts, p_payout_fen) ON CONFLICT (gid) DO NOTHING;
    RETURN FOUND;
END $$;

-- Committer: a round's live config (budget, pause, version), newest version wins. Only registered rounds; the
-- budget moves only with its ledger line and within the campaign (round's trigger). True when applied.
CREATE FUNCTION settlement_apply_round_config(p_round_id INT, p_budget_fen BIGINT, p_paused BOOLEAN, p_version INT)
    RETURNS BOOLEAN LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM round WHERE round_id = p_round_id) THEN
        RAISE EXCEPTION 'round % is not registered (RoundCatalog registers rounds before the job pays)', p_round_id
            USING ERRCODE = 'HB203';
    END IF;
    UPDATE round SET budget_fen = p_budget_fen, paused = p_paused, config_version = p_version, updated_at = now()
    WHERE round_id = p_round_id AND config_version <= p_version
      AND (budget_fen, paused, config_version) IS DISTINCT FROM (p_budget_fen, p_paused, p_version);
    RETURN FOUND;
END $$;

-- Committer: a reject total, only ever upwards.
CREATE FUNCTION settlement_apply_reject_count(p_reason TEXT, p_records BIGINT)
    RETURNS VOID LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    INSERT INTO rejected_count AS c (reason, records, updated_at) VALUES (p_reason, p_records, now())
    ON CONFLICT (reason) DO UPDATE SET records = EXCLUDED.records, updated_at = now()
    WHERE c.records < EXCLUDED.records
$$;

-- Interaction counter: absolute totals per cell, only ever upwards (GREATEST semantics), one call per flush.
CREATE FUNCTION settlement_write_interaction_counts(p_round_id INT[], p_minute_start TIMESTAMPTZ[], p_channel TEXT[],
        p_region TEXT[], p_shakes BIGINT[])
    RETURNS VOID LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    INSERT INTO interaction_count AS c (round_id, minute_start, channel, region, shakes, updated_at)
    SELECT r, m, ch, re, s, now() FROM unnest(p_round_id, p_minute_start, p_channel, p_region, p_shakes)
                                       AS v (r, m, ch, re, s)
    ON CONFLICT (round_id, minute_start, channel, region) DO UPDATE SET shakes = EXCLUDED.shakes, updated_at = now()
    WHERE c.shakes < EXCLUDED.shakes
$$;

-- RoundCatalog: the campaign, once. Returns true when it inserted it (the caller compares an existing one).
CREATE FUNCTION settlement_register_campaign(p_name TEXT, p_budget_fen BIGINT)
    RETURNS BOOLEAN LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    INSERT INTO campaign (name, budget_fen) VALUES (p_name, p_budget_fen) ON CONFLICT DO NOTHING;
    IF FOUND THEN
        PERFORM settlement_check_campaign(); -- rounds registered before the campaign must fit it
    END IF;
    RETURN FOUND;
END $$;

-- RoundCatalog: a round, only before the first payout of the database (reference data never grows under a gala
-- that pays), within the campaign. Returns true when inserted; an existing round is left for the caller to compare.
CREATE FUNCTION settlement_register_round(p_round_id INT, p_name TEXT, p_starts_at TIMESTAMPTZ, p_ends_at TIMESTAMPTZ,
        p_budget_fen BIGINT, p_win_per_million INT, p_wins_per_round INT, p_fen_per_gala BIGINT, p_paused BOOLEAN,
        p_config_version INT)
    RETURNS BOOLEAN LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM round WHERE round_id = p_round_id) THEN
        RETURN FALSE;
    END IF;
    IF EXISTS (SELECT 1 FROM payout) THEN
        RAISE EXCEPTION 'round % cannot be registered: this database has paid already (reference data is registered '
            'before the first payout)', p_round_id USING ERRCODE = 'HB203';
    END IF;
    INSERT INTO round (round_id, name, starts_at, ends_at, budget_fen, win_per_million, wins_per_round, fen_per_gala,
                       paused, config_version)
    VALUES (p_round_id, p_name, p_starts_at, p_ends_at, p_budget_fen, p_win_per_million, p_wins_per_round,
            p_fen_per_gala, p_paused, p_config_version);
    RETURN TRUE;
END $$;

-- RoundCatalog: a tier, only together with its round (in the transaction that registered the round): no tier is
-- ever added to a round that exists. Returns true when inserted.
CREATE FUNCTION settlement_register_tier(p_round_id INT, p_tier_id INT, p_name TEXT, p_min_fen BIGINT,
        p_max_fen BIGINT, p_count_cap BIGINT, p_weight INT)
    RETURNS BOOLEAN LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM prize_tier WHERE round_id = p_round_id AND tier_id = p_tier_id) THEN
        RETURN FALSE;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM round WHERE round_id = p_round_id
                   AND xmin::text = (txid_current() % 4294967296)::text) THEN
        RAISE EXCEPTION 'tier % cannot be added to round %: tiers are registered with their round, never later',
            p_tier_id, p_round_id USING ERRCODE = 'HB203';
    END IF;
    INSERT INTO prize_tier (round_id, tier_id, name, min_fen, max_fen, count_cap, weight)
    VALUES (p_round_id, p_tier_id, p_name, p_min_fen, p_max_fen, p_count_cap, p_weight);
    RETURN TRUE;
END $$;

-- ---------------------------------------------------------------------------------------------------------------
-- Privileges.

-- Functions are executable by PUBLIC by default: not these, and not those later migrations create (the default
-- privileges of the migrating role in this database); a later function is granted to whom it is for.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC;
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    settlement_write_payouts(TEXT[], INT[], INT[], BIGINT[], BIGINT[], TEXT[], TEXT[], INT[], BIGINT[], BIGINT[]),
    settlement_write_ledger(TEXT[], INT[], TEXT[], BIGINT[], BIGINT[], TEXT[], BIGINT[], TEXT[]),
    settlement_write_quarantine(TEXT, TEXT, INT, TEXT, TEXT, JSONB, TEXT, JSONB, TEXT, TEXT, INT),
    settlement_write_commit_marker(TEXT, TEXT, INT, BIGINT, TEXT, INT, INT, BIGINT),
    settlement_record_lost_transaction(TEXT, TEXT, INT, BIGINT),
    settlement_apply_round_config(INT, BIGINT, BOOLEAN, INT),
    settlement_apply_reject_count(TEXT, BIGINT),
    settlement_write_interaction_counts(INT[], TIMESTAMPTZ[], TEXT[], TEXT[], BIGINT[]),
    settlement_register_campaign(TEXT, BIGINT),
    settlement_register_round(INT, TEXT, TIMESTAMPTZ, TIMESTAMPTZ, BIGINT, INT, INT, BIGINT, BOOLEAN, INT),
    settlement_register_tier(INT, INT, TEXT, BIGINT, BIGINT, BIGINT, INT)
    TO hongbao_writer;

-- The job writes no table directly (revoking a table privilege revokes its column privileges too).
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public FROM hongbao_writer, hongbao_finance,
    hongbao_grafana;
-- What it still reads: reference data for RoundCatalog's comparison, and its own bookkeeping.
GRANT SELECT ON campaign TO hongbao_writer, hongbao_finance, hongbao_grafana;
GRANT SELECT ON payout_tally TO hongbao_finance;

-- Connections: only logins granted CONNECT on this very database (sql/logins.sql does it per login and database;
-- the group roles are cluster-wide, so granting them CONNECT would open every settlement database on the
-- server to every member). No temporary tables, no objects in schema public, for anyone but the owner.
DO $$
BEGIN
    EXECUTE format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END $$;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
