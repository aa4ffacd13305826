package io.hongbao.rehearsal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * report.html: the template ({@code report.html} beside this class) with ECharts (from the npm registry at build
 * time, {@code echarts/dist/echarts.min.js} in the jar) and the report's JSON inlined, so the file opens anywhere,
 * offline, as it is. The charts draw as SVG, which a headless browser's DOM shows (ReportRenderTest reads it).
 */
final class ReportHtml {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ReportHtml() {}

    static String render(JsonNode report) {
        String template = resource("report.html");
        String echarts = resource("echarts/dist/echarts.min.js");
        String version;
        try {
            version = JSON.readTree(resource("echarts/package.json")).path("version").asText();
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
        String data;
        try {
            // "</" cannot end the script element from inside the data, whatever a detail string holds.
            data = JSON.writeValueAsString(report).replace("</", "<\\/");
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
        if (echarts.contains("</script")) {
            throw new IllegalStateException("echarts.min.js contains </script and cannot be inlined as it is");
        }
        return template.replace("@ECHARTS_VERSION@", version)
                .replace("/*@ECHARTS@*/", echarts)
                .replace("/*@DATA@*/", data);
    }

    private static String resource(String name) {
        try (InputStream in = ReportHtml.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("resource " + name + " missing beside " + ReportHtml.class.getName()
                        + " (ECharts comes from the build: ./mvnw -pl rehearsal package)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
