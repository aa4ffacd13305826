-- hongbao settlement, version 13: what "the money is right" means, written once.
-- See settlement-sink/README.md ("Reconciliation").
--
-- Every reconciliation rule the database alone can answer is a branch of reconciliation_violation (one row per
-- violation); reconciliation_summary counts them per check (PASS/FAIL). The settlement CLI (ReconcileCommand),
-- the finance dashboard and, through the CLI's JSON report, the drills read these views and nothing else, so
-- they cannot disagree. Before this migration the rules were written three times (Reconciliation's queries,
-- V10/V11's reconciliation_check, bin/lib/drill.sh); the database's copy, reconciliation_check, goes here.
--
-- Views read their tables with their owner's rights: hongbao_grafana reads the counts (summary, rounds, tiers,
-- pending transactions) without any right on payout; only hongbao_finance reads the per-user violation rows.
--
-- The checks deliberately repeat some schema constraints (derived ids, lineage, keys, foreign keys): finance
-- does not trust the schema of the database it is pointed at (a restored copy, a table loaded by hand).

DROP VIEW reconciliation_check;

-- The checks, in the order reports list them, and the rule that holds when each passes.
CREATE VIEW reconciliation_check_rule AS
SELECT check_order, check_name, rule
FROM (VALUES
    (1, 'OVER_BUDGET', 'a round''s payouts sum to at most its budget'),
    (2, 'TIER_CAP_EXCEEDED', 'a tier pays at most its count cap'),
    (3, 'AMOUNT_ABOVE_TIER_MAX', 'no payout is larger than its tier''s max_fen'),
    (4, 'USER_WINS_PER_ROUND_EXCEEDED', 'a user wins at most wins_per_round packets in a round'),
    (5, 'USER_FEN_PER_GALA_EXCEEDED',
        'a user''s fen over the gala, up to and including a round, is at most that round''s fen_per_gala'),
    (6, 'DUPLICATE_PAYOUT_ID', 'no payout id appears twice'),
    (7, 'DUPLICATE_ROUND_EVENT', 'no (round, event) pair is paid twice'),
    (8, 'PAYOUT_ID_NOT_DERIVED', 'every payout id is r<round>-<event id>'),
    (9, 'MISSING_LINEAGE',
        'every payout names its winning event and Kafka record (topic, partition >= 0, offset >= 0)'),
    (10, 'SHARED_KAFKA_RECORD', 'no two payouts come from the same Kafka record'),
    (11, 'UNCONFIGURED_ROUND_OR_TIER', 'every payout belongs to a configured round and tier'),
    (12, 'LOST_TRANSACTION', 'no settlement transaction was lost between prepare and commit'),
    (13, 'QUARANTINED',
        'the sink quarantined no row (a payout or ledger entry whose key was taken by another row, unpaid)')
) AS c (check_order, check_name, rule);

-- Per round: round_paid, whether it is over budget (the OVER_BUDGET rule) and whether the job has swept it
-- (its SWEPT ledger line: the round is closed and settled).
CREATE VIEW reconciliation_round AS
SELECT p.round_id, p.name, p.budget_fen, p.payouts, p.paid_fen, p.remaining_fen,
       p.paid_fen > p.budget_fen AS over_budget,
       EXISTS (SELECT 1 FROM round_ledger l WHERE l.round_id = p.round_id AND l.kind = 'SWEPT') AS swept
FROM round_paid p;

-- Per tier: tier_paid and whether it paid more packets than its cap (the TIER_CAP_EXCEEDED rule).
CREATE VIEW reconciliation_tier AS
SELECT t.round_id, t.tier_id, t.name, t.count_cap, t.payouts, t.paid_fen, t.payouts > t.count_cap AS over_cap
FROM tier_paid t;

