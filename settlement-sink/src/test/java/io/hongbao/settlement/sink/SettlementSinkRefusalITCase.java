package io.hongbao.settlement.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hongbao.settlement.RoundCatalog;
import io.hongbao.settlement.SettlementDatabase;
import io.hongbao.money.SettlementRow;
import io.hongbao.settlement.testing.EmbeddedSettlementDb;
import io.hongbao.settlement.testing.Records;
import io.hongbao.settlement.testing.Sql;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.ExceptionUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A job that decides more than the round's budget, in a real MiniCluster with a restart strategy that would
 * restart it 20 times: the database refuses the transaction at PREPARE (the writer's prepareCommit, at the
 * checkpoint barrier), and the job goes FAILED at once, without one restart, and pays nothing of it.
 */
class SettlementSinkRefusalITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(1)
            .build());

    /** Incremented by every attempt of the job (the MiniCluster runs in this JVM). */
    static final AtomicInteger ATTEMPTS = new AtomicInteger();

    @Test
    void shouldStopTheJobWithoutRestartsWhenTheDatabaseRefusesABudget() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedDatabase("sink_refusal");
        // 150 fen of budget; the job below decides 20 payouts of 100 fen, to 20 users.
        RoundCatalog.register(db, List.of(Records.round(1, 150, 0, Records.tier(1, 1, 1_000, 1_000))));
        SettlementDatabase job = EmbeddedSettlementDb.asJob(db);
        ATTEMPTS.set(0);

        Configuration conf = new Configuration();
        conf.setString("execution.checkpointing.interval", "200 ms");
        conf.setString("restart-strategy.type", "fixed-delay");
        conf.setString("restart-strategy.fixed-delay.attempts", "20");
        conf.setString("restart-strategy.fixed-delay.delay", "50 ms");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(1);
        // Fewer records than a batch: they reach the database in prepareCommit, and the refusal comes at PREPARE.
        env.fromSequence(0, 19)
                .map(new CountAttempts()).name("count-attempts")
                .map(n -> (SettlementRow) Records.payout(1, 1, n, 100, n)).returns(SettlementRow.TYPE).name("payouts")
                .sinkTo(SettlementSink.builder().database(job).sinkName("refusal").batchSize(1_000).build())
                .name("settlement");

        assertThatThrownBy(() -> env.execute("settlement-sink-refusal"))
                .satisfies(e -> {
                    assertThat(ExceptionUtils.findThrowable(e, SuppressRestartsException.class)).isPresent();
                    assertThat(ExceptionUtils.findThrowable(e, MoneyRuleViolationException.class)).get()
                            .extracting(Throwable::getMessage).asString()
                            .contains("preparing hb:refusal:0:").contains("(HB101)")
                            .contains("above its budget in force of 150 fen");
                });

        assertThat(ATTEMPTS.get()).as("attempts of the job (1 = never restarted)").isOne();
        // At most the one payout a first, tiny checkpoint may have carried: never over the budget.
        assertThat(Sql.count(db, "SELECT COALESCE(SUM(amount_fen), 0) FROM payout")).isLessThanOrEqualTo(150);
        assertThat(Sql.preparedGids(db)).isEmpty();
    }

    static final class CountAttempts extends RichMapFunction<Long, Long> {
        @Override
        public void open(OpenContext openContext) {
            ATTEMPTS.incrementAndGet();
        }

        @Override
        public Long map(Long n) throws Exception {
            Thread.sleep(20); // spans a checkpoint: the sink prepares at the barrier, not at the end of input
            return n;
        }
    }
}
