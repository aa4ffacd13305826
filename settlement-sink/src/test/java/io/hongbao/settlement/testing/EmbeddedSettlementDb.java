package io.hongbao.settlement.testing;

import io.hongbao.settlement.SettlementDatabase;
import io.hongbao.settlement.RoundCatalog;
import io.hongbao.settlement.SettlementSchema;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real PostgreSQL 15 (zonky embedded) with prepared transactions enabled, started once per test JVM and
 * stopped at its exit. Every test takes a fresh database of its own, so tests do not see each other's rows
 * (prepared transactions are per cluster, but the sink only ever looks at its own database's).
 */
public final class EmbeddedSettlementDb {
    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static final Set<String> LOGINS = new HashSet<>();
    private static EmbeddedPostgres server;

    private EmbeddedSettlementDb() {}

    public static synchronized EmbeddedPostgres server() {
        if (server == null) {
            try {
                server = EmbeddedPostgres.builder().setServerConfig("max_prepared_transactions", "64").start();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start embedded PostgreSQL", e);
            }
            EmbeddedPostgres started = server;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    started.close();
                } catch (IOException ignored) {
                    // the JVM is going away
                }
            }));
        }
        return server;
    }

    /** A new, empty database. */
    public static SettlementDatabase emptyDatabase(String hint) {
        String name = hint.toLowerCase().replaceAll("[^a-z0-9]", "_") + "_" + DATABASES.incrementAndGet();
        try (Connection c = server().getPostgresDatabase().getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create database " + name, e);
        }
        return SettlementDatabase.of("jdbc:postgresql://localhost:" + server().getPort() + "/" + name, "postgres", null);
    }

    /** A new database with the settlement schema applied. */
    public static SettlementDatabase migratedDatabase(String hint) {
        SettlementDatabase db = emptyDatabase(hint);
        SettlementSchema.migrate(db);
        return db;
    }

    /**
     * A new migrated database with {@link Records#referenceRounds()} registered (payouts need their round and tier),
     * in a campaign of 100,000,000 fen (room for raises).
     */
    public static SettlementDatabase migratedGala(String hint) {
        SettlementDatabase db = migratedDatabase(hint);
        try {
            RoundCatalog.register(db, new RoundCatalog.Campaign("test gala", 100_000_000), Records.referenceRounds());
        } catch (SQLException e) {
            throw new IllegalStateException("cannot register the reference rounds", e);
        }
        return db;
    }

    /** The same database, as a login user of the job's role {@code hongbao_writer} (not a superuser). */
    public static SettlementDatabase asJob(SettlementDatabase db) {
        return asMemberOf(db, "hongbao_writer");
    }

    /**
     * The same database as a fresh login user (trust authentication, no password) that is a member of
     * {@code groupRole} and nothing else, and may connect to this database only (what sql/logins.sql grants);
     * one user per database and role, made once.
     */
    public static synchronized SettlementDatabase asMemberOf(SettlementDatabase db, String groupRole) {
        String database = db.jdbcUrl().substring(db.jdbcUrl().lastIndexOf('/') + 1);
        String user = (groupRole.replace("hongbao_", "") + "_" + database).toLowerCase();
        if (LOGINS.add(user)) {
            try (Connection c = server().getPostgresDatabase().getConnection(); Statement st = c.createStatement()) {
                st.execute("CREATE ROLE " + user + " LOGIN IN ROLE " + groupRole);
                st.execute("GRANT CONNECT ON DATABASE " + database + " TO " + user);
            } catch (SQLException e) {
                throw new IllegalStateException("cannot create login " + user, e);
            }
        }
        return SettlementDatabase.of(db.jdbcUrl(), user, null);
    }
}
