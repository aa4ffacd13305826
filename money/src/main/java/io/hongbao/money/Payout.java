package io.hongbao.money;

import static io.hongbao.money.SettlementRow.check;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.regex.Pattern;
import org.apache.flink.api.common.typeinfo.TypeInfo;

/**
 * A red packet paid (a row of {@code payout}, inserted once, never updated): who, which round and tier, how many
 * fen, and the Kafka record that won it. The payout id is derived from round and event id, so a replay can never
 * make a second payout for the same shake.
 *
 * @param eventId the winning shake's event id, 32 lower-case hex digits
 * @param shakeEventTimeMs the winning shake's event time (epoch ms), not a wall clock: the same on every replay
 */
@TypeInfo(SettlementRowTypeInfo.Factory.class)
public record Payout(int roundId, int tierId, long userId, long amountFen, String eventId, String kafkaTopic,
        int kafkaPartition, long kafkaOffset, long shakeEventTimeMs) implements SettlementRow {

    private static final Pattern EVENT_ID = Pattern.compile("[0-9a-f]{32}");

    /** {@code r<round>-<32 hex event id>}: one shake, one payout at most. */
    @JsonProperty("payoutId")
    public String payoutId() {
        return "r" + roundId + "-" + eventId;
    }

    @Override
    public void validate() {
        String id = "payout " + payoutId();
        check(eventId != null && EVENT_ID.matcher(eventId).matches(),
                id + ": event id must be 32 lower-case hex digits, got " + eventId);
        check(amountFen > 0, id + ": amount must be at least 1 fen, got " + amountFen);
        check(kafkaTopic != null && !kafkaTopic.isEmpty(), id + ": no Kafka topic (lineage)");
        check(kafkaPartition >= 0 && kafkaOffset >= 0,
                id + ": bad Kafka lineage " + kafkaTopic + "/" + kafkaPartition + "/" + kafkaOffset);
    }

    @Override
    public String toString() {
        return payoutId() + " user " + userId + " tier " + tierId + " " + amountFen + " fen (" + kafkaTopic + "/"
                + kafkaPartition + "/" + kafkaOffset + ")";
    }
}
