package io.hongbao.settlement.analytics;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.settlement.SettlementDatabase;
import io.hongbao.settlement.testing.EmbeddedSettlementDb;
import io.hongbao.settlement.testing.Sql;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The sink in a MiniCluster against a real PostgreSQL: latest values land, replays never lower a count. */
class InteractionCountSinkITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(2)
            .build());

    private static final long MINUTE = 1_764_000_000_000L / 60_000L * 60_000L;

    @Test
    void shouldKeepTheHighestCountPerCellAcrossReplays() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedDatabase("interaction_counts");

        run(db, runningCounts(1, MINUTE, "ios", "CN-11", 10), runningCounts(2, MINUTE + 60_000, "tv", "CN-31", 3));
        assertThat(shakes(db, 1, MINUTE, "ios", "CN-11")).isEqualTo(10);
        assertThat(shakes(db, 2, MINUTE + 60_000, "tv", "CN-31")).isEqualTo(3);

        // A replay from an older checkpoint: the first cell only reaches 7 again, the second goes on to 5.
        run(db, runningCounts(1, MINUTE, "ios", "CN-11", 7), runningCounts(2, MINUTE + 60_000, "tv", "CN-31", 5));
        assertThat(shakes(db, 1, MINUTE, "ios", "CN-11")).isEqualTo(10);
        assertThat(shakes(db, 2, MINUTE + 60_000, "tv", "CN-31")).isEqualTo(5);
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM interaction_count")).isEqualTo(2);
        assertThat(Sql.count(db, "SELECT shakes FROM interaction_round WHERE round_id = 2")).isEqualTo(5);
    }

    /** What the counter emits for a cell seeing {@code upTo} shakes: 1, 2, ... upTo. */
    private static List<InteractionCount> runningCounts(int round, long minute, String channel, String region,
            long upTo) {
        List<InteractionCount> counts = new ArrayList<>();
        for (long n = 1; n <= upTo; n++) {
            counts.add(new InteractionCount(round, minute, channel, region, n));
        }
        return counts;
    }

    @SafeVarargs
    private static void run(SettlementDatabase db, List<InteractionCount>... cells) throws Exception {
        List<InteractionCount> all = new ArrayList<>();
        for (List<InteractionCount> cell : cells) {
            all.addAll(cell);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        // Parallelism 2 behind a rebalance: both writers see values of the same cell, in any order.
        env.fromData(all).setParallelism(1).rebalance()
                .sinkTo(new InteractionCountSink(db, Duration.ofMillis(50))).name("interaction counts");
        env.execute("interaction-count-sink-itcase");
    }

    private static long shakes(SettlementDatabase db, int round, long minute, String channel, String region)
            throws Exception {
        return Sql.count(db, "SELECT shakes FROM interaction_count WHERE round_id = " + round
                + " AND minute_start = to_timestamp(" + minute / 1000 + ") AND channel = '" + channel
                + "' AND region = '" + region + "'");
    }
}