-- One row per violation. subject names what breaks the rule (a payout id, an event, a Kafka record, a gid);
-- expected is what the rule requires (the bound, for budgets and caps) and actual what the tables hold; detail
-- says it in a sentence. round_id, tier_id and user_id are set where the check has them.
CREATE VIEW reconciliation_violation AS
SELECT 'OVER_BUDGET' AS check_name, round_id, NULL::int AS tier_id, NULL::bigint AS user_id,
       'round ' || round_id AS subject, budget_fen::text AS expected, paid_fen::text AS actual,
       'paid ' || paid_fen || ' fen over a budget of ' || budget_fen || ' fen: ' || (paid_fen - budget_fen)
           || ' fen over' AS detail
FROM reconciliation_round WHERE over_budget
UNION ALL
SELECT 'TIER_CAP_EXCEEDED', round_id, tier_id, NULL, 'round ' || round_id || ' tier ' || tier_id,
       count_cap::text, payouts::text, payouts || ' packets paid, cap ' || count_cap
FROM reconciliation_tier WHERE over_cap
UNION ALL
SELECT 'AMOUNT_ABOVE_TIER_MAX', p.round_id, p.tier_id, p.user_id, p.payout_id, t.max_fen::text,
       p.amount_fen::text, p.amount_fen || ' fen in tier ' || p.tier_id || ' (max_fen ' || t.max_fen || ')'
FROM payout p JOIN prize_tier t ON t.round_id = p.round_id AND t.tier_id = p.tier_id
WHERE p.amount_fen > t.max_fen
UNION ALL
SELECT 'USER_WINS_PER_ROUND_EXCEEDED', p.round_id, NULL, p.user_id, 'user ' || p.user_id,
       r.wins_per_round::text, COUNT(*)::text, COUNT(*) || ' wins, wins_per_round ' || r.wins_per_round
FROM payout p JOIN round r ON r.round_id = p.round_id
GROUP BY p.round_id, p.user_id, r.wins_per_round
HAVING COUNT(*) > r.wins_per_round
UNION ALL
-- fen_per_gala caps the whole gala: what a user won up to and including round r (rounds in start order) must
-- fit r's cap, the one the job applied when it paid in r.
SELECT 'USER_FEN_PER_GALA_EXCEEDED', round_id, NULL, user_id, 'user ' || user_id, fen_per_gala::text,
       gala_fen::text, gala_fen || ' fen won over the gala up to this round, fen_per_gala ' || fen_per_gala
FROM (SELECT user_id, round_id, fen_per_gala,
             SUM(fen) OVER (PARTITION BY user_id ORDER BY starts_at, round_id) AS gala_fen
      FROM (SELECT p.user_id, p.round_id, r.starts_at, r.fen_per_gala, SUM(p.amount_fen) AS fen
            FROM payout p JOIN round r ON r.round_id = p.round_id
            GROUP BY p.user_id, p.round_id, r.starts_at, r.fen_per_gala) AS per_round) AS running
WHERE gala_fen > fen_per_gala
UNION ALL
SELECT 'DUPLICATE_PAYOUT_ID', MIN(round_id), NULL, NULL, payout_id, '1', COUNT(*)::text, COUNT(*) || ' rows'
FROM payout GROUP BY payout_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'DUPLICATE_ROUND_EVENT', round_id, NULL, NULL, 'event ' || event_id, '1', COUNT(*)::text,
       COUNT(*) || ' payouts: ' || string_agg(payout_id, ', ' ORDER BY payout_id)
FROM payout GROUP BY round_id, event_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'PAYOUT_ID_NOT_DERIVED', round_id, tier_id, user_id, payout_id,
       'r' || round_id || '-' || COALESCE(event_id, '<no event id>'), payout_id,
       'expected r' || round_id || '-' || COALESCE(event_id, '<no event id>')
FROM payout WHERE payout_id IS DISTINCT FROM 'r' || round_id || '-' || event_id
UNION ALL
SELECT 'MISSING_LINEAGE', round_id, tier_id, user_id, payout_id,
       'event id of 32 hex digits, Kafka record topic/partition >= 0/offset >= 0', lineage, lineage
