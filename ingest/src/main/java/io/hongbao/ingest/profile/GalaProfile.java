package io.hongbao.ingest.profile;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.hongbao.money.Round;
import io.hongbao.money.Tier;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A gala: its rounds (the payout job's round config) and the traffic the generator makes for it. Loaded from
 * a YAML file in {@code datasets/}; see {@code datasets/README.md} for every field.
 */
public record GalaProfile(
        @JsonProperty(value = "name", required = true) String name,
        @JsonProperty("description") String description,
        @JsonProperty(value = "gala_start", required = true) OffsetDateTime galaStart,
        @JsonProperty("campaign_budget_fen") Long campaignBudgetFen,
        @JsonProperty(value = "rounds", required = true) List<RoundProfile> rounds,
        @JsonProperty(value = "traffic", required = true) TrafficProfile traffic) {

    private static final ObjectMapper YAML = JsonMapper.builder(new YAMLFactory())
            .addModule(new JavaTimeModule())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
            // `burst_decay: ""` would otherwise bind as null (found by GalaProfileFuzzProperties).
            .withCoercionConfigDefaults(c -> c.setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail))
            .build();

    public GalaProfile {
        rounds = List.copyOf(rounds);
    }

    public static GalaProfile load(Path file) {
        try {
            return parse(Files.readString(file), file.toString());
        } catch (java.nio.file.NoSuchFileException e) {
            throw new ProfileException("profile " + file + " does not exist", e);
        } catch (IOException e) {
            throw new ProfileException("cannot read profile " + file + ": " + e.getMessage(), e);
        }
    }

    public static GalaProfile parse(String yaml, String source) {
        GalaProfile profile;
        try {
            JsonNode tree = YAML.readTree(yaml);
            // No field of a profile means anything when null (optional ones are left out): an explicit null
            // (`start_offset: ~`, `rounds: [~]`) is refused by its path here instead of surfacing as a
            // NullPointerException in validate() (found by GalaProfileFuzzProperties).
            String nullAt = firstNull(tree, "");
            if (nullAt != null) {
                throw new ProfileException(source + ": " + nullAt + " is null (leave an optional field out instead)");
            }
            profile = YAML.treeToValue(tree, GalaProfile.class);
        } catch (IOException e) {
            // Jackson wraps our own validation in its exceptions; surface the plain message.
            Throwable cause = e.getCause() instanceof ProfileException pe ? pe : e;
            throw new ProfileException(source + ": " + firstLine(cause.getMessage()), e);
        }
        if (profile == null) {
            throw new ProfileException(source + ": empty profile");
        }
        try {
            profile.validate();
        } catch (ArithmeticException e) {
            // A duration such as P9999999999D overflows milliseconds (found by GalaProfileFuzzProperties).
            throw new ProfileException(source + ": a duration or amount is too large (" + e.getMessage() + ")", e);
        }
        return profile;
    }

    /** The path of the first null value in the tree (not the tree itself: an empty file is reported as such), or null. */
    private static String firstNull(JsonNode node, String path) {
        if (node == null || node.isMissingNode()) {
            return null;
        }
        if (node.isNull()) {
            return path.isEmpty() ? null : path;
        }
        if (node.isContainerNode()) {
            var fields = node.fields();
            int i = 0;
            for (JsonNode child : node) {
                String at = node.isArray() ? path + "[" + i++ + "]" : path + (path.isEmpty() ? "" : ".") + fields.next().getKey();
                String found = firstNull(child, at);
                if (found != null) {
                    return found;
                }
            }
        }
        return null;
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unreadable";
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }

    public void validate() {
        ProfileException.require(name != null && !name.isBlank(), "name must not be blank");
        ProfileException.require(!rounds.isEmpty(), "at least one round is needed");
        Set<Integer> ids = new HashSet<>();
        for (RoundProfile round : rounds) {
            round.validate();
            ProfileException.require(ids.add(round.id()), "round id " + round.id() + " repeated");
            try {
                roundEndMs(round);
            } catch (ArithmeticException | java.time.DateTimeException e) {
                // gala_start plus a huge start_offset or duration (found by GalaProfileFuzzProperties).
                throw new ProfileException("round " + round.id() + " ends beyond the representable time range", e);
            }
        }
        List<RoundProfile> byStart = new ArrayList<>(rounds);
        byStart.sort(Comparator.comparing(RoundProfile::startOffset));
        for (int i = 1; i < byStart.size(); i++) {
            RoundProfile before = byStart.get(i - 1);
            RoundProfile after = byStart.get(i);
            ProfileException.require(before.startOffset().plus(before.duration()).compareTo(after.startOffset()) <= 0,
                    "rounds " + before.id() + " and " + after.id() + " overlap");
        }
        ProfileException.require(campaignBudgetFen == null || campaignBudgetFen >= totalBudgetFen(),
                "campaign_budget_fen " + campaignBudgetFen + " is below the rounds' budgets (" + totalBudgetFen() + ")");
        traffic.validate();
    }

    /** The round windows in epoch milliseconds, by round id. */
    public RoundWindows windows() {
        return RoundWindows.of(this);
    }

    public long roundStartMs(RoundProfile round) {
        return galaStart.toInstant().plus(round.startOffset()).toEpochMilli();
    }

    public long roundEndMs(RoundProfile round) {
        return Math.addExact(roundStartMs(round), round.duration().toMillis());
    }

    /**
     * The round as the payout job starts it and the settlement tables hold it: the window in epoch milliseconds,
     * tiers by tier id, unpaused, version 0; named {@code round-<id>} when the profile gives no name.
     */
    public Round roundConfig(RoundProfile round) {
        return new Round(round.id(), round.name() == null ? "round-" + round.id() : round.name(),
                roundStartMs(round), roundEndMs(round), round.budgetFen(), round.winPerMillion(),
                round.userCaps().winsPerRound(), round.userCaps().fenPerGala(), false, 0,
                round.tiers().stream().sorted(Comparator.comparingInt(Tier::tierId)).toList());
    }

    /** {@link #roundConfig} of every round, in the profile's order. */
    public List<Round> roundConfigs() {
        return rounds.stream().map(this::roundConfig).toList();
    }

    /** Sum of all round budgets in fen. */
    public long totalBudgetFen() {
        return rounds.stream().mapToLong(RoundProfile::budgetFen).reduce(0, Math::addExact);
    }

    /**
     * The campaign's total budget in fen, which the rounds' budgets, raises included, never exceed (the settlement
     * database holds the job to it): {@code campaign_budget_fen}, or when left out the sum of the round budgets
     * (no room for raises).
     */
    public long campaignBudget() {
        return campaignBudgetFen != null ? campaignBudgetFen : totalBudgetFen();
    }

    public RoundProfile round(int id) {
        return rounds.stream().filter(r -> r.id() == id).findFirst()
                .orElseThrow(() -> new ProfileException("no round " + id));
    }
}
