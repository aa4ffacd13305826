package io.hongbao.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.ingest.testing.Datasets;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The payout job's negatable options mean what they say (picocli inverts a negatable default-true option). */
class PayoutJobOptionsTest {

    private static PayoutJob parse(String... args) {
        PayoutJob job = new PayoutJob();
        String[] withProfile = java.util.Arrays.copyOf(args, args.length + 2);
        withProfile[args.length] = "--profile";
        withProfile[args.length + 1] = "gala.yaml";
        new CommandLine(job).parseArgs(withProfile);
        return job;
    }

    @Test
    void shouldMigrateByDefaultAndNotWithNoMigrate() {
        assertThat(parse().migrate).isTrue();
        assertThat(parse("--migrate").migrate).isTrue();
        // The Kubernetes manifest and the DR drill run the job with --no-migrate: the admin migrates once.
        assertThat(parse("--no-migrate").migrate).isFalse();
    }

    @Test
    void shouldRefuseOneTopicForTwoPurposesBeforeTouchingAnything() {
        StringWriter err = new StringWriter();
        int exit = new CommandLine(new PayoutJob()).setErr(new PrintWriter(err)).execute(
                "--profile", Datasets.file("tiny.yaml").toString(),
                "--topic", "hongbao.shakes", "--dead-letter-topic", "hongbao.shakes",
                "--jdbc-url", "jdbc:postgresql://127.0.0.1:1/unreachable");
        assertThat(exit).isEqualTo(2);
        assertThat(err.toString()).contains("must be three topics");
    }
}
