package io.hongbao.ingest.profile;

import io.hongbao.money.Tier;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hongbao.ingest.testing.Datasets;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Fuzzes the round-config parser: any text either becomes a profile that passed validation or is refused with
 * a {@link ProfileException} whose message says what is wrong; no other exception escapes. Inputs: arbitrary
 * text, and the tiny gala mutated line- and token-wise (lines dropped, repeated, swapped; values replaced by
 * hostile YAML: nulls, huge and negative numbers, wrong types, anchors, tags, broken dates and durations).
 * Tries per property: {@code jqwik.tries.default} (5,000 in CI; ingest/README.md has the long run).
 */
class GalaProfileFuzzProperties {
    private static final String TINY = read("tiny.yaml");
    private static final List<String> HOSTILE_VALUES = List.of("~", "null", "", "-1", "0", "1", "-0",
            "99999999999999999999", "9223372036854775807", "-9223372036854775808", "2147483648", "1e400", "NaN", ".inf",
            "-.inf", "0x7fffffff", "true", "\"\"", "[]", "{}", "[~]", "{a: 1}", "abc", "PT-1S", "PT0S", "P9999999999D",
            "PT1S", "2027-13-45T99:99:99+08:00", "2027-02-06T20:00:00+08:00", "&a x", "*a", "!!binary AAAA",
            "!!java.lang.Object {}", "'unterminated", "\"\\u0000\"", "{id: 1, name: x, amount_fen: -5, count_cap: 1, weight: 1}",
            "{id: 9, name: x, min_fen: 5, max_fen: 1, count_cap: 1, weight: 1}", "{ios: -1}", "{ios: 0}", "{CN-GD: 0}");

    private static String read(String dataset) {
        try {
            return Files.readString(Datasets.file(dataset));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Property
    void arbitraryTextIsParsedOrRefusedWithAReason(@ForAll("text") String yaml) {
        checkOutcome(yaml);
    }

    @Property
    void mutatedProfilesAreParsedOrRefusedWithAReason(@ForAll("mutatedProfiles") String yaml) {
        checkOutcome(yaml);
    }

    @Example
    void theUnmutatedProfileParses() {
        assertThat(GalaProfile.parse(TINY, "tiny.yaml").rounds()).hasSize(2);
    }

    @Example
    void anAliasBombIsRefusedNotExpanded() {
        StringBuilder bomb = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (int i = 1; i < 30; i++) {
            bomb.append("a").append(i).append(": &a").append(i).append(" [");
            bomb.append(("*a" + (i - 1) + ", ").repeat(9)).append("*a").append(i - 1).append("]\n");
        }
        assertThatThrownBy(() -> GalaProfile.parse(bomb.toString(), "bomb.yaml")).isInstanceOf(ProfileException.class)
                .hasMessageStartingWith("bomb.yaml: ");
    }

    @Example
    void deepNestingIsRefusedNotAStackOverflow() {
        String deep = "rounds: " + "[".repeat(100_000);
        assertThatThrownBy(() -> GalaProfile.parse(deep, "deep.yaml")).isInstanceOf(ProfileException.class);
    }

    static void checkOutcome(String yaml) {
        GalaProfile profile;
        try {
            profile = GalaProfile.parse(yaml, "fuzz.yaml");
        } catch (ProfileException e) {
            assertThat(e.getMessage()).as("rejection reason").isNotBlank();
            return;
        }
        // Accepted: it passed validation, and what the job relies on holds.
        assertThat(profile.name()).isNotBlank();
        assertThat(profile.rounds()).isNotEmpty().doesNotContainNull();
        for (RoundProfile round : profile.rounds()) {
            assertThat(round.tiers()).isNotEmpty().doesNotContainNull();
            assertThat(round.budgetFen()).isPositive();
            for (Tier tier : round.tiers()) {
                assertThat(tier.minFen()).isPositive();
                assertThat(tier.maxFen()).isGreaterThanOrEqualTo(tier.minFen());
            }
            assertThat(profile.roundEndMs(round)).isGreaterThan(profile.roundStartMs(round));
        }
        assertThat(profile.traffic()).isNotNull();
    }

    @Provide
    Arbitrary<String> text() {
        return Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(200),
                Arbitraries.strings().withChars("abc:-_ \n\t[]{},&*!|>'\"#~0123456789.").ofMaxLength(200));
    }

    @Provide
    Arbitrary<String> mutatedProfiles() {
        return Combinators.combine(Arbitraries.integers().between(1, 6), Arbitraries.longs())
                .as((edits, seed) -> mutate(TINY, edits, seed));
    }

    /** {@code edits} random line/token edits of {@code yaml}, driven by {@code seed}. */
    private static String mutate(String yaml, int edits, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<String> lines = new ArrayList<>(List.of(yaml.split("\n", -1)));
        for (int i = 0; i < edits && !lines.isEmpty(); i++) {
            int at = rng.nextInt(lines.size());
            String line = lines.get(at);
            switch (rng.nextInt(6)) {
                case 0 -> lines.remove(at);
                case 1 -> lines.add(at, line);
                case 2 -> { // swap with another line
                    int other = rng.nextInt(lines.size());
                    lines.set(at, lines.get(other));
                    lines.set(other, line);
                }
                case 3 -> { // cut the line short
                    lines.set(at, line.substring(0, rng.nextInt(line.length() + 1)));
                }
                case 4 -> { // insert a random character
                    int pos = rng.nextInt(line.length() + 1);
                    String specials = ":-[]{}&*!#'\" \t\\0";
                    char c = specials.charAt(rng.nextInt(specials.length()));
                    lines.set(at, line.substring(0, pos) + c + line.substring(pos));
                }
                default -> { // replace a value with a hostile one
                    int colon = line.indexOf(": ");
                    String value = HOSTILE_VALUES.get(rng.nextInt(HOSTILE_VALUES.size()));
                    lines.set(at, colon < 0 ? line + " " + value : line.substring(0, colon + 2) + value);
                }
            }
        }
        return String.join("\n", lines);
    }
}
