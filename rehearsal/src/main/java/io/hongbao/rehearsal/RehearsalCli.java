package io.hongbao.rehearsal;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The rehearsal's Java side (bin/rehearsal drives it): scale a profile, sample a running job, write the report. */
@Command(name = "rehearsal", mixinStandardHelpOptions = true,
        subcommands = {ScaleProfile.class, Sampler.class, StepJudge.class, ReportCommand.class, ScreenshotCommand.class},
        description = "Tools of bin/rehearsal: scale-profile, sample, report.")
public final class RehearsalCli {
    public static void main(String[] args) {
        System.exit(new CommandLine(new RehearsalCli()).execute(args));
    }
}
