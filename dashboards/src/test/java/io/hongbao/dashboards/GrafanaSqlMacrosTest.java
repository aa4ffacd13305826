package io.hongbao.dashboards;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hongbao.dashboards.GrafanaSqlMacros.TimeRange;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The expansions are the ones Grafana's PostgreSQL documentation lists for each macro. */
class GrafanaSqlMacrosTest {
    private static final TimeRange RANGE = new TimeRange(Instant.parse("2017-04-21T05:01:17Z"),
            Instant.parse("2017-04-21T05:06:17Z"));

    @Test
    void shouldExpandTimeFilterToBetweenUtcLiterals() {
        assertThat(GrafanaSqlMacros.expandMacros("WHERE $__timeFilter(minute_start)", RANGE))
                .isEqualTo("WHERE minute_start BETWEEN '2017-04-21T05:01:17Z' AND '2017-04-21T05:06:17Z'");
        TimeRange millis = new TimeRange(Instant.parse("2017-04-21T05:01:17.410Z"), Instant.parse("2017-04-21T05:06:17.000123Z"));
        assertThat(GrafanaSqlMacros.expandMacros("$__timeFilter(t)", millis))
                .isEqualTo("t BETWEEN '2017-04-21T05:01:17.41Z' AND '2017-04-21T05:06:17Z'");
    }

    @Test
    void shouldExpandTimeGroupToEpochBucketsOfTheInterval() {
        assertThat(GrafanaSqlMacros.expandMacros("SELECT $__timeGroup(shake_event_time, '5m')", RANGE))
                .isEqualTo("SELECT floor(extract(epoch from shake_event_time)/300)*300");
        assertThat(GrafanaSqlMacros.expandMacros("SELECT $__timeGroupAlias(c,'1m', 0)", RANGE))
                .isEqualTo("SELECT floor(extract(epoch from c)/60)*60 AS \"time\"");
        assertThat(GrafanaSqlMacros.expandMacros("SELECT $__timeGroup(c, '1h'), v", RANGE))
                .as("followed by a comma: the pre-5.3 alias").isEqualTo("SELECT floor(extract(epoch from c)/3600)*3600 AS \"time\", v");
    }

    @Test
    void shouldExpandTimeColumnsAndBounds() {
        assertThat(GrafanaSqlMacros.expandMacros("$__time(t), $__timeEpoch(t), $__timeFrom(), $__timeTo()", RANGE))
                .isEqualTo("t AS \"time\", extract(epoch from t) as \"time\", '2017-04-21T05:01:17Z', '2017-04-21T05:06:17Z'");
        assertThat(GrafanaSqlMacros.expandMacros("$__unixEpochFilter(ts)", RANGE))
                .isEqualTo("ts >= 1492750877 AND ts <= 1492751177");
    }

    @Test
    void shouldQuoteEveryValueOfAMultiValueVariable() {
        assertThat(GrafanaSqlMacros.substituteVariables("round_id IN ($round) OR x = ${round} OR $rounds",
                Map.of("round", List.of("1", "o'k"))))
                .isEqualTo("round_id IN ('1','o''k') OR x = '1','o''k' OR $rounds");
    }

    @Test
    void shouldRefuseMacrosItDoesNotKnow() {
        assertThatThrownBy(() -> GrafanaSqlMacros.expandMacros("$__unixEpochNanoFilter(t)", RANGE))
                .hasMessageContaining("__unixEpochNanoFilter");
        assertThatThrownBy(() -> GrafanaSqlMacros.expandMacros("GROUP BY $__interval", RANGE))
                .hasMessageContaining("unexpanded");
        assertThatThrownBy(() -> GrafanaSqlMacros.intervalSeconds("1w")).hasMessageContaining("1w");
    }
}
