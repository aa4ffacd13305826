package io.hongbao.bench.jmh;

import io.hongbao.money.Payout;
import io.hongbao.settlement.RoundCatalog;
import io.hongbao.settlement.SettlementDatabase;
import io.hongbao.settlement.SettlementSchema;
import io.hongbao.settlement.sink.SettlementCommittable;
import io.hongbao.settlement.sink.SettlementCommitter;
import io.hongbao.settlement.sink.SettlementSink;
import io.hongbao.settlement.sink.SettlementWriter;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.connector.sink2.Committer.CommitRequest;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The exactly-once sink against the real local PostgreSQL, per payout row: {@code rows} payouts written by
 * {@link SettlementWriter} in batches of {@code batchSize}, the transaction prepared (what a checkpoint does)
 * and committed by {@link SettlementCommitter} (what checkpoint completion does). Score: time per row. Uses
 * a database {@code bench_jmh_<pid>}, dropped at the end. Server: {@code -Dhongbao.bench.pg}.
 * {@code checkpointOfFew} does the same with 10 payouts: its score is the cost of one checkpoint (prepare with
 * its checks at PREPARE, commit), nearly without rows.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
public class SinkBatchBenchmark {
    static final String SERVER = System.getProperty("hongbao.bench.pg", "jdbc:postgresql://127.0.0.1:5432/");
    static final int ROWS = 2_000;
    static final int FEW = 10;

    @Param({"100", "1000"})
    public int batchSize;

    private String database;
    private SettlementDatabase db;
    private SettlementWriter writer;
    private SettlementCommitter committer;
    private long next;

    @Setup(Level.Trial)
    public void createDatabase() throws Exception {
        database = "bench_jmh_" + ProcessHandle.current().pid();
        admin("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
        admin("CREATE DATABASE " + database);
        db = SettlementDatabase.of(SERVER + database, "postgres", "");
        SettlementSchema.migrate(db);
        RoundCatalog.register(db, Samples.profile().roundConfigs());
        writer = new SettlementWriter(new SettlementSink.Options(db, "jmh", batchSize, Duration.ofSeconds(30)),
                0, 1, 0);
        committer = new SettlementCommitter(db, "jmh");
    }

    @TearDown(Level.Trial)
    public void dropDatabase() throws Exception {
        writer.close();
        committer.close();
        admin("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
    }

    /** One checkpoint's worth of payouts: write, prepare, commit. Score: per payout row. */
    @Benchmark
    @org.openjdk.jmh.annotations.OperationsPerInvocation(ROWS)
    public void writePrepareCommit() throws Exception {
        checkpoint(ROWS);
    }

    /** A checkpoint of {@link #FEW} payouts: what a checkpoint costs beyond its rows. Score: per checkpoint. */
    @Benchmark
    public void checkpointOfFew() throws Exception {
        checkpoint(FEW);
    }

    private void checkpoint(int rows) throws Exception {
        for (int i = 0; i < rows; i++) {
            long n = next++;
            writer.write(new Payout(1, 1, 100_000_000L + n % 1_000_000, 100 + n % 700,
                    String.format("%032x", n), "bench.shakes", (int) (n & 3), n, 1_800_000_000_000L), null);
        }
        Collection<SettlementCommittable> prepared = writer.prepareCommit();
        List<CommitRequest<SettlementCommittable>> requests = new ArrayList<>();
        for (SettlementCommittable c : prepared) {
            requests.add(new Request(c));
        }
        committer.commit(requests);
    }

    private static void admin(String sql) throws Exception {
        try (Connection c = DriverManager.getConnection(SERVER + "postgres", "postgres", "");
                Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /** A commit request that fails the benchmark on anything but success. */
    private record Request(SettlementCommittable committable) implements CommitRequest<SettlementCommittable> {
        @Override
        public SettlementCommittable getCommittable() {
            return committable;
        }

        @Override
        public int getNumberOfRetries() {
            return 0;
        }

        @Override
        public void signalFailedWithKnownReason(Throwable t) {
            throw new IllegalStateException("commit failed", t);
        }

        @Override
        public void signalFailedWithUnknownReason(Throwable t) {
            throw new IllegalStateException("commit failed", t);
        }

        @Override
        public void retryLater() {
            throw new IllegalStateException("commit asked to retry");
        }

        @Override
        public void updateAndRetryLater(SettlementCommittable committable) {
            throw new IllegalStateException("commit asked to retry");
        }

        @Override
        public void signalAlreadyCommitted() {
            throw new IllegalStateException("committed twice");
        }
    }
}
