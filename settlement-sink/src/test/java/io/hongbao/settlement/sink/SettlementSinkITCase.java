package io.hongbao.settlement.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.settlement.RoundCatalog;
import io.hongbao.settlement.SettlementDatabase;
import io.hongbao.money.LedgerEntry;
import io.hongbao.money.RejectCount;
import io.hongbao.money.Round;
import io.hongbao.money.SettlementRow;
import io.hongbao.settlement.reconcile.Reconciliation;
import io.hongbao.settlement.reconcile.ReconciliationResult;
import io.hongbao.settlement.testing.EmbeddedSettlementDb;
import io.hongbao.settlement.testing.Records;
import io.hongbao.settlement.testing.Sql;
import java.sql.Connection;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The sink in a real Flink MiniCluster at parallelism 2 with checkpoints every 150 ms, while the job is made to
 * fail several times (at random records, and right after a checkpoint barrier passed the sink, when its
 * transaction is prepared but not committed): every payout lands exactly once, nothing stays prepared.
 */
class SettlementSinkITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(2)
            .build());

    private static final int PAYOUTS = 30_000;
    private static final int INJECTED_FAILURES = 4;
    /** Shared with the job: the MiniCluster runs in this JVM. */
    static final AtomicInteger FAILURES_LEFT = new AtomicInteger();
    static final AtomicInteger FAILURES_THROWN = new AtomicInteger();

    @Test
    void shouldWriteEveryPayoutExactlyOnceThroughFailuresAndRestarts() throws Exception {
        SettlementDatabase db = EmbeddedSettlementDb.migratedDatabase("sink_itcase");
        // Reference data, before the job writes; the campaign leaves room for the raise to 10,000,001 fen.
        RoundCatalog.register(db, new RoundCatalog.Campaign("itcase", 20_000_000), List.of(config(0)));
        // The job connects as a login member of hongbao_writer (no superuser): writer, committer and orphan
        // cleanup must all work with the role's rights; finance reconciles as a member of hongbao_finance.
        SettlementDatabase job = EmbeddedSettlementDb.asJob(db);
        SettlementDatabase finance = EmbeddedSettlementDb.asMemberOf(db, "hongbao_finance");
        FAILURES_LEFT.set(INJECTED_FAILURES);
        FAILURES_THROWN.set(0);

        Configuration conf = new Configuration();
        conf.setString("execution.checkpointing.interval", "150 ms");
        conf.setString("execution.checkpointing.mode", "EXACTLY_ONCE");
        conf.setString("restart-strategy.type", "fixed-delay");
        conf.setString("restart-strategy.fixed-delay.attempts", "20");
        conf.setString("restart-strategy.fixed-delay.delay", "100 ms");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);

        env.fromSequence(0, PAYOUTS - 1)
                .map(new FailSometimes()).name("fail-sometimes")
                .flatMap(SettlementSinkITCase::records).returns(SettlementRow.TYPE).name("to-settlement-records")
                .sinkTo(SettlementSink.builder().database(job).sinkName("itcase").batchSize(100).build())
                .name("settlement").uid("settlement-sink");
        env.execute("settlement-sink-itcase");

        assertThat(FAILURES_THROWN.get()).as("failures injected").isEqualTo(INJECTED_FAILURES);
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM payout")).isEqualTo(PAYOUTS);
        assertThat(Sql.count(db, "SELECT COUNT(DISTINCT kafka_offset) FROM payout WHERE kafka_offset BETWEEN 0 AND "
                + (PAYOUTS - 1))).isEqualTo(PAYOUTS);
        long expectedFen = 0;
        for (long n = 0; n < PAYOUTS; n++) {
            expectedFen += 1 + n % 100;
        }
        assertThat(Sql.count(db, "SELECT SUM(amount_fen) FROM payout")).isEqualTo(expectedFen);
        assertThat(Sql.count(db, "SELECT SUM(payouts) FROM settlement_commit")).isEqualTo(PAYOUTS);
        assertThat(Sql.count(db, "SELECT COUNT(DISTINCT attempt_nonce) FROM settlement_commit"))
                .as("writer instances that committed").isGreaterThanOrEqualTo(2);
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM round_ledger")).isEqualTo(PAYOUTS / 1000 + 1);
        assertThat(Sql.count(db, "SELECT records FROM rejected_count WHERE reason = 'EVERY_250TH'"))
                .isEqualTo((PAYOUTS - 1) / 250 + 1);
        assertThat(Sql.count(db, "SELECT config_version FROM round WHERE round_id = 1")).isOne();
        assertThat(Sql.preparedGids(db)).as("prepared transactions left behind").isEmpty();
        assertThat(Sql.count(db, "SELECT COUNT(*) FROM settlement_lost_transaction")).isZero();

        try (Connection c = finance.connect("test")) {
            ReconciliationResult result = new Reconciliation().run(c);
            assertThat(result.violations()).isEmpty();
            assertThat(result.passed()).isTrue();
            assertThat(result.rounds()).singleElement().satisfies(r -> assertThat(r.paidFen()).isEqualTo(
                    Sql.count(db, "SELECT SUM(amount_fen) FROM payout")));
        }
    }

    /** Shake n's settlement rows: its payout, and now and then a ledger entry, a reject count, a config. */
    private static void records(long n, Collector<SettlementRow> out) {
        out.collect(Records.payout(1, n % 10 == 0 ? 2 : 1, n % 1000, 1 + n % 100, n));
        if (n % 1000 == 999) {
            out.collect(new LedgerEntry("r1-test-" + n, 1, "BUDGET_RAISED", 1, 10_000_001, "test",
                    Records.ROUND_START_MS + n, "hongbao.control/0/" + n));
        }
        if (n % 250 == 0) {
            out.collect(new RejectCount("EVERY_250TH", n / 250 + 1));
        }
        if (n == PAYOUTS / 2) {
            // The raise's own ledger line comes with it (the database moves no budget without one).
            out.collect(new LedgerEntry("r1-raise", 1, "BUDGET_RAISED", 1, 10_000_001, "test",
                    Records.ROUND_START_MS + n, "hongbao.control/0/raise"));
        }
        if (n == 0 || n == PAYOUTS / 2) {
            out.collect(config(n == 0 ? 0 : 1));
        }
    }

    private static Round config(int version) {
        Round r = Records.round(1, 10_000_000 + version, version, Records.tier(1, 1, 100, PAYOUTS),
                Records.tier(2, 1, 100, PAYOUTS / 10));
        return new Round(r.roundId(), r.name(), r.startsAtMs(), r.endsAtMs(), r.budgetFen(), r.winPerMillion(),
                PAYOUTS / 1000, 100L * PAYOUTS, r.paused(), r.version(), r.tiers());
    }

    /**
     * Slows the stream down so it spans many checkpoints, and fails while {@link #FAILURES_LEFT} says so:
     * either at a random record, or at the first record after a checkpoint barrier went through, which is when
     * the sink has just prepared a transaction whose checkpoint has not completed yet.
     */
    static final class FailSometimes extends RichMapFunction<Long, Long> implements CheckpointedFunction {
        private transient long seen;
        private transient long failAt;
        private transient int barriers;
        private transient boolean barrierJustPassed;

        @Override
        public void open(OpenContext openContext) {
            // Early enough that every injected failure happens before the input runs out: an attempt gets at most
            // a few thousand records past its checkpoint before it fails; a subtask has 15,000.
            failAt = new SplittableRandom().nextLong(100, 800);
        }

        @Override
        public Long map(Long n) throws Exception {
            seen++;
            if (seen % 10 == 0) {
                Thread.sleep(1);
            }
            // Every other failure comes right after the second barrier of the attempt: by then one checkpoint has
            // usually completed and the sink has just prepared the next, which the failure leaves orphaned.
            boolean afterBarrier = FAILURES_LEFT.get() % 2 == 0;
            boolean now = afterBarrier ? barrierJustPassed && barriers >= 2 : seen == failAt;
            barrierJustPassed = false;
            if (now && FAILURES_LEFT.getAndDecrement() > 0) {
                FAILURES_THROWN.incrementAndGet();
                throw new RuntimeException("injected failure at record " + n
                        + (afterBarrier ? " (right after a checkpoint barrier)" : ""));
            }
            return n;
        }

        @Override
        public void snapshotState(FunctionSnapshotContext context) {
            barriers++;
            barrierJustPassed = true;
        }

        @Override
        public void initializeState(FunctionInitializationContext context) {}
    }
}
