package io.hongbao.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.ingest.profile.GalaProfile;
import io.hongbao.jobs.JobEnvironment;
import io.hongbao.jobs.payout.PayoutSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The harness, small and fast (no Kafka, no PostgreSQL): a MiniCluster run with the production checkpoint
 * settings whose checkpoint statistics and probe timing come back, and the sizing arithmetic. The real
 * measurements are bin/benchmark's, never the build's.
 */
class HarnessSmokeTest {
    @Test
    void shouldMeasureDedupeStatePerDeviceFromTheFinalCheckpoint(@TempDir Path dir) throws Exception {
        long devices = 200_000;
        PayoutSettings settings = new PayoutSettings(16, 0, 1, 2);
        GalaProfile gala = GalaProfile.load(Path.of("../datasets/bench.yaml"));

        FlinkRun.Checkpoints cp = FlinkRun.run("smoke", JobEnvironment.configuration(dir.toUri().toString(),
                Duration.ofMillis(200)), 1, env -> Topologies.dedupeState(env, gala, devices, 2, settings, "smoke"));

        Probe probe = Probe.named("smoke");
        assertThat(probe.records()).isEqualTo(2 * devices);
        assertThat(probe.seconds()).isPositive();
        assertThat(cp.completed()).isPositive();
        // Two ids a device, each at least its 16 bytes: the checkpoint holds the whole state, not a delta.
        assertThat(cp.lastFullStateBytes() / (double) devices).isBetween(2 * 16.0, 2 * 200.0);
    }

    @Test
    void shouldDeriveCoresForTheGalaFromPerCoreRates() {
        assertThat(Sizing.averageRate()).isCloseTo(4_798_611, org.assertj.core.data.Offset.offset(1.0));
        List<Map<String, Object>> rows = Sizing.table(List.of(Map.of("what", "raw", "parallelism", 1,
                "events_per_jvm_cpu_s", 1_000_000.0, "broker_cpu_s", 0.5, "records", 1_000_000L)));

        assertThat(rows).hasSize(2);
        assertThat(rows.get(0)).containsEntry("cores_for_average", 5L).containsEntry("cores_for_peak", 48L);
        assertThat(rows.get(1)).containsEntry("events_per_core_s", 2_000_000.0).containsEntry("cores_for_peak", 24L);
    }
}
