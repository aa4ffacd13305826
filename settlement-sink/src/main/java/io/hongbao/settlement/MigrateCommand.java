package io.hongbao.settlement;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

/**
 * Applies the settlement schema as the schema's owner (an admin, not the job): tables, views, and the
 * {@code hongbao_writer}, {@code hongbao_finance} and {@code hongbao_grafana} roles with their rights. The job
 * then connects as a login member of {@code hongbao_writer} and cannot change the schema.
 *
 * <pre>
 * java -cp settlement-sink/target/hongbao-settlement-cli.jar io.hongbao.settlement.MigrateCommand \
 *     --jdbc-url jdbc:postgresql://127.0.0.1:5432/hongbao --user postgres   # the schema owner
 * </pre>
 */
@Command(name = "migrate", mixinStandardHelpOptions = true,
        description = "Apply the settlement schema migrations (as the schema owner); idempotent.")
public final class MigrateCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    DatabaseOptions database;

    public static void main(String[] args) {
        System.exit(new CommandLine(new MigrateCommand()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        SettlementDatabase db = database.database(System.getenv());
        int applied = SettlementSchema.migrate(db);
        spec.commandLine().getOut().println("Applied " + applied + " migration(s) to " + db.redactedUrl());
        return 0;
    }
}
