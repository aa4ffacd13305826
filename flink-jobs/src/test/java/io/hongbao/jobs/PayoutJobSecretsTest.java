package io.hongbao.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.ingest.testing.Datasets;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The payout job's secrets (database password, draw key) come from the environment or files and show
 * nowhere: not on the command line, not in {@code --help}, not in a failure's message or the logs.
 */
class PayoutJobSecretsTest {
    private final String secret = "pw-" + UUID.randomUUID();

    @Test
    void shouldTakeNoSecretOnTheCommandLine() {
        // A value on the command line shows in `ps` and shell history: secrets only ever come as files.
        for (OptionSpec option : new CommandLine(new PayoutJob()).getCommandSpec().options()) {
            String name = option.longestName();
            if (name.contains("password") || name.contains("secret") || name.contains("credential")) {
                assertThat(name).as("option taking a secret").endsWith("-file");
                assertThat(option.typeInfo().getType()).as(name).isEqualTo(Path.class);
            }
        }
    }

    @Test
    void shouldNotPrintEnvironmentSecretsInHelp() throws Exception {
        String help = run(Map.of("HONGBAO_PG_PASSWORD", secret, "HONGBAO_DRAW_SECRET", secret,
                "HONGBAO_JDBC_URL", "jdbc:postgresql://db:5432/hongbao?password=" + secret), "--help");

        assertThat(help).contains("--jdbc-password-file").contains("HONGBAO_PG_PASSWORD").doesNotContain(secret);
    }

    @Test
    void shouldNotEchoThePasswordWhenTheDatabaseCannotBeReached(@TempDir Path dir) throws Exception {
        Path passwordFile = Files.writeString(dir.resolve("pg.password"), secret + "\n");
        StringWriter out = new StringWriter();
        CommandLine cli = new CommandLine(new PayoutJob());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(out, true));

        int exit = cli.execute("--profile", Datasets.file("tiny.yaml").toString(),
                "--jdbc-url", "jdbc:postgresql://127.0.0.1:1/hongbao", "--jdbc-user", "hongbao_job",
                "--jdbc-password-file", passwordFile.toString());

        assertThat(exit).isNotZero();
        assertThat(out.toString()).as("the failure, with its stack trace").contains("127.0.0.1:1")
                .doesNotContain(secret);
        Path log = Path.of("target/test.log");
        if (Files.exists(log)) {
            assertThat(Files.readString(log)).doesNotContain(secret);
        }
    }

    @Test
    void shouldRefuseAPasswordInTheJdbcUrlWithoutRepeatingIt() {
        StringWriter out = new StringWriter();
        CommandLine cli = new CommandLine(new PayoutJob());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(out, true));

        int exit = cli.execute("--profile", Datasets.file("tiny.yaml").toString(),
                "--jdbc-url", "jdbc:postgresql://127.0.0.1:1/hongbao?user=x&password=" + secret);

        assertThat(exit).isNotZero();
        assertThat(out.toString()).contains("must not carry a password").doesNotContain(secret);
    }

    /** Runs PayoutJob in a fresh JVM (the environment cannot be changed in this one); returns its output. */
    private static String run(Map<String, String> env, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), PayoutJob.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(output).isZero();
        return output;
    }
}
