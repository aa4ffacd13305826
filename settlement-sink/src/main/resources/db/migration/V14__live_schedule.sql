-- hongbao settlement, version 14: live schedule control (issue 13). A round's window may move, and the job may add
-- a round the profile did not have, each only with its ledger line, and never retroactively.
-- See settlement-sink/README.md ("Live schedule").
--
-- 1. A window moves only with a visible RESCHEDULED line of the round, taking effect at or before every boundary it
--    moves (old and new start if the start moves, old and new end if the end moves). Each line moves a window
--    once: the move that uses it is recorded in round_schedule_change (written by the trigger, append-only), so an
--    old line cannot excuse a later, retroactive move.
-- 2. The job adds a round (settlement_add_round, its only way) only with a visible ROUND_ADDED line of that round
--    whose budget_fen_after is the round's budget and whose effective_at is at or before its start, with tiers
--    copied from a round that exists and user caps no looser than an existing round's; within the campaign, like
--    any budget (ROUND_ADDED sets a budget).
-- 3. Everything V12 guards stays guarded; the aggregate checks read `round`, so an added round is held to them like
--    any other.

-- ---------------------------------------------------------------------------------------------------------------
-- ROUND_ADDED sets the added round's budget.
CREATE OR REPLACE FUNCTION settlement_is_budget_kind(kind TEXT) RETURNS BOOLEAN LANGUAGE sql IMMUTABLE
    RETURN kind IN ('CONFIGURED', 'BUDGET_RAISED', 'BUDGET_LOWERED', 'ROUND_ADDED');

-- The campaign's total also holds for rounds whose ROUND_ADDED line is written and whose round is not added yet
-- (the line goes in first, the round right after it): so the line itself is refused when it does not fit, as a
-- raise's line is.
CREATE OR REPLACE FUNCTION settlement_check_campaign() RETURNS VOID LANGUAGE plpgsql
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
    total := total + COALESCE((
        SELECT SUM(b) FROM (
            SELECT DISTINCT ON (l.round_id) l.budget_fen_after AS b FROM round_ledger l
            WHERE l.kind = 'ROUND_ADDED' AND NOT EXISTS (SELECT 1 FROM round r WHERE r.round_id = l.round_id)
            ORDER BY l.round_id, l.committed_at DESC, l.effective_at DESC, l.entry_id DESC) AS pending), 0);
    IF total > cap THEN
        RAISE EXCEPTION 'the rounds'' budgets would add up to % fen, above the campaign''s total of % fen', total, cap
            USING ERRCODE = 'HB202', TABLE = 'campaign';
    END IF;
END $$;

-- A ROUND_ADDED line names a round that does not exist yet: one for an existing round would be a raise in
-- disguise. AFTER the row went in, so a replayed line (its key taken: ON CONFLICT DO NOTHING) is not refused.
CREATE FUNCTION round_added_line_for_new_round() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM round WHERE round_id = NEW.round_id) THEN
        RAISE EXCEPTION 'ledger line %: ROUND_ADDED for round %, which exists already (a round is added once)',
            NEW.entry_id, NEW.round_id USING ERRCODE = 'HB206', TABLE = 'round_ledger';
    END IF;
    IF NEW.budget_fen_after < 0 OR NEW.amount_fen <> NEW.budget_fen_after THEN
        RAISE EXCEPTION 'ledger line %: ROUND_ADDED for round % must carry the budget as amount and budget after '
            '(% and % fen)', NEW.entry_id, NEW.round_id, NEW.amount_fen, NEW.budget_fen_after
            USING ERRCODE = 'HB206', TABLE = 'round_ledger';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER round_added_line_for_new_round AFTER INSERT ON round_ledger
    FOR EACH ROW WHEN (NEW.kind = 'ROUND_ADDED') EXECUTE FUNCTION round_added_line_for_new_round();

-- ---------------------------------------------------------------------------------------------------------------
-- Window moves.

