package io.hongbao.jobs.functions;

import static io.hongbao.ingest.SplitMix64.mix;
import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.jobs.functions.EventIdTable.Verdict;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class EventIdTableTest {
    @Test
    void shouldAnswerExactlyAsAHashMapThroughManyResizes() {
        EventIdTable table = new EventIdTable(16);
        Map<String, Long> expected = new HashMap<>();
        Random random = new Random(7);
        for (int i = 0; i < 300_000; i++) {
            // Few distinct ids, so repeats and conflicts are common; small ids too, (0, 0) among them.
            long hi = random.nextInt(3) == 0 ? 0 : mix(random.nextInt(100_000));
            long lo = random.nextInt(100_000);
            long fingerprint = random.nextInt(4); // 0 included: stored as "not empty" all the same
            Long known = expected.putIfAbsent(hi + "/" + lo, fingerprint);
            Verdict want = known == null ? Verdict.NEW
                    : (known == fingerprint || (known <= 1 && fingerprint <= 1)) ? Verdict.REPEAT : Verdict.CONFLICT;
            assertThat(table.remember(hi, lo, fingerprint)).as("id %d/%d, fingerprint %d", hi, lo, fingerprint)
                    .isEqualTo(want);
        }
        assertThat(table.size()).isEqualTo(expected.size());
        expected.keySet().forEach(id -> {
            String[] parts = id.split("/");
            assertThat(table.contains(Long.parseLong(parts[0]), Long.parseLong(parts[1]))).isTrue();
        });
        assertThat(table.contains(1, 1_000_000)).isFalse();
        assertThat(table.heapBytes()).isLessThanOrEqualTo(expected.size() * 24L * 4); // under ~4 slots an id
    }
}
