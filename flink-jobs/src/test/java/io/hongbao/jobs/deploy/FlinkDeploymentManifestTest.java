package io.hongbao.jobs.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.hongbao.jobs.PayoutJob;
import io.hongbao.settlement.SettlementDatabase;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.StreamSupport;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathFactory;
import org.apache.flink.util.TimeUtils;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import picocli.CommandLine;
import picocli.CommandLine.ParseResult;

/**
 * infra/kubernetes/payout-job.yaml, checked without a cluster: against the FlinkDeployment CRD the Flink Kubernetes
 * Operator generates into its API jar (what the API server would check on `kubectl apply`), and against the job
 * itself: its arguments parse with PayoutJob's own picocli options, secrets come from mounted Secrets, the jar
 * and entry class are the ones the build makes, and the job's checkpoint settings agree with the cluster's.
 */
class FlinkDeploymentManifestTest {
    private static final Path ROOT = RepositoryFiles.root();
    private static final Path MANIFEST_FILE = ROOT.resolve("infra/kubernetes/payout-job.yaml");
    private static final JsonNode MANIFEST = RepositoryFiles.readYaml(MANIFEST_FILE);
    private static final JsonNode SPEC = MANIFEST.path("spec");
    private static final JsonNode CONFIG = SPEC.path("flinkConfiguration");
    /** The CRD as flink-kubernetes-operator-api ships it (apiextensions.k8s.io/v1). */
    private static final String CRD = "META-INF/fabric8/flinkdeployments.flink.apache.org-v1.yml";
    private static final JsonNode OPENAPI_SCHEMA = crdSchema(MANIFEST.path("apiVersion").asText());
    private static final Schema SCHEMA = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_4)
            .getSchema(strict(OPENAPI_SCHEMA.deepCopy()));

    @Test
    void shouldConformToTheOperatorsCrd() {
        assertThat(MANIFEST.path("kind").asText()).isEqualTo("FlinkDeployment");
        assertThat(errors(MANIFEST)).isEmpty();
    }

    @Test
    void shouldRejectBrokenCopies() {
        assertThat(errors(broken(m -> ((ObjectNode) m.path("spec").path("job")).put("upgradeMode", "blue-green"))))
                .as("an upgrade mode the operator does not know").isNotEmpty();
        assertThat(errors(broken(m -> ((ObjectNode) m.path("spec").path("jobManager")).put("replicas", "2"))))
                .as("replicas as a string").isNotEmpty();
        assertThat(errors(broken(m -> ((ObjectNode) m.path("spec").path("flinkConfiguration"))
                .put("execution.checkpointing.incremental", true))))
                .as("flinkConfiguration holds strings only: an unquoted YAML boolean").isNotEmpty();
        assertThat(errors(broken(m -> ((ObjectNode) m.path("spec").path("job")).put("jarUri", "local:///x.jar"))))
                .as("a misspelt field (the API server's strict field validation)").isNotEmpty();
    }

    @Test
    void shouldUseTheNewestFlinkVersionTheCrdKnows() {
        JsonNode versions = OPENAPI_SCHEMA.at("/properties/spec/properties/flinkVersion/enum");
        assertThat(versions.isArray()).isTrue();
        // The image is Flink 2.2: v2_2 once the operator's CRD has it, else the newest value it accepts.
        String expected = contains(versions, "v2_2") ? "v2_2" : versions.get(versions.size() - 1).asText();
        assertThat(SPEC.path("flinkVersion").asText()).isEqualTo(expected);
    }

    @Test
    void shouldPassArgumentsPayoutJobAccepts() {
        List<String> args = args();
        ParseResult parsed = new CommandLine(new PayoutJob()).parseArgs(args.toArray(String[]::new));
        assertThat(parsed.unmatched()).isEmpty();
        for (String option : List.of("--bootstrap-servers", "--topic", "--control-topic", "--dead-letter-topic",
                "--profile", "--jdbc-url", "--jdbc-user", "--jdbc-password-file", "--draw-secret-file",
                "--deployment-id", "--checkpoint-dir")) {
            assertThat(parsed.hasMatchedOption(option)).as("%s set explicitly", option).isTrue();
        }
        String jdbcUrl = parsed.matchedOptionValue("--jdbc-url", "");
        assertThat(SettlementDatabase.urlCarriesPassword(jdbcUrl)).as("password in %s", jdbcUrl).isFalse();
        // The job sets its own checkpoint storage and interval (JobEnvironment): the same as the cluster's.
        assertThat(parsed.<String>matchedOptionValue("--checkpoint-dir", null))
                .isEqualTo(CONFIG.path("execution.checkpointing.dir").asText());
        assertThat(parsed.<Duration>matchedOptionValue("--checkpoint-interval", null))
                .isEqualTo(TimeUtils.parseDuration(CONFIG.path("execution.checkpointing.interval").asText()));
    }

    @Test
    void shouldReadSecretsFromMountedKubernetesSecrets() {
        ParseResult parsed = new CommandLine(new PayoutJob()).parseArgs(args().toArray(String[]::new));
        // main() runs in the JobManager (application mode): its pod mounts the files.
        JsonNode podSpec = SPEC.at("/jobManager/podTemplate/spec");
        assertThat(volumeOf(podSpec, parsed.<Path>matchedOptionValue("--jdbc-password-file", null)).has("secret"))
                .isTrue();
        assertThat(volumeOf(podSpec, parsed.<Path>matchedOptionValue("--draw-secret-file", null)).has("secret"))
                .isTrue();
        assertThat(volumeOf(podSpec, parsed.<Path>matchedOptionValue("--profile", null)).has("configMap")).isTrue();
        String text = MANIFEST.toString().toLowerCase();
        assertThat(text).doesNotContain("password=").doesNotContain("secret-key").doesNotContain("access-key")
                .doesNotContain("hongbao_draw_secret").doesNotContain("hongbao_pg_password");
    }

    @Test
    void shouldRunTheJarAndMainClassTheBuildMakes() throws Exception {
        Document pom = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(ROOT.resolve("flink-jobs/pom.xml").toFile());
        var xpath = XPathFactory.newInstance().newXPath();
        String mainClass = xpath.evaluate("//*[local-name()='transformer'][contains(@implementation,"
                + "'ManifestResourceTransformer')]/*[local-name()='mainClass']", pom).strip();
        String finalName = xpath.evaluate("//*[local-name()='plugin'][*[local-name()='artifactId']="
                + "'maven-shade-plugin']//*[local-name()='finalName']", pom).strip();
        assertThat(mainClass).isEqualTo(PayoutJob.class.getName());
        assertThat(SPEC.at("/job/entryClass").asText()).isEqualTo(mainClass);

        String jarUri = SPEC.at("/job/jarURI").asText();
        assertThat(jarUri).startsWith("local:///").endsWith("/" + finalName + ".jar");
        // The image puts the jar where jarURI says.
        String dockerfile = Files.readString(MANIFEST_FILE.resolveSibling("Dockerfile"));
        String jarDir = jarUri.substring("local://".length(), jarUri.lastIndexOf('/') + 1);
        assertThat(dockerfile).contains("COPY flink-jobs/target/" + finalName + ".jar " + jarDir + "\n");
    }

    @Test
    void shouldRunHighlyAvailableWithCheckpointsInTwoRegions() {
        assertThat(CONFIG.path("high-availability.type").asText()).isIn("kubernetes", "zookeeper");
        assertThat(CONFIG.path("high-availability.storageDir").asText()).matches("(s3a?|gs|abfss?|oss)://.+");
        assertThat(SPEC.at("/jobManager/replicas").asInt()).as("a standby JobManager").isGreaterThanOrEqualTo(2);

        assertThat(CONFIG.path("execution.checkpointing.dir").asText()).startsWith("dual:///");
        assertThat(CONFIG.path("execution.checkpointing.savepoint-dir").asText()).startsWith("dual:///");
        String primary = CONFIG.path("dual.primary").asText();
        String replica = CONFIG.path("dual.replica").asText();
        assertThat(List.of(primary, replica)).allMatch(root -> root.matches("(s3a?|gs|abfss?|oss)://.+"));
        assertThat(primary).isNotEqualTo(replica);
        assertThat(CONFIG.path("fs.s3a.bucket." + bucket(primary) + ".endpoint").asText())
                .as("each region's own object store").isNotEmpty()
                .isNotEqualTo(CONFIG.path("fs.s3a.bucket." + bucket(replica) + ".endpoint").asText());
        assertThat(CONFIG.path("state.backend.type").asText()).isEqualTo("rocksdb");
        assertThat(CONFIG.path("execution.checkpointing.incremental").asText()).isEqualTo("true");
        assertThat(SPEC.at("/job/upgradeMode").asText()).isEqualTo("savepoint");
    }

    @Test
    void shouldExposeThePrometheusReporterOnEveryPod() {
        assertThat(CONFIG.path("metrics.reporter.prom.factory.class").asText())
                .isEqualTo("org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
        int port = Integer.parseInt(CONFIG.path("metrics.reporter.prom.port").asText());
        JsonNode ports = mainContainer(SPEC.at("/podTemplate/spec")).path("ports");
        assertThat(StreamSupport.stream(ports.spliterator(), false).map(p -> p.path("containerPort").asInt()))
                .contains(port);
    }

    @Test
    void shouldPassTheJava17OptionsOfTheClusterConfig() throws IOException {
        // The operator replaces the image's config.yaml: the list must come along (the same as bin/flink-cluster's).
        Matcher m = Pattern.compile("(?m)^      all: (.+)$")
                .matcher(Files.readString(ROOT.resolve("infra/flink/config.yaml")));
        assertThat(m.find()).isTrue();
        assertThat(CONFIG.path("env.java.opts.all").asText()).isEqualTo(m.group(1).strip());
    }

    /**
     * The CRD's schema as the API server applies it with strict field validation (kubectl's default): an object
     * with declared properties takes no others, unless it preserves unknown fields. JSON Schema draft 4 reads the
     * rest of OpenAPI v3 as it is; the {@code x-kubernetes-*} extensions, used up here, are dropped. apiVersion, kind and
     * metadata the API server checks itself, so the root accepts them.
     */
    private static JsonNode strict(JsonNode schema) {
        ObjectNode root = (ObjectNode) schema;
        ObjectNode properties = root.withObjectProperty("properties");
        properties.putObject("apiVersion").put("type", "string");
        properties.putObject("kind").put("type", "string");
        properties.putObject("metadata").put("type", "object");
        closeObjects(root);
        return root;
    }

    private static void closeObjects(JsonNode node) {
        if (node instanceof ObjectNode object) {
            if (object.has("properties") && !object.has("additionalProperties")
                    && !object.path("x-kubernetes-preserve-unknown-fields").asBoolean(false)) {
                object.put("additionalProperties", false);
            }
            // Read here (preserve-unknown-fields) or already spelt out in JSON Schema (int-or-string's anyOf).
            object.properties().removeIf(e -> e.getKey().startsWith("x-kubernetes-"));
            object.properties().forEach(e -> closeObjects(e.getValue()));
        } else if (node.isArray()) {
            node.forEach(FlinkDeploymentManifestTest::closeObjects);
        }
    }

    private static List<String> errors(JsonNode manifest) {
        return SCHEMA.validate(manifest).stream().map(Error::toString).toList();
    }

    private static JsonNode broken(Consumer<JsonNode> change) {
        JsonNode copy = MANIFEST.deepCopy();
        change.accept(copy);
        return copy;
    }

    private static List<String> args() {
        List<String> args = new ArrayList<>();
        SPEC.at("/job/args").forEach(a -> args.add(a.asText()));
        return args;
    }

    /** The volume of the main container's mount that holds this file. */
    private static JsonNode volumeOf(JsonNode podSpec, Path file) {
        assertThat(file).as("a file option").isNotNull();
        for (JsonNode mount : mainContainer(podSpec).path("volumeMounts")) {
            if (file.startsWith(Path.of(mount.path("mountPath").asText()))) {
                for (JsonNode volume : podSpec.path("volumes")) {
                    if (volume.path("name").asText().equals(mount.path("name").asText())) {
                        return volume;
                    }
                }
            }
        }
        throw new AssertionError(file + " is on no mounted volume of the JobManager");
    }

    private static JsonNode mainContainer(JsonNode podSpec) {
        for (JsonNode container : podSpec.path("containers")) {
            if (container.path("name").asText().equals("flink-main-container")) {
                return container;
            }
        }
        throw new AssertionError("no flink-main-container in " + podSpec);
    }

    private static boolean contains(JsonNode array, String value) {
        return StreamSupport.stream(array.spliterator(), false).anyMatch(v -> v.asText().equals(value));
    }

    private static String bucket(String root) {
        return root.substring(root.indexOf("://") + 3).split("/")[0];
    }

    private static JsonNode crdSchema(String apiVersion) {
        String version = apiVersion.substring(apiVersion.indexOf('/') + 1);
        try (InputStream in = FlinkDeploymentManifestTest.class.getClassLoader().getResourceAsStream(CRD)) {
            assertThat(in).as("%s on the test classpath (flink-kubernetes-operator-api)", CRD).isNotNull();
            for (JsonNode v : RepositoryFiles.YAML.readTree(in).path("spec").path("versions")) {
                if (v.path("name").asText().equals(version)) {
                    return v.path("schema").path("openAPIV3Schema");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new AssertionError("the CRD has no version " + version);
    }
}
