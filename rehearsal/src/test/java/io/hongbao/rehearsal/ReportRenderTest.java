package io.hongbao.rehearsal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * report.html in a real browser: headless Chromium (Debian's, fetched if not on the PATH) loads the report of the
 * fixture run and its DOM is read back after the scripts ran. Every chart must have drawn data: its series hold
 * points (data-points, set by the page after setOption) and its SVG holds drawn paths beyond the axes.
 */
class ReportRenderTest {
    private static final Pattern CHART = Pattern.compile(
            "<div class=\"chart\" id=\"(chart-[a-z-]+)\"([^>]*)>(.*?)</section>", Pattern.DOTALL);
    private static final Pattern POINTS = Pattern.compile("data-points=\"(\\d+)\"");

    @TempDir
    Path dir;

    /** Per chart: the points its series hold and the SVG paths it drew. */
    static Map<String, int[]> charts(String dom) {
        Map<String, int[]> charts = new LinkedHashMap<>();
        Matcher m = CHART.matcher(dom);
        while (m.find()) {
            Matcher p = POINTS.matcher(m.group(2));
            int points = p.find() ? Integer.parseInt(p.group(1)) : -1;
            int paths = m.group(3).split("<path", -1).length - 1;
            charts.put(m.group(1), new int[] {points, paths});
        }
        return charts;
    }

    @Test
    void shouldDrawEveryChartWithData() throws Exception {
        ObjectNode report = ReportCommand.build(RunFixture.write(dir));
        Path html = dir.resolve("report.html");
        Files.writeString(html, ReportHtml.render(report));

        String dom = Chromium.find().dumpDom(html);

        assertThat(dom).contains("data-rendered=\"6\"");
        Map<String, int[]> charts = charts(dom);
        assertThat(charts.keySet()).containsExactly("chart-rate-lag", "chart-budget", "chart-payouts",
                "chart-backpressure", "chart-checkpoints", "chart-calibration");
        charts.forEach((id, c) -> {
            assertThat(c[0]).as(id + ": points in its series").isPositive();
            // An empty chart still draws its axes (a handful of paths); data adds a line, bars or a marked area.
            assertThat(c[1]).as(id + ": SVG paths drawn").isGreaterThan(8);
        });
        assertThat(dom).contains("REHEARSAL FAILED").contains("kill-taskmanager");
        // Left for a look (rehearsal screenshot --html target/fixture-report/report.html --out-dir ...).
        Files.createDirectories(Path.of("target/fixture-report"));
        Files.copy(html, Path.of("target/fixture-report/report.html"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void shouldSeeAChartWithoutData() throws Exception {
        ObjectNode report = ReportCommand.build(RunFixture.write(dir));
        ((ArrayNode) report.at("/gala/series/payoutsPerS")).removeAll();
        Path html = dir.resolve("report.html");
        Files.writeString(html, ReportHtml.render(report));

        Map<String, int[]> charts = charts(Chromium.find().dumpDom(html));

        assertThat(charts.get("chart-payouts")[0]).as("the check this test relies on can fail").isZero();
        assertThat(charts.get("chart-rate-lag")[0]).isPositive();
    }
}
