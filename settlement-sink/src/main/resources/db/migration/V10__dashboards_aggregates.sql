-- hongbao dashboards, version 10: aggregate views for Grafana (dashboards/json/*.json).
-- Grafana reads as a role that sees aggregates only, never per-user rows (hongbao_grafana: no SELECT on payout
-- or round_ledger). The dashboards need payouts per minute, the reconciliation checks and the budget history,
-- so these views aggregate them; a view reads its tables with its owner's rights, so SELECT on the view is
-- all Grafana needs. Numbered 10 to stay clear of the schema's own versions.

-- Payouts per round and event-time minute of the winning shake (decided_at), UTC minutes.
CREATE VIEW payout_minute AS
SELECT round_id,
       to_timestamp(floor(extract(epoch FROM decided_at) / 60) * 60) AS minute_start,
       COUNT(*)::BIGINT                                           AS payouts,
       SUM(amount_fen)::BIGINT                                    AS paid_fen
FROM payout
GROUP BY 1, 2;

-- Payouts per round and minute in which they became final (committed_at): what settled when.
CREATE VIEW settled_minute AS
SELECT round_id,
       to_timestamp(floor(extract(epoch FROM committed_at) / 60) * 60) AS minute_start,
       COUNT(*)::BIGINT                                             AS payouts,
       SUM(amount_fen)::BIGINT                                      AS settled_fen
FROM payout
GROUP BY 1, 2;

-- Each budget change and sweep of a round (round_ledger without its row ids).
CREATE VIEW round_budget_history AS
SELECT round_id, kind, amount_fen, budget_fen_after, detail, effective_at, source, committed_at
FROM round_ledger;

-- The reconciliation's checks (io.hongbao.settlement.reconcile.Check, same rules as Reconciliation's queries),
-- each with its number of violations now; 0 everywhere means reconciliation passes. Counts only.
CREATE VIEW reconciliation_check AS
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
-- fen_per_gala caps the whole gala: what a user won up to and including a round must fit that round's cap.
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
SELECT 12, 'LOST_TRANSACTION', (SELECT COUNT(*) FROM settlement_lost_transaction);

-- The read-only roles see the views (the roles come with the schema's roles migration; a database without them
-- has nobody to grant to).
DO $$
DECLARE
    r TEXT;
BEGIN
    FOREACH r IN ARRAY ARRAY['hongbao_grafana', 'hongbao_finance'] LOOP
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('GRANT SELECT ON payout_minute, settled_minute, round_budget_history, reconciliation_check TO %I', r);
        END IF;
    END LOOP;
END $$;
