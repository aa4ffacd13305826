package io.hongbao.settlement;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * Applies the settlement schema ({@code src/main/resources/db/migration/V*__*.sql}) with Flyway. Idempotent:
 * a database already at the latest version is left alone; concurrent callers are serialized by Flyway's
 * PostgreSQL advisory lock.
 */
public final class SettlementSchema {
    /** Where the migrations are on the classpath. */
    public static final String LOCATION = "classpath:db/migration";

    private SettlementSchema() {}

    /** Migrates the database; returns how many migrations were applied. */
    public static int migrate(String jdbcUrl, String user, String password) {
        return run(Flyway.configure(SettlementSchema.class.getClassLoader()).dataSource(jdbcUrl, user, password));
    }

    public static int migrate(SettlementDatabase db) {
        return migrate(db.jdbcUrl(), db.user(), db.password());
    }

    private static int run(org.flywaydb.core.api.configuration.FluentConfiguration config) {
        Flyway flyway = config.locations(LOCATION).failOnMissingLocations(true).load();
        MigrateResult result = flyway.migrate();
        return result.migrationsExecuted;
    }
}
