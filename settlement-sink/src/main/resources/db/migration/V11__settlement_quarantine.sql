-- hongbao settlement, version 11: rows the writer refuses to pay, kept instead of failing the job.
-- See settlement-sink/README.md ("Duplicates and quarantine").
--
-- A payout or ledger row whose key (payout_id / (round_id, event_id) / entry_id) is already taken by a row with
-- the same content is a duplicate the writer skips (and counts). One whose key is taken by a row with other
-- content, or whose key stayed locked by another transaction that was prepared and not committed, lands here,
-- written inside the same prepared transaction as the checkpoint's payouts (so exactly once). A quarantined
-- payout is not paid: it never enters payout. Reconciliation (check QUARANTINED) fails while this table has rows.
CREATE TABLE settlement_quarantine (
    quarantine_id BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          TEXT        NOT NULL CHECK (kind IN ('payout', 'ledger')),
    -- The offending row's key: payout_id or entry_id.
    row_key       TEXT        NOT NULL,
    round_id      INT,
    -- CONFLICTING_CONTENT: the key exists with other content; KEY_LOCKED: the key is held by a transaction that
    -- stayed prepared and uncommitted for as long as the writer could wait (its content could not be compared).
    reason        TEXT        NOT NULL CHECK (reason IN ('CONFLICTING_CONTENT', 'KEY_LOCKED')),
    detail        TEXT        NOT NULL,
    -- The row as the job sent it, and the row that holds its key (NULL when it could not be read).
    row_data      JSONB       NOT NULL,
    existing_key  TEXT,
    existing_row  JSONB,
    -- Kafka record "topic/partition/offset" of a payout's winning shake, or a ledger entry's source.
    lineage       TEXT        NOT NULL,
    sink_name     TEXT        NOT NULL,
    subtask       INT         NOT NULL,
    detected_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX settlement_quarantine_key_idx ON settlement_quarantine (kind, row_key);

CREATE TRIGGER settlement_quarantine_append_only BEFORE UPDATE OR DELETE ON settlement_quarantine
    FOR EACH ROW EXECUTE FUNCTION settlement_append_only();
CREATE TRIGGER settlement_quarantine_no_truncate BEFORE TRUNCATE ON settlement_quarantine
    FOR EACH STATEMENT EXECUTE FUNCTION settlement_append_only();

-- Counts only, for the dashboards (Grafana sees no per-user rows).
CREATE VIEW settlement_quarantine_count AS
SELECT kind, reason, COUNT(*)::BIGINT AS quarantined_rows, MAX(detected_at) AS last_detected_at
FROM settlement_quarantine
GROUP BY kind, reason;

-- The dashboards' reconciliation view gets the new check (same rule as Reconciliation's QUARANTINED).
CREATE OR REPLACE VIEW reconciliation_check AS
SELECT 1 AS check_order, 'OVER_BUDGET' AS check_name,
       (SELECT COUNT(*) FROM round_paid WHERE paid_fen > budget_fen) AS violations
UNION ALL
SELECT 2, 'TIER_CAP_EXCEEDED', (SELECT COUNT(*) FROM tier_paid WHERE payouts > count_cap)
UNION ALL
SELECT 3, 'AMOUNT_ABOVE_TIER_MAX',
       (SELECT COUNT(*) FROM payout p JOIN prize_tier t ON t.round_id = p.round_id AND t.tier_id = p.tier_id
        WHERE p.amount_fen > t.max_fen)
UNION ALL
SELECT 4, 'USER_WINS_PER_ROUND_EXCEEDED',
       (SELECT COUNT(*) FROM (SELECT 1 FROM payout p JOIN round r ON r.round_id = p.round_id
                              GROUP BY p.round_id, p.user_id, r.wins_per_round
                              HAVING COUNT(*) > r.wins_per_round) AS v)
UNION ALL
SELECT 5, 'USER_FEN_PER_GALA_EXCEEDED',
       (SELECT COUNT(*)
        FROM (SELECT fen_per_gala, SUM(fen) OVER (PARTITION BY user_id ORDER BY starts_at, round_id) AS gala_fen
              FROM (SELECT p.user_id, p.round_id, r.starts_at, r.fen_per_gala, SUM(p.amount_fen) AS fen
                    FROM payout p JOIN round r ON r.round_id = p.round_id
                    GROUP BY p.user_id, p.round_id, r.starts_at, r.fen_per_gala) AS per_round) AS running
        WHERE gala_fen > fen_per_gala)
UNION ALL
SELECT 6, 'DUPLICATE_PAYOUT_ID',
       (SELECT COUNT(*) FROM (SELECT 1 FROM payout GROUP BY payout_id HAVING COUNT(*) > 1) AS v)
UNION ALL
SELECT 7, 'DUPLICATE_ROUND_EVENT',
       (SELECT COUNT(*) FROM (SELECT 1 FROM payout GROUP BY round_id, event_id HAVING COUNT(*) > 1) AS v)
UNION ALL
SELECT 8, 'PAYOUT_ID_NOT_DERIVED',
       (SELECT COUNT(*) FROM payout WHERE payout_id IS DISTINCT FROM 'r' || round_id || '-' || event_id)
UNION ALL
SELECT 9, 'MISSING_LINEAGE',
       (SELECT COUNT(*) FROM payout
        WHERE event_id IS NULL OR event_id !~ '^[0-9a-f]{32}$'
           OR kafka_topic IS NULL OR kafka_topic = '' OR kafka_partition IS NULL OR kafka_partition < 0
           OR kafka_offset IS NULL OR kafka_offset < 0)
UNION ALL
SELECT 10, 'SHARED_KAFKA_RECORD',
       (SELECT COUNT(*) FROM (SELECT 1 FROM payout
                              WHERE kafka_topic IS NOT NULL AND kafka_partition IS NOT NULL AND kafka_offset IS NOT NULL
                              GROUP BY kafka_topic, kafka_partition, kafka_offset HAVING COUNT(*) > 1) AS v)
UNION ALL
SELECT 11, 'UNCONFIGURED_ROUND_OR_TIER',
       (SELECT COUNT(*) FROM payout p
        LEFT JOIN prize_tier t ON t.round_id = p.round_id AND t.tier_id = p.tier_id
        WHERE t.tier_id IS NULL)
UNION ALL
SELECT 12, 'LOST_TRANSACTION', (SELECT COUNT(*) FROM settlement_lost_transaction)
UNION ALL
SELECT 13, 'QUARANTINED', (SELECT COUNT(*) FROM settlement_quarantine);

-- The job: inserts quarantine rows, reads nothing of them. To compare a duplicate's content it reads the
-- compared columns of payout and round_ledger (V3 gave it the key columns only); committed_at stays unreadable.
GRANT INSERT ON settlement_quarantine TO hongbao_writer;
GRANT SELECT (tier_id, user_id, amount_fen, kafka_topic, kafka_partition, kafka_offset, decided_at) ON payout
    TO hongbao_writer;
GRANT SELECT (round_id, kind, amount_fen, budget_fen_after, detail, effective_at, source) ON round_ledger
    TO hongbao_writer;
GRANT SELECT ON settlement_quarantine, settlement_quarantine_count TO hongbao_finance;
-- Grafana: the count only, never the rows (they carry user ids).
GRANT SELECT ON settlement_quarantine_count TO hongbao_grafana;