FROM (SELECT round_id, tier_id, user_id, payout_id,
             'event ' || COALESCE(event_id, 'NULL') || ', Kafka record ' || COALESCE(kafka_topic, 'NULL') || '/'
                 || COALESCE(kafka_partition::text, 'NULL') || '/' || COALESCE(kafka_offset::text, 'NULL') AS lineage
      FROM payout
      WHERE event_id IS NULL OR event_id !~ '^[0-9a-f]{32}$'
         OR kafka_topic IS NULL OR kafka_topic = '' OR kafka_partition IS NULL OR kafka_partition < 0
         OR kafka_offset IS NULL OR kafka_offset < 0) AS p
UNION ALL
SELECT 'SHARED_KAFKA_RECORD', MIN(round_id), NULL, NULL, kafka_topic || '/' || kafka_partition || '/' || kafka_offset,
       '1', COUNT(*)::text, COUNT(*) || ' payouts: ' || string_agg(payout_id, ', ' ORDER BY payout_id)
FROM payout WHERE kafka_topic IS NOT NULL AND kafka_partition IS NOT NULL AND kafka_offset IS NOT NULL
GROUP BY kafka_topic, kafka_partition, kafka_offset HAVING COUNT(*) > 1
UNION ALL
SELECT 'UNCONFIGURED_ROUND_OR_TIER', p.round_id, p.tier_id, p.user_id, p.payout_id,
       'tier ' || p.tier_id || ' of round ' || p.round_id || ' configured',
       CASE WHEN r.round_id IS NULL THEN 'no round ' || p.round_id ELSE 'no tier ' || p.tier_id END,
       CASE WHEN r.round_id IS NULL THEN 'round ' || p.round_id || ' is not configured'
            ELSE 'round ' || p.round_id || ' has no tier ' || p.tier_id END
FROM payout p
LEFT JOIN round r ON r.round_id = p.round_id
LEFT JOIN prize_tier t ON t.round_id = p.round_id AND t.tier_id = p.tier_id
WHERE t.tier_id IS NULL
UNION ALL
SELECT 'LOST_TRANSACTION', NULL, NULL, NULL, gid, 'committed', 'lost: ' || payouts || ' payouts, ' || payout_fen || ' fen',
       payouts || ' payouts (' || payout_fen || ' fen) of sink ' || sink_name || ' lost, detected ' || detected_at
FROM settlement_lost_transaction
UNION ALL
SELECT 'QUARANTINED', round_id, NULL, NULL, kind || ' ' || row_key, 'written, or skipped as identical', reason,
       reason || ': ' || detail || COALESCE(' (existing ' || existing_key || ')', '') || ', lineage ' || lineage
           || ', sink ' || sink_name || ' subtask ' || subtask || ', detected ' || detected_at
FROM settlement_quarantine;

-- One row per check: its violations now and PASS (none) or FAIL. Counts only.
CREATE VIEW reconciliation_summary AS
SELECT c.check_order, c.check_name, c.rule, COALESCE(v.violations, 0) AS violations,
       CASE WHEN COALESCE(v.violations, 0) = 0 THEN 'PASS' ELSE 'FAIL' END AS status
FROM reconciliation_check_rule c
LEFT JOIN (SELECT check_name, COUNT(*) AS violations FROM reconciliation_violation GROUP BY check_name) AS v
    ON v.check_name = c.check_name;

-- Settlement transactions prepared and not yet committed (normal while a job runs; after it stopped they are
-- committed on restore or are orphans). Not a violation: a figure the CLI, the dashboard and the drills show.
CREATE VIEW settlement_prepared_pending AS
SELECT COUNT(*) AS prepared_transactions, MIN(prepared) AS oldest_prepared_at
FROM pg_prepared_xacts
WHERE database = current_database() AND starts_with(gid, 'hb:');

GRANT SELECT ON reconciliation_check_rule, reconciliation_round, reconciliation_tier, reconciliation_violation,
    reconciliation_summary, settlement_prepared_pending TO hongbao_finance;
-- Grafana: counts and aggregates, never the violation rows (they carry user ids and payout ids).
GRANT SELECT ON reconciliation_check_rule, reconciliation_round, reconciliation_tier, reconciliation_summary,
    settlement_prepared_pending TO hongbao_grafana;
