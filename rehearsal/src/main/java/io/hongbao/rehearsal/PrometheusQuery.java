package io.hongbao.rehearsal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.OptionalDouble;

/**
 * Instant queries against Prometheus's HTTP API ({@code GET /api/v1/query}), read with Jackson: the answer is
 * {@code {"status":"success","data":{"resultType":"vector","result":[{"metric":{...},"value":[<unix s>,"<value>"]}]}}}
 * (values are strings; {@code NaN} and {@code ±Inf} are spelled so). The sampler asks for sums, so an answer is one
 * number or nothing: an empty vector (no such series: not scraped yet, the job restarting) is "Prometheus has no
 * value", never 0.
 */
final class PrometheusQuery {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final String base;

    PrometheusQuery(String base) {
        this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    }

    /** The value of an expression that yields at most one sample (a sum, a scalar); empty when there is none. */
    OptionalDouble value(String expr) throws IOException, InterruptedException {
        URI uri = URI.create(base + "/api/v1/query?query=" + URLEncoder.encode(expr, StandardCharsets.UTF_8));
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(3)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        JsonNode body = JSON.readTree(r.body());
        if (r.statusCode() != 200 || !"success".equals(body.path("status").asText())) {
            throw new IOException("Prometheus query " + expr + ": HTTP " + r.statusCode() + " "
                    + body.path("errorType").asText() + " " + body.path("error").asText());
        }
        return valueOf(body);
    }

    /** The one sample of a successful answer: a vector's single element or a scalar; empty when there is none. */
    static OptionalDouble valueOf(JsonNode answer) {
        JsonNode data = answer.path("data");
        JsonNode sample;
        switch (data.path("resultType").asText()) {
            case "scalar" -> sample = data.path("result");
            case "vector" -> {
                JsonNode result = data.path("result");
                if (result.size() == 0) {
                    return OptionalDouble.empty();
                }
                if (result.size() > 1) {
                    throw new IllegalArgumentException("expected at most one series, got " + result.size() + ": " + result);
                }
                sample = result.get(0).path("value");
            }
            default -> throw new IllegalArgumentException("not an instant vector or scalar: " + data.path("resultType"));
        }
        double v = Double.parseDouble(sample.path(1).asText().replace("Inf", "Infinity"));
        return Double.isNaN(v) ? OptionalDouble.empty() : OptionalDouble.of(v);
    }

    /** A label value inside a PromQL string literal (double-quoted). */
    static String quoted(String labelValue) {
        return '"' + labelValue.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }
}
