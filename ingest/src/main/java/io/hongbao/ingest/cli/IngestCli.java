package io.hongbao.ingest.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code java -jar ingest/target/hongbao-ingest-cli.jar <command>}. */
@Command(name = "hongbao-ingest", mixinStandardHelpOptions = true, version = "hongbao-ingest 0.1",
        description = "hongbao shake traffic: generate a gala into Kafka, count a topic back.",
        subcommands = {GenerateCommand.class, CountCommand.class})
public final class IngestCli implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    private IngestCli() {}

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getErr());
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command and returns its exit code (2 for usage errors, 1 for failures). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new IngestCli());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            commandLine.getErr().println("error: " + e.getMessage());
            return 1;
        });
        return cli.execute(args);
    }
}
