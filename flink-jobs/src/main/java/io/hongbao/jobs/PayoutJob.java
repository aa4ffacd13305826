package io.hongbao.jobs;

import io.hongbao.ingest.cli.KafkaOptions;
import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.ingest.generator.ShakeTopics;
import io.hongbao.ingest.profile.GalaProfile;
import io.hongbao.jobs.functions.ControlWatermarks;
import io.hongbao.jobs.functions.DeadLetters;
import io.hongbao.jobs.functions.RoundChangeDeserializationSchema;
import io.hongbao.jobs.functions.ShakeWatermarks;
import io.hongbao.jobs.payout.PayoutSettings;
import io.hongbao.jobs.payout.RoundChange;
import io.hongbao.jobs.pipeline.PayoutJobGraph;
import io.hongbao.jobs.pipeline.KafkaSources;
import io.hongbao.settlement.RoundCatalog;
import io.hongbao.settlement.SettlementDatabase;
import io.hongbao.settlement.SettlementSchema;
import io.hongbao.settlement.analytics.InteractionCountSink;
import io.hongbao.settlement.sink.SettlementSink;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The payout job: shakes from Kafka, round changes from the control topic; payouts, ledger, round config and
 * reject totals exactly once into the PostgreSQL settlement tables; rejected records to the dead-letter topic.
 * Secrets (database password, draw key) come from the environment or files, never the command line.
 */
@Command(name = "payout-job", mixinStandardHelpOptions = true,
        description = "Decide red-packet payouts from shake events under budget caps and settle them exactly once.")
