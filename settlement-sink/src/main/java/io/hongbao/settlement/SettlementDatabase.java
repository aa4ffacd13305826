package io.hongbao.settlement;

import java.io.Serializable;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Objects;
import java.util.Properties;
import java.util.function.BiConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where the settlement tables live: a PostgreSQL JDBC URL, a user and a password. Serializable, because the
 * sink carries it to the task managers. The password never appears in {@link #toString()} or in an exception
 * message from {@link #connect()}; password parameters in the URL are masked too.
 */
public final class SettlementDatabase implements Serializable {
    private static final long serialVersionUID = 1L;

    private static final Pattern URL_SECRETS = Pattern.compile("(?i)((?:ssl)?password=)[^&]*");
    private static final Pattern URL_USER = Pattern.compile("[?&]user=([^&]*)");

    private final String jdbcUrl;
    private final String user;
    private final String password;

    private SettlementDatabase(String jdbcUrl, String user, String password) {
        this.jdbcUrl = Objects.requireNonNull(jdbcUrl, "jdbcUrl");
        this.user = Objects.requireNonNull(user, "user");
        this.password = password;
        if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
            throw new IllegalArgumentException("not a PostgreSQL JDBC URL: " + redactedUrl());
        }
        // pgjdbc lets a user= parameter in the URL win over the user given beside it: the job would then run as
        // whoever the URL names (a superuser, say) while everything says it runs as its own login.
        Matcher urlUser = URL_USER.matcher(jdbcUrl);
        if (urlUser.find() && !urlUser.group(1).equals(user)) {
            throw new IllegalArgumentException("the JDBC URL " + redactedUrl() + " names the user " + urlUser.group(1)
                    + ", which would override " + user + ": name the user once, outside the URL");
        }
    }

    /** {@code password} may be null (trust or peer authentication). */
    public static SettlementDatabase of(String jdbcUrl, String user, String password) {
        return new SettlementDatabase(jdbcUrl, user, password);
    }

    public String jdbcUrl() {
        return jdbcUrl;
    }

    public String user() {
        return user;
    }

    /** The password, for handing to a connection pool or Flyway; never log it. */
    public String password() {
        return password;
    }

    /** Whether a JDBC URL carries a password parameter (which then shows wherever the URL does). */
    public static boolean urlCarriesPassword(String jdbcUrl) {
        return URL_SECRETS.matcher(jdbcUrl).find();
    }

    /** The URL with any password parameter masked, for messages. */
    public String redactedUrl() {
        return URL_SECRETS.matcher(jdbcUrl).replaceAll("$1***");
    }

    /**
     * A new connection with batched inserts rewritten into multi-row statements ({@code reWriteBatchedInserts})
     * and the application name set, in auto-commit mode.
     */
    public Connection connect(String applicationName) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        if (password != null) {
            props.setProperty("password", password);
        }
        props.setProperty("reWriteBatchedInserts", "true");
        props.setProperty("ApplicationName", applicationName);
        props.setProperty("connectTimeout", "10");
        props.setProperty("tcpKeepAlive", "true");
        try {
            Connection connection = Pg.DRIVER.connect(jdbcUrl, props);
            if (connection == null) {
                // Driver#connect answers null for a URL it does not take; the constructor checked the prefix.
                throw new SQLException("pgjdbc does not accept the URL", "08001");
            }
            return connection;
        } catch (SQLException e) {
            // pgjdbc does not echo the password, but the URL may carry one: describe the target ourselves.
            throw new SQLException("cannot connect to " + redactedUrl() + " as " + user + ": " + e.getMessage(),
                    e.getSQLState(), e);
        }
    }

    /**
     * pgjdbc's driver, used directly rather than through {@link java.sql.DriverManager}: on a Flink cluster each
     * job has its own user-code class loader with its own copy of pgjdbc, and DriverManager hands a caller only
     * drivers its class loader can see as the same class, so a second job on the same JobManager or TaskManager
     * got "No suitable driver" (the first job's driver was registered, not its own). Loading the class registers
     * it with DriverManager, a JVM-wide registry, which would keep each job's class loader (and all its classes)
     * alive after the job ends: when pgjdbc came with a job's class loader rather than the JVM's, that
     * registration is taken back. In the JVM's own loader (tests, CLIs, a local run) it is left for others.
     */
    private static final class Pg {
        static final Driver DRIVER = load();

        private static Driver load() {
            Driver driver = new org.postgresql.Driver();
            if (org.postgresql.Driver.class.getClassLoader() != ClassLoader.getSystemClassLoader()
                    && org.postgresql.Driver.isRegistered()) {
                try {
                    org.postgresql.Driver.deregister();
                } catch (SQLException e) {
                    throw new IllegalStateException("cannot deregister pgjdbc from DriverManager", e);
                }
            }
            return driver;
        }
    }

    /**
     * Lets this job's copy of pgjdbc go with the job: registers (with Flink's
     * {@code UserCodeClassLoader::registerReleaseHookIfAbsent}, once per user-code class loader) a hook that
     * ends pgjdbc's cleaner thread when Flink releases the loader. pgjdbc starts a {@code PostgreSQL-JDBC-Cleaner}
     * thread (its {@code LazyCleaner}) with the first connection and lets it idle 30 s after the last one is
     * closed; created from a task, the thread inherits the task's access control context, which names the job's
     * protection domain and so its class loader. Every release of a job's loader on a TaskManager (a job ending,
     * and every restart that takes all of a job's tasks off it) thus kept ~16 MiB of Metaspace for 30 s, and a
     * restart loop filled Metaspace ({@code OutOfMemoryError: Metaspace}, the TaskManager died). An idle cleaner
     * ends when interrupted (a busy one logs it and goes on), so interrupting the cleaner threads is safe; with
     * pgjdbc in the JVM's own class loader (tests, CLIs, pgjdbc in Flink's lib/) nothing is done.
     */
    public static void releaseWith(BiConsumer<String, Runnable> registerReleaseHookIfAbsent) {
        if (org.postgresql.Driver.class.getClassLoader() != ClassLoader.getSystemClassLoader()) {
            registerReleaseHookIfAbsent.accept("hongbao-pgjdbc-cleaner", SettlementDatabase::endIdleCleaner);
        }
    }

    /** Interrupts pgjdbc's cleaner threads; an idle one ends at once, a busy one carries on. */
    static void endIdleCleaner() {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (PGJDBC_CLEANER.equals(t.getName())) {
                t.interrupt();
            }
        }
    }

    /** The name pgjdbc gives its cleaner thread ({@code org.postgresql.util.LazyCleaner}). */
    static final String PGJDBC_CLEANER = "PostgreSQL-JDBC-Cleaner";

    /**
     * Whether this login is a superuser. Privileges do not bind a superuser and it may switch the append-only
     * triggers off, so the job refuses to run as one.
     */
    public boolean isSuperuser() throws SQLException {
        try (Connection c = connect("hongbao login check"); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")) {
            return rs.next() && rs.getBoolean(1);
        }
    }

    @Override
    public String toString() {
        return "SettlementDatabase{" + redactedUrl() + ", user=" + user + ", password=" + (password == null ? "none" : "***")
                + "}";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SettlementDatabase d && jdbcUrl.equals(d.jdbcUrl) && user.equals(d.user)
                && Objects.equals(password, d.password);
    }

    @Override
    public int hashCode() {
        return Objects.hash(jdbcUrl, user);
    }
}
