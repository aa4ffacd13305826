package io.hongbao.rehearsal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

/** Prometheus's instant-query answers as its HTTP API writes them (copied from Prometheus 2.42's /api/v1/query). */
class PrometheusQueryTest {
    private static JsonNode answer(String json) throws Exception {
        return RunFixture.JSON.readTree(json);
    }

    @Test
    void shouldReadTheOneSampleOfASum() throws Exception {
        assertThat(PrometheusQuery.valueOf(answer("""
                {"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1796156762.951,"1234.5"]}]}}
                """))).hasValue(1234.5);
    }

    @Test
    void shouldReadAnEmptyVectorAsNoValueNotZero() throws Exception {
        assertThat(PrometheusQuery.valueOf(answer("""
                {"status":"success","data":{"resultType":"vector","result":[]}}
                """))).isEmpty();
    }

    @Test
    void shouldReadScalarsAndNaN() throws Exception {
        assertThat(PrometheusQuery.valueOf(answer("""
                {"status":"success","data":{"resultType":"scalar","result":[1796156762.951,"7"]}}
                """))).hasValue(7);
        assertThat(PrometheusQuery.valueOf(answer("""
                {"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1796156762.951,"NaN"]}]}}
                """))).isEmpty();
        assertThat(PrometheusQuery.valueOf(answer("""
                {"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1796156762.951,"+Inf"]}]}}
                """))).isEqualTo(OptionalDouble.of(Double.POSITIVE_INFINITY));
    }

    @Test
    void shouldRefuseSeveralSeriesForOneFigure() throws Exception {
        assertThatThrownBy(() -> PrometheusQuery.valueOf(answer("""
                {"status":"success","data":{"resultType":"vector","result":[
                  {"metric":{"subtask_index":"0"},"value":[1796156762.951,"1"]},
                  {"metric":{"subtask_index":"1"},"value":[1796156762.951,"2"]}]}}
                """))).hasMessageContaining("at most one series");
    }

    @Test
    void shouldQuoteLabelValuesForPromQl() {
        assertThat(PrometheusQuery.quoted("Source: shakes")).isEqualTo("\"Source: shakes\"");
        assertThat(PrometheusQuery.quoted("a\"b\\c")).isEqualTo("\"a\\\"b\\\\c\"");
        assertThat(Sampler.promQl("lag", "abc")).isEqualTo(
                "sum(flink_taskmanager_job_task_operator_pendingRecords{job_id=\"abc\",operator_name=\"Source:_shakes\"})");
        assertThat(Sampler.reporterLabel("Source: shakes -> validate shakes")).as("as the reporter writes task_name")
                .isEqualTo("Source:_shakes____validate_shakes");
    }
}
