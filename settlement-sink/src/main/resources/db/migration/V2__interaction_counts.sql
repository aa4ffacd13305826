-- hongbao analytics, version 2: exact interaction counts.
-- An interaction is a distinct (deduplicated) valid shake event. The payout job counts them in keyed state,
-- right after the same dedupe that guards the money, and upserts absolute running totals here; an upsert
-- only ever raises a count (GREATEST), so a replay after a restore, which recounts from the checkpoint up
-- to the same totals, converges on the exact figure and never shows more. See flink-jobs/README.md
-- ("Interaction counts").

CREATE TABLE interaction_count (
    round_id     INT         NOT NULL,
    -- Start of the event-time minute (gateway timestamp), UTC.
    minute_start TIMESTAMPTZ NOT NULL,
    channel      TEXT        NOT NULL CHECK (channel <> ''),
    region       TEXT        NOT NULL,
    shakes       BIGINT      NOT NULL CHECK (shakes > 0),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (round_id, minute_start, channel, region),
    CHECK (extract(second FROM minute_start AT TIME ZONE 'UTC') = 0)
);
CREATE INDEX interaction_count_minute_idx ON interaction_count (minute_start);

-- The same counts rolled up for each way analysts slice them.
CREATE VIEW interaction_round AS
SELECT round_id, SUM(shakes)::BIGINT AS shakes, MAX(updated_at) AS updated_at
FROM interaction_count
GROUP BY round_id;

CREATE VIEW interaction_minute AS
SELECT round_id, minute_start, SUM(shakes)::BIGINT AS shakes
FROM interaction_count
GROUP BY round_id, minute_start;

CREATE VIEW interaction_channel AS
SELECT round_id, channel, SUM(shakes)::BIGINT AS shakes
FROM interaction_count
GROUP BY round_id, channel;

CREATE VIEW interaction_region AS
SELECT round_id, region, SUM(shakes)::BIGINT AS shakes
FROM interaction_count
GROUP BY round_id, region;
