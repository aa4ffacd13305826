package io.hongbao.settlement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hongbao.settlement.reconcile.ReconcileCommand;
import io.hongbao.settlement.testing.Sql;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The logins under password authentication, as a production server asks for it (scram-sha-256; the other tests
 * run on trust, where a password is never checked): {@code sql/logins.sql}, run with psql as operators and the
 * compose stack do, gives each login the password from the environment; the job's and finance's connections use
 * the password from a file or the environment; a wrong or missing password is refused, and no message shows it.
 */
class PasswordLoginITCase {
    private static final String JOB_PASSWORD = "job-" + UUID.randomUUID();
    private static final String RECONCILE_PASSWORD = "finance-" + UUID.randomUUID();
    private static final String DASHBOARDS_PASSWORD = "grafana-" + UUID.randomUUID();
    private static final String WRONG_PASSWORD = "wrong-" + UUID.randomUUID();

    private static EmbeddedPostgres server;
    private static String url;

    @BeforeAll
    static void startWithPasswordAuthentication(@TempDir Path dir) throws Exception {
        // The admin keeps trust on loopback (zonky connects as it to see the server up); everyone else must
        // authenticate with a password.
        Path hba = Files.writeString(dir.resolve("pg_hba.conf"), String.join("\n",
                "local all all trust",
                "host all postgres 127.0.0.1/32 trust",
                "host all postgres ::1/128 trust",
                "host all all 127.0.0.1/32 scram-sha-256",
                "host all all ::1/128 scram-sha-256", ""));
        server = EmbeddedPostgres.builder().setServerConfig("hba_file", hba.toString())
                .setServerConfig("max_prepared_transactions", "64").start();
        String admin = "jdbc:postgresql://127.0.0.1:" + server.getPort() + "/postgres";
        Sql.execute(SettlementDatabase.of(admin, "postgres", null), "CREATE DATABASE secured");
        url = "jdbc:postgresql://127.0.0.1:" + server.getPort() + "/secured";
        SettlementSchema.migrate(SettlementDatabase.of(url, "postgres", null));
        runLogins(Map.of("HONGBAO_PG_JOB_PASSWORD", JOB_PASSWORD, "HONGBAO_PG_RECONCILE_PASSWORD", RECONCILE_PASSWORD,
                "HONGBAO_PG_DASHBOARDS_PASSWORD", DASHBOARDS_PASSWORD));
    }

    @AfterAll
    static void stop() throws IOException {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void shouldGiveEachLoginItsRoleAndThePasswordFromTheEnvironment() {
        assertThat(whoAmI("hongbao_job", JOB_PASSWORD, "hongbao_writer")).isEqualTo("hongbao_job true false");
        assertThat(whoAmI("hongbao_reconcile", RECONCILE_PASSWORD, "hongbao_finance"))
                .isEqualTo("hongbao_reconcile true false");
        assertThat(whoAmI("hongbao_dashboards", DASHBOARDS_PASSWORD, "hongbao_grafana"))
                .isEqualTo("hongbao_dashboards true false");
    }

    @Test
    void shouldKeepThePasswordsWhenRunAgainWithoutThem() throws Exception {
        runLogins(Map.of());

        assertThat(whoAmI("hongbao_job", JOB_PASSWORD, "hongbao_writer")).isEqualTo("hongbao_job true false");
    }

    @Test
    void shouldRefuseAWrongOrMissingPasswordWithoutShowingIt() {
        for (String password : new String[] {WRONG_PASSWORD, null}) {
            SettlementDatabase job = SettlementDatabase.of(url, "hongbao_job", password);

            assertThatThrownBy(() -> job.connect("test")).isInstanceOf(SQLException.class)
                    .hasMessageContaining("as hongbao_job")
                    .satisfies(e -> assertThat(stackTrace(e)).as("the failure with all its causes")
                            .doesNotContain(WRONG_PASSWORD).doesNotContain(JOB_PASSWORD)
                            .containsAnyOf("password authentication failed", "no password was provided"));
        }
    }

    @Test
    void shouldReconcileWithThePasswordFromAFileOrTheEnvironment(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("finance.password"), RECONCILE_PASSWORD + "\n");
        Path wrongFile = Files.writeString(dir.resolve("wrong.password"), WRONG_PASSWORD + "\n");
        List<String> finance = List.of("--jdbc-url", url, "--user", "hongbao_reconcile");

        StringWriter fromFile = new StringWriter();
        int fileExit = reconcile(Map.of(), fromFile, finance, "--password-file", file.toString());
        StringWriter fromEnv = new StringWriter();
        int envExit = reconcile(Map.of(DatabaseOptions.PASSWORD_ENV, RECONCILE_PASSWORD), fromEnv, finance);
        StringWriter wrong = new StringWriter();
        int wrongExit = reconcile(Map.of(), wrong, finance, "--password-file", wrongFile.toString());

        assertThat(fileExit).as(fromFile.toString()).isZero();
        assertThat(fromFile.toString()).contains("RECONCILIATION PASSED").doesNotContain(RECONCILE_PASSWORD);
        assertThat(envExit).as(fromEnv.toString()).isZero();
        assertThat(wrongExit).isOne();
        assertThat(wrong.toString()).contains("cannot read the settlement tables").contains("hongbao_reconcile")
                .doesNotContain(WRONG_PASSWORD).doesNotContain(RECONCILE_PASSWORD);
    }

    /** "user member-of-role superuser" as the server sees the login. */
    private static String whoAmI(String user, String password, String role) {
        return Sql.strings(SettlementDatabase.of(url, user, password), "SELECT current_user || ' ' || pg_has_role("
                + "current_user, '" + role + "', 'MEMBER') || ' ' || rolsuper FROM pg_roles WHERE rolname = current_user")
                .get(0);
    }

    /** settlement-sink/sql/logins.sql through psql, as bin/settlement-db and the compose stack run it. */
    private static void runLogins(Map<String, String> passwords) throws Exception {
        ProcessBuilder psql = new ProcessBuilder("psql", "-h", "127.0.0.1", "-p", String.valueOf(server.getPort()),
                "-U", "postgres", "-d", "secured", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "sql/logins.sql")
                .redirectErrorStream(true);
        psql.environment().keySet().removeIf(k -> k.startsWith("HONGBAO_PG_"));
        psql.environment().putAll(passwords);
        Process process = psql.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("psql finished").isTrue();
        assertThat(process.exitValue()).as("psql -f sql/logins.sql: %s", output).isZero();
        passwords.values().forEach(p -> assertThat(output).doesNotContain(p));
    }

    private static int reconcile(Map<String, String> env, StringWriter out, List<String> args, String... more) {
        CommandLine cli = new CommandLine(new ReconcileCommand(env));
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(out, true));
        List<String> all = new ArrayList<>(args);
        all.addAll(List.of(more));
        return cli.execute(all.toArray(String[]::new));
    }

    private static String stackTrace(Throwable e) {
        StringWriter trace = new StringWriter();
        e.printStackTrace(new PrintWriter(trace));
        return trace.toString();
    }
}