-- Each window move of a round, as applied: the window before and after, the config version it came with, and the
-- RESCHEDULED line that allowed it (each line allows one move). Written only by the round's trigger.
CREATE TABLE round_schedule_change (
    entry_id       TEXT        PRIMARY KEY,
    round_id       INT         NOT NULL REFERENCES round (round_id),
    config_version INT         NOT NULL,
    old_starts_at  TIMESTAMPTZ NOT NULL,
    old_ends_at    TIMESTAMPTZ NOT NULL,
    new_starts_at  TIMESTAMPTZ NOT NULL,
    new_ends_at    TIMESTAMPTZ NOT NULL,
    effective_at   TIMESTAMPTZ NOT NULL,
    applied_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX round_schedule_change_round_idx ON round_schedule_change (round_id, applied_at);
CREATE TRIGGER round_schedule_change_append_only BEFORE UPDATE OR DELETE ON round_schedule_change
    FOR EACH ROW EXECUTE FUNCTION settlement_append_only();
CREATE TRIGGER round_schedule_change_no_truncate BEFORE TRUNCATE ON round_schedule_change
    FOR EACH STATEMENT EXECUTE FUNCTION settlement_append_only();

-- V12's rule with the window added: a round's budget moves only with its ledger line and within the campaign; its
-- window only with a RESCHEDULED line not used before, effective at or before every boundary that moves; name, win
-- rate and user caps never change.
CREATE OR REPLACE FUNCTION round_budget_with_ledger_line() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    earliest TIMESTAMPTZ;
    line     RECORD;
BEGIN
    IF (NEW.name, NEW.win_per_million, NEW.wins_per_round, NEW.fen_per_gala)
            IS DISTINCT FROM (OLD.name, OLD.win_per_million, OLD.wins_per_round, OLD.fen_per_gala)
            OR NEW.round_id <> OLD.round_id THEN
        RAISE EXCEPTION 'round %: only budget, pause, config version and (with its RESCHEDULED line) the window may '
            'change (the rest is reference data)', OLD.round_id USING ERRCODE = 'HB203', TABLE = 'round';
    END IF;
    IF (NEW.starts_at, NEW.ends_at) IS DISTINCT FROM (OLD.starts_at, OLD.ends_at) THEN
        -- The earliest boundary that moves, old or new: the change must take effect at or before it.
        earliest := LEAST(CASE WHEN NEW.starts_at <> OLD.starts_at THEN LEAST(OLD.starts_at, NEW.starts_at) END,
                          CASE WHEN NEW.ends_at <> OLD.ends_at THEN LEAST(OLD.ends_at, NEW.ends_at) END);
        -- Of the unused lines that allow it, the latest: the earlier ones allow more moves, keep them for those
        -- (two moves applied in one go, each with its line, then always find one each).
        SELECT l.entry_id, l.effective_at INTO line FROM round_ledger l
        WHERE l.round_id = NEW.round_id AND l.kind = 'RESCHEDULED' AND l.effective_at <= earliest
          AND NOT EXISTS (SELECT 1 FROM round_schedule_change c WHERE c.entry_id = l.entry_id)
        ORDER BY l.effective_at DESC, l.entry_id DESC LIMIT 1;
        IF NOT FOUND THEN
            SELECT l.entry_id, l.effective_at INTO line FROM round_ledger l
            WHERE l.round_id = NEW.round_id AND l.kind = 'RESCHEDULED'
              AND NOT EXISTS (SELECT 1 FROM round_schedule_change c WHERE c.entry_id = l.entry_id)
            ORDER BY l.effective_at LIMIT 1;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'round % window [%, %) -> [%, %) refused: no RESCHEDULED ledger line of the round '
                    'moves it (a window moves only with its round_ledger line)', OLD.round_id, OLD.starts_at,
                    OLD.ends_at, NEW.starts_at, NEW.ends_at USING ERRCODE = 'HB204', TABLE = 'round';
            END IF;
            RAISE EXCEPTION 'round % window [%, %) -> [%, %) refused: its RESCHEDULED line % takes effect at %, after '
                'the boundary % it moves (a window is never moved retroactively)', OLD.round_id, OLD.starts_at,
                OLD.ends_at, NEW.starts_at, NEW.ends_at, line.entry_id, line.effective_at, earliest
                USING ERRCODE = 'HB205', TABLE = 'round';
        END IF;
        INSERT INTO round_schedule_change (entry_id, round_id, config_version, old_starts_at, old_ends_at,
                                           new_starts_at, new_ends_at, effective_at)
        VALUES (line.entry_id, NEW.round_id, NEW.config_version, OLD.starts_at, OLD.ends_at, NEW.starts_at,
                NEW.ends_at, line.effective_at);
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

-- Committer: V12's function with the window. Newest version wins; the trigger above decides whether the window may
-- move. True when applied. (V12's four-argument form stays, for a job of an earlier build: it moves no window.)
CREATE FUNCTION settlement_apply_round_config(p_round_id INT, p_budget_fen BIGINT, p_paused BOOLEAN, p_version INT,
        p_starts_at TIMESTAMPTZ, p_ends_at TIMESTAMPTZ)
    RETURNS BOOLEAN LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM round WHERE round_id = p_round_id) THEN
        RAISE EXCEPTION 'round % is not registered (RoundCatalog registers rounds before the job pays; the job adds '
            'one with settlement_add_round)', p_round_id USING ERRCODE = 'HB203';
    END IF;
    UPDATE round SET budget_fen = p_budget_fen, paused = p_paused, config_version = p_version,
                     starts_at = p_starts_at, ends_at = p_ends_at, updated_at = now()
    WHERE round_id = p_round_id AND config_version <= p_version
      AND (budget_fen, paused, config_version, starts_at, ends_at)
          IS DISTINCT FROM (p_budget_fen, p_paused, p_version, p_starts_at, p_ends_at);
    RETURN FOUND;
END $$;

-- ---------------------------------------------------------------------------------------------------------------
-- Added rounds.

-- Writer: a round the profile did not have, with its tiers (one array per tier column), in the checkpoint's prepared
-- transaction, before its payouts. Only with a visible ROUND_ADDED line of the round (budget_fen_after = the
-- budget, effective_at <= its start); its tiers are exactly those of a round that exists (the job copies them), and
-- its user caps no looser than an existing round's. Returns ADDED, or EXISTS when the round is there with the same
-- reference data (a replay; window, budget and pause are live and not compared).
CREATE FUNCTION settlement_add_round(p_round_id INT, p_name TEXT, p_starts_at TIMESTAMPTZ, p_ends_at TIMESTAMPTZ,
        p_budget_fen BIGINT, p_win_per_million INT, p_wins_per_round INT, p_fen_per_gala BIGINT, p_paused BOOLEAN,
        p_config_version INT, p_tier_id INT[], p_tier_name TEXT[], p_min_fen BIGINT[], p_max_fen BIGINT[],
        p_count_cap BIGINT[], p_weight INT[])
    RETURNS TEXT LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    tiers JSONB;
BEGIN
    SELECT COALESCE(jsonb_agg(jsonb_build_array(t, n, lo, hi, cap, w) ORDER BY t), '[]') INTO tiers
    FROM unnest(p_tier_id, p_tier_name, p_min_fen, p_max_fen, p_count_cap, p_weight) AS v (t, n, lo, hi, cap, w);
    IF EXISTS (SELECT 1 FROM round WHERE round_id = p_round_id) THEN
        IF EXISTS (SELECT 1 FROM round WHERE round_id = p_round_id
                   AND (name, win_per_million, wins_per_round, fen_per_gala)
                       = (p_name, p_win_per_million, p_wins_per_round, p_fen_per_gala))
                AND tiers = (SELECT COALESCE(jsonb_agg(jsonb_build_array(tier_id, name, min_fen, max_fen, count_cap,
                                                                         weight) ORDER BY tier_id), '[]')
                             FROM prize_tier WHERE round_id = p_round_id) THEN
            RETURN 'EXISTS';
        END IF;
        RAISE EXCEPTION 'round % cannot be added: it exists with other reference data', p_round_id
            USING ERRCODE = 'HB203', TABLE = 'round';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM round_ledger l WHERE l.round_id = p_round_id AND l.kind = 'ROUND_ADDED'
                   AND l.budget_fen_after = p_budget_fen AND l.effective_at <= p_starts_at) THEN
        RAISE EXCEPTION 'round % cannot be added: no ROUND_ADDED ledger line of it sets its budget of % fen and takes '
            'effect at or before its start % (a round is added only with its round_ledger line)', p_round_id,
            p_budget_fen, p_starts_at USING ERRCODE = 'HB207', TABLE = 'round';
    END IF;
    IF jsonb_array_length(tiers) = 0 OR NOT EXISTS (
            SELECT 1 FROM prize_tier GROUP BY round_id
            HAVING jsonb_agg(jsonb_build_array(tier_id, name, min_fen, max_fen, count_cap, weight) ORDER BY tier_id)
                   = tiers) THEN
        RAISE EXCEPTION 'round % cannot be added: its tiers are not those of any round (an added round copies an '
            'existing round''s tiers)', p_round_id USING ERRCODE = 'HB208', TABLE = 'prize_tier';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM round WHERE wins_per_round >= p_wins_per_round)
            OR NOT EXISTS (SELECT 1 FROM round WHERE fen_per_gala >= p_fen_per_gala) THEN
        RAISE EXCEPTION 'round % cannot be added: wins_per_round % or fen_per_gala % is looser than every existing '
            'round''s', p_round_id, p_wins_per_round, p_fen_per_gala USING ERRCODE = 'HB208', TABLE = 'round';
    END IF;
    -- round_within_campaign (V12) checks the campaign's total on this insert.
    INSERT INTO round (round_id, name, starts_at, ends_at, budget_fen, win_per_million, wins_per_round, fen_per_gala,
                       paused, config_version)
    VALUES (p_round_id, p_name, p_starts_at, p_ends_at, p_budget_fen, p_win_per_million, p_wins_per_round,
            p_fen_per_gala, p_paused, p_config_version);
    INSERT INTO prize_tier (round_id, tier_id, name, min_fen, max_fen, count_cap, weight)
    SELECT p_round_id, t, n, lo, hi, cap, w
    FROM unnest(p_tier_id, p_tier_name, p_min_fen, p_max_fen, p_count_cap, p_weight) AS v (t, n, lo, hi, cap, w);
    RETURN 'ADDED';
