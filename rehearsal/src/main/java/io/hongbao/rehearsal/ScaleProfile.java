package io.hongbao.rehearsal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A rehearsal profile at the rate the machine sustains: traffic and money scaled by one factor, so the fen per
 * interaction stay the campaign's (1.5e11 fen for 69.1e9 interactions); time by another, for the short form.
 *
 * <ul>
 *   <li>{@code --traffic-factor k}: {@code events_per_round}, every {@code budget_fen}, every tier's
 *       {@code count_cap} (a tier's share of a round's money stays what it was) and {@code campaign_budget_fen}
 *       times k; prizes stay as they are: a person's packet does not shrink with the rehearsal.</li>
 *   <li>{@code --time-factor t}: every {@code start_offset}, {@code duration}, {@code burst_ramp} and
 *       {@code burst_decay} times t, so the shape (the ramp, the 10x peak, the gaps) stays; the traffic per round stays, so its rate goes up by 1/t.</li>
 *   <li>{@code --rounds n}: the first n rounds only.</li>
 * </ul>
 * The YAML tree is edited, not the profile classes (this module does not depend on ingest): the generator and
 * the job validate the result when they read it.
 */
@Command(name = "scale-profile", mixinStandardHelpOptions = true,
        description = "Write a copy of a gala profile with traffic and money scaled by one factor, time by another.")
final class ScaleProfile implements Callable<Integer> {
    @Option(names = "--profile", required = true, description = "The profile to scale (datasets/rehearsal.yaml).")
    Path profile;

    @Option(names = "--out", required = true, description = "Where to write the scaled profile.")
    Path out;

    @Option(names = "--traffic-factor", defaultValue = "1", description = "Traffic and money factor (default 1).")
    double trafficFactor;

    @Option(names = "--time-factor", defaultValue = "1", description = "Time factor (default 1).")
    double timeFactor;

    @Option(names = "--rounds", defaultValue = "0", description = "Keep the first N rounds (default: all).")
    int rounds;

    @Override
    public Integer call() throws IOException {
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory().disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                .disable(YAMLGenerator.Feature.SPLIT_LINES));
        ObjectNode root = (ObjectNode) yaml.readTree(profile.toFile());
        scale(root, trafficFactor, timeFactor, rounds);
        yaml.writeValue(out.toFile(), root);
        System.out.printf("scaled %s by %.4f (traffic, money), %.4f (time): %s rounds, %s events a round, "
                        + "%s fen in all -> %s%n", profile.getFileName(), trafficFactor, timeFactor,
                root.get("rounds").size(), root.path("traffic").path("events_per_round").asText(),
                root.path("campaign_budget_fen").asText(), out);
        return 0;
    }

    static void scale(ObjectNode root, double trafficFactor, double timeFactor, int keepRounds) {
        if (!(trafficFactor > 0) || !(timeFactor > 0)) {
            throw new IllegalArgumentException("factors must be positive");
        }
        ArrayNode rounds = (ArrayNode) root.get("rounds");
        while (keepRounds > 0 && rounds.size() > keepRounds) {
            rounds.remove(rounds.size() - 1);
        }
        long campaign = 0;
        for (JsonNode r : rounds) {
            ObjectNode round = (ObjectNode) r;
            long budget = (long) Math.floor(round.get("budget_fen").asLong() * trafficFactor);
            round.put("budget_fen", budget);
            campaign += budget;
            round.put("start_offset", scaled(round.get("start_offset").asText(), timeFactor));
            round.put("duration", scaled(round.get("duration").asText(), timeFactor));
            ArrayNode tiers = (ArrayNode) round.get("tiers");
            for (int i = tiers.size() - 1; i >= 0; i--) {
                ObjectNode tier = (ObjectNode) tiers.get(i);
                long cap = (long) Math.floor(tier.get("count_cap").asLong() * trafficFactor);
                if (cap > 0) {
                    tier.put("count_cap", cap);
                } else if (tiers.size() > 1) {
                    tiers.remove(i); // a cap must be positive: at this scale the tier pays no packet at all
                } else {
                    tier.put("count_cap", 1);
                }
            }
        }
        root.put("campaign_budget_fen", campaign);
        ObjectNode traffic = (ObjectNode) root.get("traffic");
        traffic.put("events_per_round", Math.max(1, Math.round(traffic.get("events_per_round").asLong() * trafficFactor)));
        traffic.put("burst_decay", scaled(traffic.get("burst_decay").asText(), timeFactor));
        if (traffic.hasNonNull("burst_ramp")) {
            traffic.put("burst_ramp", scaled(traffic.get("burst_ramp").asText(), timeFactor));
        }
    }

    private static String scaled(String isoDuration, double factor) {
        long ms = Math.round(Duration.parse(isoDuration).toMillis() * factor);
        return Duration.ofMillis(ms).toString();
    }
}
