package io.hongbao.settlement;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * How the settlement commands reach the database (a picocli mixin). The password comes from a file (its first
 * line), else the environment variable {@value #PASSWORD_ENV}, else none (trust or peer authentication); never
 * from an option value, which would show in process lists.
 */
public class DatabaseOptions {
    public static final String PASSWORD_ENV = "HONGBAO_PG_PASSWORD";

    @Option(names = "--jdbc-url", required = true, description = "e.g. jdbc:postgresql://127.0.0.1:5432/hongbao")
    String jdbcUrl;

    @Option(names = "--user", required = true, description = "database user")
    String user;

    @Option(names = "--password-file", description = "file holding the password (first line); otherwise the "
            + "environment variable " + PASSWORD_ENV + ", otherwise no password")
    Path passwordFile;

    /** The database these options name, with the password read from the file or {@code env}. */
    public SettlementDatabase database(Map<String, String> env) throws IOException {
        return SettlementDatabase.of(jdbcUrl, user, password(env));
    }

    private String password(Map<String, String> env) throws IOException {
        if (passwordFile != null) {
            String text = Files.readString(passwordFile, StandardCharsets.UTF_8);
            int eol = text.indexOf('\n');
            return (eol >= 0 ? text.substring(0, eol) : text).strip();
        }
        return env.get(PASSWORD_ENV);
    }
}