END $$;

-- ---------------------------------------------------------------------------------------------------------------
-- The schedule as applied, one definition for the reconciliation report and the analysts' dashboard: per round its
-- window now, its config version and the window it was registered with; and per schedule line (RESCHEDULED,
-- ROUND_ADDED) of the round one row, with the move it made (RESCHEDULED: old and new window, once the committer
-- applied it) or whether the round it added is there. A round without schedule lines has one row with no line.
CREATE VIEW round_schedule AS
SELECT r.round_id, r.name, r.starts_at, r.ends_at, r.config_version,
       COALESCE(first.old_starts_at, r.starts_at) AS registered_starts_at,
       COALESCE(first.old_ends_at, r.ends_at) AS registered_ends_at,
       EXISTS (SELECT 1 FROM round_ledger a WHERE a.round_id = r.round_id AND a.kind = 'ROUND_ADDED') AS added,
       l.kind AS line_kind, l.entry_id, l.effective_at, l.detail, l.source, l.committed_at AS line_committed_at,
       c.old_starts_at, c.old_ends_at, c.new_starts_at, c.new_ends_at, c.config_version AS applied_version,
       c.applied_at,
       CASE WHEN l.kind = 'ROUND_ADDED' THEN TRUE WHEN l.kind = 'RESCHEDULED' THEN c.entry_id IS NOT NULL END
           AS line_applied
