package io.hongbao.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.ingest.testing.Datasets;
import io.hongbao.jobs.testing.EmbeddedSettlementDatabase;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import picocli.CommandLine;

/** The payout job never connects as a superuser: privileges and the append-only triggers would not bind it. */
class PayoutJobLoginITCase {
    @RegisterExtension
    static final EmbeddedSettlementDatabase POSTGRES = new EmbeddedSettlementDatabase();

    @Test
    void shouldTellTheJobLoginFromASuperuser() throws Exception {
        assertThat(POSTGRES.database().isSuperuser()).as("the admin who migrated").isTrue();
        assertThat(POSTGRES.jobLogin().isSuperuser()).as("hongbao_job").isFalse();
    }

    @Test
    void shouldRefuseToRunAsASuperuser() throws Exception {
        long roundsBefore = POSTGRES.queryLong("SELECT count(*) FROM round");
        StringWriter out = new StringWriter();
        CommandLine cli = new CommandLine(new PayoutJob());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(out, true));

        int exit = cli.execute("--profile", Datasets.file("tiny.yaml").toString(),
                "--jdbc-url", POSTGRES.database().jdbcUrl(), "--jdbc-user", POSTGRES.database().user(),
                "--bootstrap-servers", "127.0.0.1:1");

        assertThat(exit).isEqualTo(CommandLine.ExitCode.USAGE);
        assertThat(out.toString()).contains("--jdbc-user postgres is a superuser").contains("hongbao_writer");
        assertThat(POSTGRES.queryLong("SELECT count(*) FROM round")).as("nothing registered").isEqualTo(roundsBefore);
    }
}