public final class PayoutJob implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(PayoutJob.class);
    /** The settlement sink's name: with the database, what makes a deployment (DeadLetters.deploymentId). */
    static final String SETTLEMENT_SINK_NAME = "payouts";

    @Spec
    CommandSpec spec;

    @Mixin
    KafkaOptions kafka;

    @Option(names = "--topic", defaultValue = "hongbao.shakes", description = "Shake topic (default: ${DEFAULT-VALUE}).")
    String topic;

    @Option(names = "--control-topic", defaultValue = "hongbao.round-control",
            description = "Round changes, JSON (default: ${DEFAULT-VALUE}).")
    String controlTopic;

    @Option(names = "--dead-letter-topic", defaultValue = "hongbao.shakes.dead-letter",
            description = "Rejected records with their reason (default: ${DEFAULT-VALUE}).")
    String deadLetterTopic;

    @Option(names = "--profile", required = true, description = "Gala profile: the round config at start.")
    Path profile;

    @Option(names = "--jdbc-url", defaultValue = "${env:HONGBAO_JDBC_URL:-jdbc:postgresql://127.0.0.1:5432/hongbao}",
            // The resolved default is not shown: it may come from the environment, and help must not echo it.
            description = "Settlement database (env HONGBAO_JDBC_URL; default: jdbc:postgresql://127.0.0.1:5432/hongbao). "
                    + "No password in it: use --jdbc-password-file or env HONGBAO_PG_PASSWORD.")
    String jdbcUrl;

    @Option(names = "--jdbc-user", defaultValue = "${env:HONGBAO_JDBC_USER:-hongbao_job}",
            description = "Database user, a login of the role hongbao_writer, never a superuser "
                    + "(env HONGBAO_JDBC_USER; default: ${DEFAULT-VALUE}).")
    String jdbcUser;

    @Option(names = "--jdbc-password-file", description = "File holding the database password; otherwise env "
            + "HONGBAO_PG_PASSWORD, otherwise none.")
    Path jdbcPasswordFile;

    @Option(names = "--draw-secret-file", description = "File holding the campaign's 128-bit draw key as 32 hex "
            + "digits; otherwise env HONGBAO_DRAW_SECRET. Keep it for the whole campaign: replays decide the same "
            + "only under the same key.")
    Path drawSecretFile;

    @Option(names = "--checkpoint-dir", description = "Checkpoint storage URI, e.g. file:///var/hongbao/checkpoints "
            + "or s3://bucket/checkpoints (default: the cluster's).")
    String checkpointDir;

    @Option(names = "--checkpoint-interval", defaultValue = "PT10S",
            description = "Checkpoint interval; payouts become visible when a checkpoint completes (default: ${DEFAULT-VALUE}).")
    Duration checkpointInterval;

    @Option(names = "--shards", defaultValue = "256", description = "Budget shards (default: ${DEFAULT-VALUE}).")
    int shards;

    @Option(names = "--reserve-per-million", defaultValue = "10000",
            description = "Budget share held for each round's sweeper (default: ${DEFAULT-VALUE} = 1%%).")
    int reservePerMillion;

    @Option(names = "--idleness", defaultValue = "PT0S",
            description = "A shake partition without records for this long stops holding event time back "
                    + "(default: ${DEFAULT-VALUE}, off: gateway ticks close rounds when traffic ends). Setting it lets a "
                    + "merely stalled partition close its round early; its later shakes are then LATE rejects.")
    Duration idleness;

    @Option(names = "--schedule-lead", defaultValue = "PT30S",
            description = "How far ahead of the shakes' event time a live schedule change (SET_WINDOW, ADD_ROUND) "
                    + "must take effect; one reaching closer is refused (default: ${DEFAULT-VALUE}). Shakes further "
                    + "ahead of the watermark than this wait for it (a stalled partition).")
    Duration scheduleLead;

    @Option(names = "--count-flush-interval", defaultValue = "PT1S",
            description = "How often interaction counts are written to PostgreSQL, ISO-8601 (default: ${DEFAULT-VALUE}).")
    Duration countFlushInterval;

    @Option(names = "--deployment-id", description = "Names this deployment's Kafka transactions (dead letters) "
            + "and consumer groups (hongbao-payout.<id>, hongbao-payout-control.<id>): "
            + "stable across restarts and savepoint resubmits, distinct per deployment sharing a Kafka cluster; set it "
            + "explicitly for datacenters A and B (default: from the settlement database and sink name).")
    String deploymentId;

    @Option(names = "--from-savepoint", paramLabel = "PATH",
            description = "Resume from this savepoint or retained checkpoint (Flink's execution.state-recovery.path), "
                    + "e.g. after `flink stop`. REST submission and `flink run -s` set the same.")
    String fromSavepoint;

    @Option(names = "--bounded", description = "Stop at the topics' end offsets as of start (local runs and tests).")
    boolean bounded;

    // fallbackValue: without it picocli inverts a negatable option whose default is true (--no-migrate gave true).
    @Option(names = "--migrate", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Apply the settlement schema migrations before starting (default: ${DEFAULT-VALUE}).")
    boolean migrate;

    public static void main(String[] args) {
        int exit = new CommandLine(new PayoutJob()).execute(args);
        if (exit != 0) {
            System.exit(exit);
        }
    }

    @Override
    public Integer call() throws Exception {
        GalaProfile gala = GalaProfile.load(profile);
        if (SettlementDatabase.urlCarriesPassword(jdbcUrl)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--jdbc-url must not carry a password "
                    + "(command lines show in process lists): use --jdbc-password-file or env HONGBAO_PG_PASSWORD");
        }
        if (controlTopic.equals(deadLetterTopic) || controlTopic.equals(topic) || deadLetterTopic.equals(topic)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--topic, --control-topic and "
                    + "--dead-letter-topic must be three topics: " + topic + ", " + controlTopic + ", " + deadLetterTopic);
        }
        // Auto-creation is off on our brokers (a typo must not create a topic): make the job's own topics, on their
        // own thread while the database is checked (independent; after a failover the restart waits for both).
        long preparing = System.nanoTime();
        CompletableFuture<Long> topics = CompletableFuture.supplyAsync(() -> {
            long started = System.nanoTime();
            ShakeTopics.ensure(kafka.clientProperties(), Map.of(controlTopic, 1, deadLetterTopic, 4));
            return millisSince(started);
        }, PayoutJob::userCodeThread);
        SettlementDatabase db = SettlementDatabase.of(jdbcUrl, jdbcUser, secret(jdbcPasswordFile, "HONGBAO_PG_PASSWORD", ""));
        if (db.isSuperuser()) {
            // Privileges and the append-only triggers do not bind a superuser: the job must not be one.
            throw new CommandLine.ParameterException(spec.commandLine(), "--jdbc-user " + jdbcUser + " is a superuser: "
                    + "the job connects as a login of the role hongbao_writer (bin/settlement-db makes hongbao_job)");
        }
        if (migrate) {
            SettlementSchema.migrate(db);
        }
        // Payouts have foreign keys to their round and tier: the profile's rounds are reference data, in place
        // (and unchanged, or the job stops here) before anything is paid.
        RoundCatalog.register(db, new RoundCatalog.Campaign(gala.name(), gala.campaignBudget()),
                gala.roundConfigs());
        long databaseMs = millisSince(preparing);
        long[] key = drawKey(secret(drawSecretFile, "HONGBAO_DRAW_SECRET", null));
        PayoutSettings settings = new PayoutSettings(shards, reservePerMillion, key[0], key[1]);
        long topicsMs = awaitTopics(topics);
        LOG.info("Prepared in {} ms: settlement database {} ms, Kafka topics {} ms (in parallel)",
                millisSince(preparing), databaseMs, topicsMs);
        String deployment = deploymentId != null ? deploymentId : DeadLetters.deploymentId(db, SETTLEMENT_SINK_NAME);
        StreamExecutionEnvironment env = JobEnvironment.create(checkpointDir, checkpointInterval, fromSavepoint);
        DataStream<ShakeRecord> shakes = env.fromSource(
                KafkaSources.shakes(kafka.clientProperties(), topic, shakeGroupId(deployment), bounded),
                ShakeWatermarks.strategy(gala.windows(), Duration.ofSeconds(2), idleness), "shakes")
                .uid("shake-source");
        DataStream<RoundChange> changes = env.fromSource(KafkaSources.committed(kafka.clientProperties(), controlTopic,
                        controlGroupId(deployment), new RoundChangeDeserializationSchema(), bounded),
                ControlWatermarks.neverHoldBack(),
                "round changes").uid("control-source");
        PayoutJobGraph.build(env, shakes, changes, gala, settings, scheduleLead, new PayoutJobGraph.Sinks(
                SettlementSink.builder().database(db).sinkName(SETTLEMENT_SINK_NAME).build(),
                new InteractionCountSink(db, countFlushInterval),
                DeadLetters.sink(kafka.clientProperties(), deadLetterTopic, deployment)),
                java.time.Instant.now().toString());
        env.execute("hongbao payouts (" + gala.name() + ")");
        return 0;
    }

    private static long millisSince(long nanos) {
        return (System.nanoTime() - nanos) / 1_000_000;
    }

    /**
     * A thread for the job's own preparation: main() runs in Flink's user-code class loader (in a JobManager that
     * runs the jar), and Kafka's admin client loads its classes through the thread's context class loader.
     */
    private static void userCodeThread(Runnable task) {
        Thread thread = new Thread(task, "hongbao-prepare-topics");
        thread.setContextClassLoader(Thread.currentThread().getContextClassLoader());
        thread.setDaemon(true);
        thread.start();
    }

    private static long awaitTopics(CompletableFuture<Long> topics) throws Exception {
        try {
            return topics.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }

    /**
     * The consumer groups the payout job's sources commit offsets under (Flink restores from its checkpoints, the
     * commits are for lag monitoring): the job's own, per deployment, so a staging and a production deployment on
     * one Kafka cluster do not show each other's lag.
     */
    static String shakeGroupId(String deployment) {
        return "hongbao-payout." + deployment;
    }

    static String controlGroupId(String deployment) {
        return "hongbao-payout-control." + deployment;
    }

    private static String secret(Path file, String env, String fallback) throws IOException {
        if (file != null) {
            return Files.readString(file).strip();
        }
        String value = System.getenv(env);
        if (value != null && !value.isBlank()) {
            return value.strip();
        }
        if (fallback == null) {
            throw new CommandLine.ParameterException(new CommandLine(new PayoutJob()),
                    "no " + env + " in the environment and no file given for it");
        }
        return fallback;
    }

    /** The draw key: 32 hex digits, 128 bits. */
    static long[] drawKey(String hex) {
        if (hex.length() != 32 || !hex.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
            throw new IllegalArgumentException("the draw secret must be 32 hex digits (128 bits)");
        }
        return new long[] {HexFormat.fromHexDigitsToLong(hex, 0, 16), HexFormat.fromHexDigitsToLong(hex, 16, 32)};
    }
}
