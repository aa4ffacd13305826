package io.hongbao.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.ingest.profile.GalaProfile;
import io.hongbao.ingest.testing.Datasets;
import io.hongbao.jobs.payout.PayoutSettings;
import io.hongbao.jobs.payout.RoundChange;
import io.hongbao.jobs.pipeline.PayoutJobGraph;
import java.time.Duration;
import java.util.List;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.junit.jupiter.api.Test;

class JobEnvironmentTest {

    @Test
    void shouldBuildThePayoutJobWithoutAnyTypeFallingBackToKryo() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(
                JobEnvironment.configuration(null, Duration.ofSeconds(10)));
        assertThat(env.getConfig().getSerializerConfig().hasGenericTypesDisabled()).isTrue();

        GalaProfile tiny = GalaProfile.load(Datasets.file("tiny.yaml"));
        PayoutJobGraph.build(env, env.fromData(List.of(new ShakeRecord()), TypeInformation.of(ShakeRecord.class)),
                env.fromData(List.of(new RoundChange()), TypeInformation.of(RoundChange.class)), tiny,
                new PayoutSettings(4, 10_000, 1L, 2L), new PayoutJobGraph.Sinks(new DiscardingSink<>(),
                        new DiscardingSink<>(), new DiscardingSink<>()), "test");

        // Building the stream graph creates every edge's serializer: a generic type would fail here.
        assertThat(env.getStreamGraph().getStreamNodes()).isNotEmpty();
    }

    /** Not a job type: proves the check above would catch one. */
    static class Opaque {
        java.util.Optional<String> value;
    }

    @Test
    void shouldRefuseATypeThatNeedsKryo() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(
                JobEnvironment.configuration(null, Duration.ofSeconds(10)));

        assertThatThrownBy(() -> {
            env.fromData(List.of(new Opaque()), TypeInformation.of(Opaque.class)).sinkTo(new DiscardingSink<>());
            env.getStreamGraph();
        }).hasMessageContaining("Generic types have been disabled");
    }
}
