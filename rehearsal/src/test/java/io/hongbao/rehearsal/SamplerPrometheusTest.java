package io.hongbao.rehearsal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.withinPercentage;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sampler's Prometheus figures against a real Prometheus server, started by {@code bin/prometheus} as the
 * rehearsal starts it (the PATH's binary, else Debian's package, fetched once; the repository's alert rules; its
 * target discovery on a reporter range of one port) scraping, every second, an endpoint that serves what Flink's
 * PrometheusReporter exports for the shake source (names and labels as a running cluster's reporter writes them:
 * {@code operator_name="Source:_shakes"}): per subtask {@code pendingRecords} and a {@code numRecordsOut}
 * counter, with another job's and another operator's series beside them that must not count.
 */
class SamplerPrometheusTest {
    private static final long PER_SCRAPE_0 = 500;
    private static final long PER_SCRAPE_1 = 250;
    @TempDir
    static Path dir;
    private static HttpServer reporter;
    private static final Path SCRIPT = Path.of("..", "bin", "prometheus").toAbsolutePath().normalize();
    private static int[] ports;
    private static String url;
    private static final AtomicLong scrapes = new AtomicLong();

    @BeforeAll
    static void start() throws Exception {
        reporter = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        reporter.createContext("/metrics", exchange -> {
            long n = scrapes.incrementAndGet();
            String job = "job_name=\"hongbao payouts (test)\",task_name=\"Source:_shakes____validate_shakes\"";
            String body = """
                    # HELP flink_taskmanager_job_task_operator_pendingRecords pendingRecords (scope: taskmanager_job_task_operator)
                    # TYPE flink_taskmanager_job_task_operator_pendingRecords gauge
                    flink_taskmanager_job_task_operator_pendingRecords{job_id="abc",operator_name="Source:_shakes",subtask_index="0",%1$s} 120.0
                    flink_taskmanager_job_task_operator_pendingRecords{job_id="abc",operator_name="Source:_shakes",subtask_index="1",%1$s} 30.0
                    flink_taskmanager_job_task_operator_pendingRecords{job_id="other",operator_name="Source:_shakes",subtask_index="0",%1$s} 999.0
                    flink_taskmanager_job_task_operator_pendingRecords{job_id="abc",operator_name="Source:_round_changes",subtask_index="0",%1$s} 7.0
                    # HELP flink_taskmanager_job_task_operator_numRecordsOut numRecordsOut (scope: taskmanager_job_task_operator)
                    # TYPE flink_taskmanager_job_task_operator_numRecordsOut gauge
                    flink_taskmanager_job_task_operator_numRecordsOut{job_id="abc",operator_name="Source:_shakes",subtask_index="0",%1$s} %2$d.0
                    flink_taskmanager_job_task_operator_numRecordsOut{job_id="abc",operator_name="Source:_shakes",subtask_index="1",%1$s} %3$d.0
                    flink_taskmanager_job_task_operator_numRecordsOut{job_id="abc",operator_name="validate",subtask_index="0",%1$s} %4$d.0
                    """.formatted(job, n * PER_SCRAPE_0, n * PER_SCRAPE_1, n * 10_000);
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4");
            exchange.sendResponseHeaders(200, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        reporter.start();

        int port;
        try (var socket = new java.net.ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        url = "http://127.0.0.1:" + port;
        // bin/prometheus itself, as the rehearsal runs it: its reporter range is the one port of this endpoint.
        int reporterPort = reporter.getAddress().getPort();
        prometheus("start", port, reporterPort);
    }

    private static void prometheus(String command, int port, int reporterPort) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(SCRIPT.toString(), command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("bin-prometheus.log").toFile()));
        pb.environment().put("HONGBAO_PROMETHEUS_DIR", dir.resolve("prometheus").toString());
        pb.environment().put("HONGBAO_PROMETHEUS_PORT", String.valueOf(port));
        pb.environment().put("HONGBAO_FLINK_PROMETHEUS_PORTS", reporterPort + "-" + reporterPort);
        Process p = pb.start();
        assertThat(p.waitFor(10, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as("bin/prometheus %s: %s", command, dir.resolve("bin-prometheus.log")).isZero();
        ports = new int[] {port, reporterPort};
    }

    @AfterAll
    static void stop() throws Exception {
        if (ports != null) {
            prometheus("stop", ports[0], ports[1]);
        }
        if (reporter != null) {
            reporter.stop(0);
        }
    }

    /** A REST sample as the sampler writes one before Prometheus is asked. */
    private static ObjectNode restSample() {
        ObjectNode s = RunFixture.JSON.createObjectNode().put("t", 1L).put("job", "abc").put("inputRate", 1).put("lag", 2);
        s.putObject("sources").put("inputRate", "rest").put("lag", "rest");
        return s;
    }

    @Test
    void shouldTakeTheSourcesRateAndLagFromPrometheusAndKeepRestWhereItHasNone() throws Exception {
        Sampler sampler = new Sampler();
        sampler.prometheus = new PrometheusQuery(url);
        // Until Prometheus has two scrapes of the counter it has no rate: wait for both figures (not a speed test).
        ObjectNode s = restSample();
        Instant deadline = Instant.now().plus(Duration.ofSeconds(90));
        while (!"prometheus".equals(s.path("sources").path("inputRate").asText())) {
            assertThat(Instant.now()).as("Prometheus answers within 90 s; its log: %s", dir.resolve("prometheus/prometheus.log"))
                    .isBefore(deadline);
            Thread.sleep(500);
            s = restSample();
            try {
                sampler.samplePrometheus(s, "abc");
            } catch (IOException notUpYet) {
                // connection refused while it starts
            }
        }
        assertThat(s.get("lag").asLong()).as("120 + 30 of job abc's shake source, not the other job's or operator's")
                .isEqualTo(150);
        // Prometheus stamps each scrape near, not exactly on, its 1 s schedule: the rate is 750 within the jitter.
        assertThat(s.get("inputRate").asLong()).as("per second: 500 + 250 a scrape, one scrape a second")
                .isCloseTo(PER_SCRAPE_0 + PER_SCRAPE_1, withinPercentage(5));
        assertThat(s.get("sources").get("lag").asText()).isEqualTo("prometheus");
        assertThat(s.get("restInputRate").asLong()).as("the REST figure is kept").isEqualTo(1);
        assertThat(s.get("restLag").asLong()).isEqualTo(2);

        ObjectNode gone = restSample().put("job", "restarted");
        sampler.samplePrometheus(gone, "restarted");
        assertThat(gone.get("inputRate").asLong()).as("no series for the job: the REST figure stays").isEqualTo(1);
        assertThat(gone.get("sources").get("inputRate").asText()).isEqualTo("rest");
        assertThat(gone.has("restInputRate")).isFalse();
    }
}
