package io.hongbao.ingest.profile;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;

/**
 * Coverage-guided fuzzing of the round-config parser with Jazzer (libFuzzer), seeded with the repository's
 * profiles: YAML that reaches new branches of the parser and of the validation is kept and mutated. The contract
 * is the properties' ({@link GalaProfileFuzzProperties#checkOutcome}): a validated profile or a
 * {@link ProfileException} with a message; nothing else escapes.
 *
 * <p>{@code ./mvnw verify} replays the seeds and past findings in {@code GalaProfileFuzzTestInputs/}; with
 * {@code JAZZER_FUZZ=1} it fuzzes (ingest/README.md, "Fuzzing").
 */
class GalaProfileFuzzTest {
    @FuzzTest(maxDuration = "10m")
    void parseAnything(byte[] yaml) {
        // Raw bytes, not String: the inputs stay plain files (the seeds are the YAML itself), and invalid UTF-8
        // is part of what a config file can hold.
        GalaProfileFuzzProperties.checkOutcome(new String(yaml, StandardCharsets.UTF_8));
    }
}
