package io.hongbao.jobs.functions;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hongbao.jobs.payout.RoundChange;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Reads the control topic: one JSON object a record, e.g.
 * {@code {"change_id":"ops-17","round_id":3,"action":"SET_BUDGET","budget_fen":25000000000,"reason":"sponsor"}}
 * ({@code action}: PAUSE, RESUME or SET_BUDGET). A record that cannot be read still becomes a change, with no
 * action, so it is refused and the refusal lands in the ledger instead of failing the job.
 */
public class RoundChangeDeserializationSchema implements KafkaRecordDeserializationSchema<RoundChange> {
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RoundChange> out) {
        String source = record.topic() + "/" + record.partition() + "/" + record.offset();
        RoundChange change = RoundChange.of(source, 0, null, 0, record.timestamp(), source);
        try {
            JsonNode json = JSON.readTree(record.value());
            change.changeId = json.path("change_id").asText(source);
            change.roundId = json.path("round_id").asInt(0);
            change.budgetFen = json.path("budget_fen").asLong(0);
            change.reason = json.path("reason").isTextual() ? json.get("reason").asText() : null;
            change.action = RoundChange.Action.valueOf(json.path("action").asText());
        } catch (Exception e) {
            change.action = null;
            change.reason = String.valueOf(e.getMessage()).lines().findFirst().orElse("unreadable");
        }
        out.collect(change);
    }

    @Override
    public TypeInformation<RoundChange> getProducedType() {
        return TypeInformation.of(RoundChange.class);
    }
}
