-- hongbao settlement schema, version 1.
-- Money is integer fen everywhere (1 yuan = 100 fen). Timestamps are timestamptz.
-- Rows reach these tables only through io.hongbao.settlement.sink.SettlementSink (two-phase commit), so a
-- row is visible if and only if the Flink checkpoint that produced it completed.

-- The round config as the job last applied it (upserted by the sink's committer, newest config_version wins).
CREATE TABLE round (
    round_id        INT         PRIMARY KEY,
    name            TEXT        NOT NULL,
    starts_at       TIMESTAMPTZ NOT NULL,
    ends_at         TIMESTAMPTZ NOT NULL,
    budget_fen      BIGINT      NOT NULL CHECK (budget_fen >= 0),
    win_per_million INT         NOT NULL CHECK (win_per_million BETWEEN 0 AND 1000000),
    wins_per_round  INT         NOT NULL CHECK (wins_per_round >= 0),
    fen_per_gala    BIGINT      NOT NULL CHECK (fen_per_gala >= 0),
    paused          BOOLEAN     NOT NULL DEFAULT FALSE,
    config_version  INT         NOT NULL DEFAULT 0,
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at)
);

CREATE TABLE prize_tier (
    round_id  INT    NOT NULL REFERENCES round (round_id),
    tier_id   INT    NOT NULL,
    name      TEXT   NOT NULL,
    min_fen   BIGINT NOT NULL CHECK (min_fen > 0),
    max_fen   BIGINT NOT NULL,
    count_cap BIGINT NOT NULL CHECK (count_cap >= 0),
    weight    INT    NOT NULL CHECK (weight >= 0),
    PRIMARY KEY (round_id, tier_id),
    CHECK (max_fen >= min_fen)
);

-- One row per red packet paid. payout_id is deterministic ("r<round>-<32 hex event id>"), so a replayed
-- decision can never become a second row. (round_id, tier_id) is deliberately not a foreign key to
-- prize_tier: the config and the payouts of one checkpoint commit in different transactions (see
-- settlement-sink/README.md, "Why no foreign key from payout to prize_tier"); Reconciliation checks it.
CREATE TABLE payout (
    payout_id       TEXT        PRIMARY KEY,
    round_id        INT         NOT NULL,
    tier_id         INT         NOT NULL,
    user_id         BIGINT      NOT NULL,
    amount_fen      BIGINT      NOT NULL CHECK (amount_fen > 0),
    event_id        TEXT        NOT NULL CHECK (event_id ~ '^[0-9a-f]{32}$'),
    kafka_topic     TEXT        NOT NULL CHECK (kafka_topic <> ''),
    kafka_partition INT         NOT NULL CHECK (kafka_partition >= 0),
    kafka_offset    BIGINT      NOT NULL CHECK (kafka_offset >= 0),
    decided_at      TIMESTAMPTZ NOT NULL,
    committed_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT payout_round_event_key UNIQUE (round_id, event_id),
    CONSTRAINT payout_id_derived CHECK (payout_id = 'r' || round_id || '-' || event_id)
);
CREATE INDEX payout_user_idx ON payout (user_id, round_id);
CREATE INDEX payout_round_tier_idx ON payout (round_id, tier_id);

-- Every config change of a round, applied or refused, and the round's sweep: the budget's history.
CREATE TABLE round_ledger (
    entry_id         TEXT        PRIMARY KEY,
    round_id         INT         NOT NULL,
    kind             TEXT        NOT NULL CHECK (kind <> ''),
    amount_fen       BIGINT      NOT NULL,
    budget_fen_after BIGINT      NOT NULL,
    detail           TEXT,
    effective_at     TIMESTAMPTZ NOT NULL,
    source           TEXT        NOT NULL,
    committed_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX round_ledger_round_idx ON round_ledger (round_id, effective_at);

-- Records rejected per reason: absolute running totals (the job counts in keyed state), never decreasing.
CREATE TABLE rejected_count (
    reason     TEXT        PRIMARY KEY,
    records    BIGINT      NOT NULL CHECK (records >= 0),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The commit marker: one row per prepared transaction of the sink, inserted inside that transaction. The row
-- is visible if and only if the transaction committed, which is how the committer tells "already committed"
-- from "lost" when the prepared transaction is no longer in pg_prepared_xacts.
CREATE TABLE settlement_commit (
    gid                 TEXT        PRIMARY KEY,
    sink_name           TEXT        NOT NULL,
    subtask             INT         NOT NULL,
    -- The last checkpoint the writer had taken when it prepared (the transaction belongs to a later one).
    after_checkpoint_id BIGINT      NOT NULL,
    attempt_nonce       TEXT        NOT NULL,
    payouts             INT         NOT NULL,
    ledger_entries      INT         NOT NULL,
    payout_fen          BIGINT      NOT NULL,
    prepared_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- A committable whose prepared transaction vanished without committing (someone rolled it back by hand, or
-- a bug). Never expected; the committer records it here and logs an error, and reconciliation fails on it.
CREATE TABLE settlement_lost_transaction (
    gid         TEXT        PRIMARY KEY,
    sink_name   TEXT        NOT NULL,
    payouts     INT         NOT NULL,
    payout_fen  BIGINT      NOT NULL,
    detected_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Per round: budget, payouts and fen paid, remaining budget.
CREATE VIEW round_paid AS
SELECT r.round_id,
       r.name,
       r.budget_fen,
       COUNT(p.payout_id)                           AS payouts,
       COALESCE(SUM(p.amount_fen), 0)               AS paid_fen,
       r.budget_fen - COALESCE(SUM(p.amount_fen), 0) AS remaining_fen
FROM round r
LEFT JOIN payout p ON p.round_id = r.round_id
GROUP BY r.round_id, r.name, r.budget_fen;

-- Per tier: packets paid against the cap.
CREATE VIEW tier_paid AS
SELECT t.round_id,
       t.tier_id,
       t.name,
       t.count_cap,
       COUNT(p.payout_id)             AS payouts,
       COALESCE(SUM(p.amount_fen), 0) AS paid_fen
FROM prize_tier t
LEFT JOIN payout p ON p.round_id = t.round_id AND p.tier_id = t.tier_id
GROUP BY t.round_id, t.tier_id, t.name, t.count_cap;
