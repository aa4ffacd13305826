package io.hongbao.ingest.event;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Coverage-guided fuzzing of the decoder with Jazzer (libFuzzer): it keeps the inputs that reach new branches
 * of the protobuf parser and the field rules and mutates those, where the jqwik properties draw blindly. The
 * contract is the properties' ({@link ShakeEventCodecFuzzProperties#checkOutcome}): a verdict, never an
 * exception; an accepted event obeys the field rules; a rejection says why.
 *
 * <p>{@code ./mvnw verify} replays the seeds and past findings in {@code ShakeEventCodecFuzzTestInputs/}; with
 * {@code JAZZER_FUZZ=1} it fuzzes (ingest/README.md, "Fuzzing").
 */
class ShakeEventCodecFuzzTest {
    @FuzzTest(maxDuration = "10m")
    void decodeAnything(byte[] value) {
        ShakeEventCodecFuzzProperties.checkOutcome(value, ShakeEventCodec.decode(value));
    }
}
