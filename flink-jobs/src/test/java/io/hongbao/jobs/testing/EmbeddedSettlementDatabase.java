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
 * migrated, started once per test class.
 */
public final class EmbeddedSettlementDatabase implements BeforeAllCallback, AfterAllCallback {
    private EmbeddedPostgres postgres;
    private SettlementDatabase database;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        postgres = EmbeddedPostgres.builder().setServerConfig("max_prepared_transactions", "64").start();
        database = SettlementDatabase.of(postgres.getJdbcUrl("postgres", "postgres"), "postgres", "");
        SettlementSchema.migrate(database);
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

    /** The first column of the first row of a query, as a long. */
    public long queryLong(String sql) throws Exception {
        try (Connection c = database.connect("test"); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
