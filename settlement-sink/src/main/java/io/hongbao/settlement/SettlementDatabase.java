package io.hongbao.settlement;

import java.io.Serializable;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Objects;
import java.util.Properties;
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
            return DriverManager.getConnection(jdbcUrl, props);
        } catch (SQLException e) {
            // pgjdbc does not echo the password, but the URL may carry one: describe the target ourselves.
            throw new SQLException("cannot connect to " + redactedUrl() + " as " + user + ": " + e.getMessage(),
                    e.getSQLState(), e);
        }
    }

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
