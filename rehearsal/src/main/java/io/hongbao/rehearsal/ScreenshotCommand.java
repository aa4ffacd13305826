package io.hongbao.rehearsal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** PNGs of a report with headless Chromium (from the PATH or fetched, see {@link Chromium}): the page, and each chart. */
@Command(name = "screenshot", mixinStandardHelpOptions = true,
        description = "Screenshots of report.html: report.png (the whole page) and one PNG per chart section.")
final class ScreenshotCommand implements Callable<Integer> {
    static final List<String> SECTIONS = List.of("chart-rate-lag", "chart-budget", "chart-payouts",
            "chart-backpressure", "chart-checkpoints", "chart-calibration", "rounds", "verdict");

    @Option(names = "--html", required = true, description = "The report.html.")
    Path html;

    @Option(names = "--out-dir", required = true, description = "Where the PNGs go.")
    Path outDir;

    @Override
    public Integer call() throws Exception {
        Files.createDirectories(outDir);
        Chromium chromium = Chromium.find();
        chromium.screenshot(html, outDir.resolve("report.png"), 1320, 3700);
        for (String section : SECTIONS) {
            Path page = Files.createTempFile(outDir, "section-", ".html");
            try {
                // --screenshot takes no URL fragment on a file path reliably: a copy that selects the section.
                Files.writeString(page, Files.readString(html).replace("location.hash.slice(1)",
                        "'only=section-" + section + "'"));
                int height = section.startsWith("chart-") ? 420 : 900;
                chromium.screenshot(page, outDir.resolve(section + ".png"), 1320, height);
            } finally {
                Files.deleteIfExists(page);
            }
        }
        System.out.println("screenshots in " + outDir);
        return 0;
    }
}
