package io.hongbao.jobs.testing;

import io.hongbao.settlement.SettlementDatabase;
import io.hongbao.settlement.SettlementSchema;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real PostgreSQL server (zonky embedded binaries) with two-phase commit enabled and the settlement schema
 * migrated, started once per test class: {@link #database()} as the admin who migrated it (for setting up and
 * checking), {@link #jobLogin()} as the job connects, a login of {@code hongbao_writer} that is no superuser.
 */
public final class EmbeddedSettlementDatabase implements BeforeAllCallback, AfterAllCallback {
    private EmbeddedPostgres postgres;
    private SettlementDatabase database;
    private SettlementDatabase jobLogin;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        postgres = EmbeddedPostgres.builder().setServerConfig("max_prepared_transactions", "64").start();
        // No user= in the URL: pgjdbc would let it override the login (SettlementDatabase refuses that).
        database = SettlementDatabase.of("jdbc:postgresql://localhost:" + postgres.getPort() + "/postgres", "postgres", "");
        SettlementSchema.migrate(database);
        // What bin/settlement-db does with settlement-sink/sql/logins.sql (trust authentication: no password).
        try (Connection c = database.connect("test"); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE hongbao_job LOGIN IN ROLE hongbao_writer");
            s.execute("GRANT CONNECT ON DATABASE postgres TO hongbao_job"); // the migration revoked it from PUBLIC
        }
        jobLogin = SettlementDatabase.of(database.jdbcUrl(), "hongbao_job", "");
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (postgres != null) {
            postgres.close();
        }
    }

    public SettlementDatabase database() {
        return database;
    }

    /** The settlement database as the payout job connects to it: the login {@code hongbao_job}. */
    public SettlementDatabase jobLogin() {
        return jobLogin;
    }

    /** A database of its own on the same server, migrated, with the admin's and the job's login to it. */
    public Database freshDatabase(String name) throws Exception {
        try (Connection c = database.connect("test"); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        }
        String url = database.jdbcUrl().replaceFirst("/postgres$", "/" + name);
        SettlementDatabase admin = SettlementDatabase.of(url, "postgres", "");
        SettlementSchema.migrate(admin);
        try (Connection c = admin.connect("test"); Statement s = c.createStatement()) {
            s.execute("GRANT CONNECT ON DATABASE " + name + " TO hongbao_job");
        }
        return new Database(admin, SettlementDatabase.of(url, "hongbao_job", ""));
    }

    /** One settlement database: as its admin (to inspect) and as the job's login. */
    public record Database(SettlementDatabase admin, SettlementDatabase job) {
        public long queryLong(String sql) throws Exception {
            try (Connection c = admin.connect("test"); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** The first column of the first row of a query, as a long. */
    public long queryLong(String sql) throws Exception {
        try (Connection c = database.connect("test"); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
