package io.hongbao.jobs;

import static org.assertj.core.api.Assertions.assertThat;

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
}
