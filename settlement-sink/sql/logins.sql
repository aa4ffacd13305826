-- The login users of hongbao's group roles, run with psql as the admin after the migrations (which create the
-- NOLOGIN groups): hongbao_job (hongbao_writer: the payout job), hongbao_reconcile (hongbao_finance:
-- reconciliation) and hongbao_dashboards (hongbao_grafana: Grafana). Used by bin/settlement-db and the compose
-- stack's settlement-db service. Idempotent; roles are cluster-wide.
--
--   HONGBAO_PG_JOB_PASSWORD=... HONGBAO_PG_RECONCILE_PASSWORD=... HONGBAO_PG_DASHBOARDS_PASSWORD=... \
--   psql -v ON_ERROR_STOP=1 -f settlement-sink/sql/logins.sql <database>
--
-- The passwords come from psql's environment (\getenv, psql 15), not its command line, which any local user can
-- read in the process list. A variable left unset leaves that login's password as it is (none on a new login:
-- enough where the server trusts loopback, as locally).
SET client_min_messages = warning; -- no NOTICE for what is already granted
DO $$
DECLARE
  login text;
BEGIN
  FOREACH login IN ARRAY ARRAY['hongbao_job', 'hongbao_reconcile', 'hongbao_dashboards'] LOOP
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = login) THEN
        EXECUTE format('CREATE ROLE %I LOGIN', login);
      END IF;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL; -- another run created it a moment ago
    END;
  END LOOP;
END $$;
GRANT hongbao_writer TO hongbao_job;
GRANT hongbao_finance TO hongbao_reconcile;
GRANT hongbao_grafana TO hongbao_dashboards;
-- CONNECT to this database only (the migrations revoke it from PUBLIC): per login, because the group roles are
-- cluster-wide and a grant to them would open every settlement database of the server to every member.
GRANT CONNECT ON DATABASE :"DBNAME" TO hongbao_job, hongbao_reconcile, hongbao_dashboards;

\getenv job_password HONGBAO_PG_JOB_PASSWORD
\getenv reconcile_password HONGBAO_PG_RECONCILE_PASSWORD
\getenv dashboards_password HONGBAO_PG_DASHBOARDS_PASSWORD
\if :{?job_password}
ALTER ROLE hongbao_job PASSWORD :'job_password';
\endif
\if :{?reconcile_password}
ALTER ROLE hongbao_reconcile PASSWORD :'reconcile_password';
\endif
\if :{?dashboards_password}
ALTER ROLE hongbao_dashboards PASSWORD :'dashboards_password';
\endif
