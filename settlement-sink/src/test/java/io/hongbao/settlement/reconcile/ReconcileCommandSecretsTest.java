package io.hongbao.settlement.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Finance's reconcile command takes its password from the environment or a file and never prints it. */
class ReconcileCommandSecretsTest {
    private final String secret = "pw-" + UUID.randomUUID();

    @Test
    void shouldNotPrintTheEnvironmentPasswordInHelp() {
        StringWriter out = new StringWriter();

        int exit = command(Map.of(ReconcileCommand.PASSWORD_ENV, secret), out, "--help");

        assertThat(exit).isZero();
        assertThat(out.toString()).contains("--password-file").doesNotContain(secret);
    }

    @Test
    void shouldNotEchoThePasswordWhenTheDatabaseCannotBeReached(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("pw"), secret + "\n");
        for (Map<String, String> env : List.of(Map.<String, String>of(), Map.of(ReconcileCommand.PASSWORD_ENV, secret))) {
            StringWriter out = new StringWriter();
            String[] args = env.isEmpty()
                    ? new String[] {"--jdbc-url", "jdbc:postgresql://127.0.0.1:1/none?password=" + secret, "--user",
                            "finance", "--password-file", file.toString()}
                    : new String[] {"--jdbc-url", "jdbc:postgresql://127.0.0.1:1/none", "--user", "finance"};

            int exit = command(env, out, args);

            assertThat(exit).isOne();
            assertThat(out.toString()).contains("cannot read the settlement tables").contains("127.0.0.1:1")
                    .doesNotContain(secret);
        }
    }

    private static int command(Map<String, String> env, StringWriter out, String... args) {
        CommandLine cli = new CommandLine(new ReconcileCommand(env));
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(out, true));
        return cli.execute(args);
    }
}
