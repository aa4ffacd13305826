package io.hongbao.ingest.cli;

import io.hongbao.ingest.generator.GeneratedRecord;
import io.hongbao.ingest.generator.KafkaShakeProducer;
import io.hongbao.ingest.generator.Manifest;
import io.hongbao.ingest.generator.PaceClock;
import io.hongbao.ingest.generator.Pacer;
import io.hongbao.ingest.generator.PartitionLanes;
import io.hongbao.ingest.generator.PartitionStall;
import io.hongbao.ingest.generator.ShakeTopics;
import io.hongbao.ingest.generator.ShakeTrafficGenerator;
import io.hongbao.ingest.profile.GalaProfile;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code generate}: a gala's shake traffic into Kafka, and its manifest. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Produce a gala profile's shake traffic to Kafka (idempotent producer, acks=all) and write "
                + "a manifest of exactly what was produced.")
public class GenerateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    KafkaOptions kafka;

    @Option(names = "--profile", required = true, paramLabel = "FILE", description = "Gala profile (datasets/*.yaml).")
    Path profile;

    @Option(names = "--topic", defaultValue = "hongbao.shakes", description = "Topic to produce to (default: ${DEFAULT-VALUE}).")
    String topic;

    @Option(names = "--seed", defaultValue = "42", description = "Random seed; the same seed gives the same bytes (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--events-per-round", defaultValue = "0",
            description = "Person shakes per round; overrides the profile's traffic.events_per_round when > 0.")
    long eventsPerRound;

    @Option(names = "--manifest", required = true, paramLabel = "FILE", description = "Where to write the manifest (JSON).")
    Path manifestFile;

    @Option(names = "--dry-run", description = "Generate and write the manifest without Kafka.")
    boolean dryRun;

    @Option(names = "--tick-interval", defaultValue = "PT1S", paramLabel = "DURATION",
            description = "Write a gateway tick to every partition of the topic each DURATION of gateway time, and a "
                    + "final one past the last round's end, so the payout job's rounds close in event time without "
                    + "idleness; PT0S writes none (default: ${DEFAULT-VALUE}).")
    Duration tickInterval;

    @Option(names = "--stall-partition", paramLabel = "P@AFTER+FOR",
            description = "Drills: hold back every record for partition P from AFTER until AFTER+FOR of wall time "
                    + "(ISO-8601 durations, e.g. 2@PT20S+PT45S), then send them, as a stalled broker would.")
    String stallPartition;

    @Option(names = "--pace", defaultValue = "0", paramLabel = "SPEED",
            description = "Rehearsals: send each record when its gateway time comes, SPEED times faster than real "
                    + "time since the first record (1: as the profile has it), so bursts and the gaps between rounds "
                    + "keep their shape in wall time; prints the wall time the pace starts at. The ticks after the "
                    + "last round go out at once. 0: as fast as the producer goes (default: ${DEFAULT-VALUE}).")
    double pace;

    @Option(names = "--producers", defaultValue = "1", paramLabel = "N",
            description = "Kafka producers sending at once, each with its own thread and the partitions p with "
                    + "p %% N equal to its index, so each partition's records keep their order; generation runs up "
                    + "to --ahead-records ahead of them (a rehearsal's burst is made before its peak). 1: the "
                    + "generating thread sends, as it always did (default: ${DEFAULT-VALUE}).")
    int producers;

    @Option(names = "--ahead-records", defaultValue = "1000000", paramLabel = "N",
            description = "With --producers above 1: how many records generation may be ahead of the sends, at "
                    + "most (~150 bytes of heap each; default: ${DEFAULT-VALUE}).")
    long aheadRecords;

    @Option(names = "--progress-seconds", defaultValue = "5", description = "Progress line interval (default: ${DEFAULT-VALUE}).")
    int progressSeconds;

    /** Paced: how late the sends ran so far, for the progress lines. */
    private volatile java.util.function.LongSupplier lateness;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        GalaProfile gala = GalaProfile.load(profile);
        ShakeTrafficGenerator generator = new ShakeTrafficGenerator(gala, seed, eventsPerRound);
        Manifest manifest = new Manifest();
        manifest.profile = gala.name();
        manifest.seed = seed;
        manifest.topic = dryRun ? null : topic;
        manifest.eventsPerRound = generator.eventsPerRound();
        manifest.botDevices = gala.traffic().botDevices();
        if (pace < 0 || Double.isInfinite(pace) || Double.isNaN(pace)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--pace must be 0 (off) or a positive speed, was " + pace);
        }
        if (tickInterval.isNegative()) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--tick-interval must not be negative, was " + tickInterval);
        }
        if (producers < 1 || producers > 64) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--producers must be within 1..64, was " + producers);
        }
        if (producers > 1 && stallPartition != null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--stall-partition holds back one partition of one producer: use it with --producers 1");
        }
        if (aheadRecords < PartitionLanes.CHUNK) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--ahead-records must be at least " + PartitionLanes.CHUNK + ", was " + aheadRecords);
        }
        boolean ticks = !tickInterval.isZero();
        manifest.tickIntervalMs = ticks ? tickInterval.toMillis() : 0;

        AtomicLong generated = new AtomicLong();
        long started = System.nanoTime();
        ScheduledExecutorService progress = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "progress");
            t.setDaemon(true);
            return t;
        });
        progress.scheduleAtFixedRate(() -> {
            java.util.function.LongSupplier late = lateness;
            err.printf("generate: %,d records, %,.0f rec/s%s%n", generated.get(), generated.get() / seconds(started),
                    late == null ? "" : String.format(", sent at the worst %,d ms after its time so far",
                            late.getAsLong()));
        }, progressSeconds, progressSeconds, TimeUnit.SECONDS);
        try {
            if (dryRun) {
                if (ticks) {
                    // No topic to ask: the profile's partition count, the one a fresh topic gets.
                    manifest.partitions = gala.traffic().partitions();
                    generator.withTicks(manifest.partitions, tickInterval);
                }
                generator.generate(manifest.andThen(r -> generated.incrementAndGet()));
            } else {
                Properties props = kafka.clientProperties();
                ShakeTopics.Existing existing = ShakeTopics.ensure(props, topic, gala.traffic().partitions());
                manifest.partitions = existing.partitions();
                if (ticks) {
                    // Ticks go to every partition the topic really has; a partition without them would hold
                    // event time back.
                    generator.withTicks(existing.partitions(), tickInterval);
                }
                if (existing.existedBefore()) {
                    err.printf("generate: topic %s already existed; the manifest describes this run only%n", topic);
                }
                long paceUntil = gala.rounds().stream().mapToLong(gala::roundEndMs).max().orElse(Long.MAX_VALUE)
                        + ShakeTrafficGenerator.OUT_OF_WINDOW_SPREAD_MS;
                if (producers > 1) {
                    sendThroughLanes(generator, manifest, generated, props, existing.partitions(), paceUntil, err);
                } else {
                    try (KafkaShakeProducer producer = new KafkaShakeProducer(props, topic)) {
                        Consumer<GeneratedRecord> out = producer;
                        PartitionStall stall = null;
                        if (stallPartition != null) {
                            stall = stall(producer, existing.partitions());
                            out = stall;
                        }
                        Consumer<GeneratedRecord> sink = manifest.andThen(out).andThen(r -> generated.incrementAndGet());
                        Pacer pacer = null;
                        if (pace > 0) {
                            Pacer paced = new Pacer(sink, pace).paceUntil(paceUntil);
                            pacer = paced.onStart(() -> sayPaceStarts(err, paced.originTsMs()));
                            lateness = paced::behindMs;
                            sink = pacer;
                        }
                        generator.generate(sink);
                        if (pacer != null) {
                            sayPaced(err, pacer.behindMs());
                        }
                        if (stall != null) {
                            stall.release();
                        }
                    }
                }
            }
        } finally {
            progress.shutdownNow();
        }
        manifest.finish().write(manifestFile);
        PrintWriter out = spec.commandLine().getOut();
        out.printf("generated %,d records (%,d distinct valid shakes, %,d retries, %,d rejects) and %,d ticks in "
                + "%.1f s%s%n", manifest.records, manifest.expected.distinctValidEvents(),
                manifest.expected.duplicates(), manifest.expected.rejectedTotal(), manifest.ticks, seconds(started),
                dryRun ? "" : " to " + topic);
        out.printf("manifest: %s (sha256 %s)%n", manifestFile, manifest.recordsSha256);
        return 0;
    }

    /**
     * {@code --producers N}: one producer per lane ({@link PartitionLanes}), generation on this thread ahead of
     * them, the manifest fed in generation order, as with one producer.
     */
    private void sendThroughLanes(ShakeTrafficGenerator generator, Manifest manifest, AtomicLong generated,
            Properties props, int partitions, long paceUntil, PrintWriter err) {
        List<KafkaShakeProducer> lanes = new ArrayList<>();
        try {
            for (int i = 0; i < producers; i++) {
                lanes.add(new KafkaShakeProducer(props, topic));
            }
            PaceClock clock = pace > 0 ? new PaceClock(pace) : null;
            if (clock != null) {
                lateness = clock::behindMs;
            }
            try (PartitionLanes sender = new PartitionLanes(lanes, partitions, aheadRecords, clock, paceUntil,
                    () -> sayPaceStarts(err, clock.originTsMs()))) {
                generator.generate(manifest.andThen(sender).andThen(r -> generated.incrementAndGet()));
            }
            if (clock != null) {
                sayPaced(err, clock.behindMs());
            }
        } finally {
            RuntimeException failed = null;
            for (KafkaShakeProducer lane : lanes) {
                try {
                    lane.close();
                } catch (RuntimeException e) {
                    failed = failed == null ? e : failed;
                }
            }
            if (failed != null) {
                throw failed;
            }
        }
    }

    /** bin/rehearsal reads this line: the wall time the pace maps the origin's gateway time to. */
    private void sayPaceStarts(PrintWriter err, long originTsMs) {
        err.printf("generate: pace %s from gateway time %d at wall time %d%n", pace, originTsMs,
                System.currentTimeMillis());
        err.flush();
    }

    private static void sayPaced(PrintWriter err, long behindMs) {
        err.printf("generate: paced; at the worst a record went out %d ms after its time%n", behindMs);
    }

    private PartitionStall stall(Consumer<GeneratedRecord> next, int partitions) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)@(\\S+)\\+(\\S+)").matcher(stallPartition);
        if (!m.matches()) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--stall-partition takes P@AFTER+FOR, e.g. 2@PT20S+PT45S, was " + stallPartition);
        }
        try {
            return new PartitionStall(next, Integer.parseInt(m.group(1)), partitions, Duration.parse(m.group(2)),
                    Duration.parse(m.group(3)));
        } catch (RuntimeException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--stall-partition " + stallPartition + ": " + e.getMessage());
        }
    }

    private static double seconds(long startedNanos) {
        return Math.max(1e-3, (System.nanoTime() - startedNanos) / 1e9);
    }
}
