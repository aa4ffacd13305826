package io.hongbao.ingest.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.hongbao.ingest.count.CountsComparison;
import io.hongbao.ingest.count.CountsComparison.Difference;
import io.hongbao.ingest.count.IntakeCounts;
import io.hongbao.ingest.count.ShakeTopicCounter;
import io.hongbao.ingest.generator.Manifest;
import io.hongbao.ingest.profile.GalaProfile;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code count}: read a shake topic back and count it, optionally against a generator manifest. */
@Command(name = "count", mixinStandardHelpOptions = true,
        description = "Read a shake topic from the beginning with a plain consumer, decode and count every record "
                + "(distinct valid shakes per round/channel/region, duplicates, rejects per reason). With "
                + "--manifest, exit 1 unless every figure equals the generator's.")
public class CountCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    @Spec
    CommandSpec spec;

    @Mixin
    KafkaOptions kafka;

    @Option(names = "--profile", required = true, paramLabel = "FILE", description = "Gala profile (round windows).")
    Path profile;

    @Option(names = "--topic", defaultValue = "hongbao.shakes", description = "Topic to read (default: ${DEFAULT-VALUE}).")
    String topic;

    @Option(names = "--manifest", paramLabel = "FILE", description = "Generator manifest to check the counts against.")
    Path manifestFile;

    @Option(names = "--report", paramLabel = "FILE", description = "Also write the counts and the check as JSON.")
    Path reportFile;

    @Option(names = "--timeout", defaultValue = "PT2M", description = "Give up reading after this long (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Override
    public Integer call() throws Exception {
        GalaProfile gala = GalaProfile.load(profile);
        ShakeTopicCounter counter = new ShakeTopicCounter(kafka.clientProperties(), gala.windows());
        IntakeCounts counts = counter.count(topic, timeout);
        PrintWriter out = spec.commandLine().getOut();
        CountsTable.print(out, topic, counts);
        out.printf("gateway ticks read: %,d (not counted as shakes or rejects)%n", counter.ticks());

        Map<String, Object> report = new LinkedHashMap<>();
        report.put("topic", topic);
        report.put("counts", counts);
        report.put("ticks", counter.ticks());
        boolean pass = true;
        if (manifestFile != null) {
            Manifest manifest = Manifest.read(manifestFile);
            List<Difference> differences = CountsComparison.differences(manifest.expected, counts);
            pass = differences.isEmpty();
            out.println();
            if (pass) {
                out.printf("CHECK PASSED: all %,d records match manifest %s (seed %d)%n", counts.records(),
                        manifestFile, manifest.seed);
            } else {
                out.printf("CHECK FAILED: %d figures differ from manifest %s%n", differences.size(), manifestFile);
                differences.stream().limit(50).forEach(d -> out.println("  " + d));
            }
            report.put("manifest", manifestFile.toString());
            report.put("matches_manifest", pass);
            report.put("differences", differences.stream().map(Difference::toString).toList());
        }
        if (reportFile != null) {
            try {
                Files.writeString(reportFile, JSON.writeValueAsString(report) + System.lineSeparator());
            } catch (IOException e) {
                throw new IOException("cannot write report " + reportFile, e);
            }
        }
        out.flush();
        return pass ? 0 : 1;
    }
}