FROM round r
LEFT JOIN LATERAL (SELECT f.old_starts_at, f.old_ends_at FROM round_schedule_change f WHERE f.round_id = r.round_id
                   ORDER BY f.applied_at, f.config_version, f.entry_id LIMIT 1) AS first ON TRUE
LEFT JOIN round_ledger l ON l.round_id = r.round_id AND l.kind IN ('RESCHEDULED', 'ROUND_ADDED')
LEFT JOIN round_schedule_change c ON c.entry_id = l.entry_id;

-- ---------------------------------------------------------------------------------------------------------------
-- Privileges (V12's default privileges keep PUBLIC out of the new functions).
GRANT EXECUTE ON FUNCTION
    settlement_apply_round_config(INT, BIGINT, BOOLEAN, INT, TIMESTAMPTZ, TIMESTAMPTZ),
    settlement_add_round(INT, TEXT, TIMESTAMPTZ, TIMESTAMPTZ, BIGINT, INT, INT, BIGINT, BOOLEAN, INT, INT[], TEXT[],
        BIGINT[], BIGINT[], BIGINT[], INT[])
    TO hongbao_writer;
-- RoundCatalog compares a profile's window with the round's registered one (round_schedule).
GRANT SELECT ON round_schedule_change, round_schedule TO hongbao_writer, hongbao_finance, hongbao_grafana;
