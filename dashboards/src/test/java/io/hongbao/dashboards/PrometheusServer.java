package io.hongbao.dashboards;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * A real Prometheus server (the Debian package's {@code prometheus} binary) as a child process of the test,
 * scraping one target, plus {@code promtool}: from the PATH, else fetched from the Debian package by
 * {@link DebianTool}, so nothing needs to be installed by hand.
 */
final class PrometheusServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Process process;
    private final URI base;
    private final Path log;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private PrometheusServer(Process process, URI base, Path log) {
        this.process = process;
        this.base = base;
        this.log = log;
    }

    /** The executable on the PATH, else from the Debian package {@code prometheus} (fetched once, cached). */
    static Path executable(String name) {
        return DebianTool.executable(name, "prometheus");
    }

    /** The first port of {@code candidates} nothing listens on (on any interface). */
    static int freePort(IntStream candidates) {
        return candidates.filter(port -> {
            try (ServerSocket socket = new ServerSocket(port)) {
                return true;
            } catch (IOException e) {
                return false;
            }
        }).findFirst().orElseThrow(() -> new IllegalStateException("no free port in the assigned range"));
    }

    /** {@code promtool <args>} in {@code dir}; returns its output, failing on a non-zero exit. */
    static String promtool(Path dir, String... args) throws Exception {
        Run run = runPromtool(dir, args);
        assertThat(run.exit()).as("promtool %s:%n%s", String.join(" ", args), run.output()).isZero();
        return run.output();
    }

    /** What a promtool run returned and printed (stdout and stderr). */
    record Run(int exit, String output) {}

    /** {@code promtool <args>} in {@code dir}, whatever its exit code. */
    static Run runPromtool(Path dir, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(executable("promtool").toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("promtool finished").isTrue();
        return new Run(p.exitValue(), output);
    }

    /** Starts Prometheus on 127.0.0.1:{@code port}, scraping {@code target} (host:port) every second. */
    static PrometheusServer start(Path dir, int port, String target) throws Exception {
        Path config = dir.resolve("prometheus.yml");
        Files.writeString(config, """
                global:
                  scrape_interval: 1s
                  evaluation_interval: 1s
                scrape_configs:
                  - job_name: flink
                    static_configs:
                      - targets: ["%s"]
                """.formatted(target));
        promtool(dir, "check", "config", config.toString());
        Path log = dir.resolve("prometheus.log");
        Process process = new ProcessBuilder(executable("prometheus").toString(),
                "--config.file=" + config, "--storage.tsdb.path=" + dir.resolve("data"),
                "--web.listen-address=127.0.0.1:" + port)
                .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        PrometheusServer server = new PrometheusServer(process, URI.create("http://127.0.0.1:" + port), log);
        server.awaitReady(Duration.ofSeconds(60));
        return server;
    }

    private void awaitReady(Duration timeout) throws Exception {
        Instant deadline = Instant.now().plus(timeout);
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                throw new AssertionError("prometheus exited with " + process.exitValue() + ":\n" + Files.readString(log));
            }
            try {
                if (http.send(HttpRequest.newBuilder(base.resolve("/-/ready")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // still starting
            }
            Thread.sleep(200);
        }
        throw new AssertionError("prometheus not ready after " + timeout + ":\n" + Files.readString(log));
    }

    /** An instant query through the HTTP API; the {@code data.result} array (failing on an API error). */
    JsonNode query(String expr) throws Exception {
        JsonNode body = get("/api/v1/query?query=" + URLEncoder.encode(expr, StandardCharsets.UTF_8));
        assertThat(body.path("status").asText()).as("query %s: %s", expr, body).isEqualTo("success");
        return body.path("data").path("result");
    }

    /** The values of {@code label} on the series of {@code metric}: what Grafana's label_values(metric, label) lists. */
    List<String> labelValues(String label, String metric) throws Exception {
        List<String> values = new ArrayList<>();
        get("/api/v1/label/" + label + "/values?match[]=" + URLEncoder.encode(metric, StandardCharsets.UTF_8))
                .path("data").forEach(v -> values.add(v.asText()));
        return values;
    }

    /** Every metric name Prometheus has seen (for failure messages). */
    List<String> metricNames() throws Exception {
        List<String> names = new ArrayList<>();
        get("/api/v1/label/__name__/values").path("data").forEach(n -> names.add(n.asText()));
        return names;
    }

    private JsonNode get(String pathAndQuery) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(base.resolve(pathAndQuery))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(response.body());
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
