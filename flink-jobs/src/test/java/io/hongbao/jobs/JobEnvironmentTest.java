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
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.jobgraph.JobVertex;
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

    /**
     * Every keyed operator's key groups are fixed at the job's first start and kept in every checkpoint and savepoint:
     * left unset, Flink derives 128 for any parallelism up to 85 and the job could never rescale beyond 128. The job
     * graph the payout job submits carries its own maximum.
     */
    @Test
    void shouldPinTheMaxParallelismOfEveryParallelOperator() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(
                JobEnvironment.configuration(null, Duration.ofSeconds(10)));
        GalaProfile tiny = GalaProfile.load(Datasets.file("tiny.yaml"));
        PayoutJobGraph.build(env, env.fromData(List.of(new ShakeRecord()), TypeInformation.of(ShakeRecord.class)),
                env.fromData(List.of(new RoundChange()), TypeInformation.of(RoundChange.class)), tiny,
                new PayoutSettings(4, 10_000, 1L, 2L), new PayoutJobGraph.Sinks(new DiscardingSink<>(),
                        new DiscardingSink<>(), new DiscardingSink<>()), "test");

        JobGraph graph = env.getStreamGraph().getJobGraph();
        Map<String, Integer> maxParallelism = new TreeMap<>();
        for (JobVertex v : graph.getVertices()) {
            maxParallelism.put(v.getName(), v.getMaxParallelism());
        }
        // The test's two fromData sources (the profile's round config too) never run in parallel: their maximum is 1.
        assertThat(maxParallelism).as("max parallelism per vertex").isNotEmpty()
                .allSatisfy((name, max) -> assertThat(max).as(name).isIn(JobEnvironment.MAX_PARALLELISM, 1));
        assertThat(maxParallelism.values()).as("the keyed vertices (identity, decider, sweeper, counts)")
                .filteredOn(max -> max == JobEnvironment.MAX_PARALLELISM).hasSizeGreaterThanOrEqualTo(3);
        assertThat(Integer.bitCount(JobEnvironment.MAX_PARALLELISM)).as("a power of two").isEqualTo(1);
        assertThat(JobEnvironment.MAX_PARALLELISM).as("no more key groups than identity shards")
                .isLessThanOrEqualTo(PayoutSettings.IDENTITY_SHARDS);
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
