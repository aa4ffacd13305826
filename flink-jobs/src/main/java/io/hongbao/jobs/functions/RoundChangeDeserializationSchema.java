package io.hongbao.jobs.functions;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.hongbao.jobs.payout.RoundChange;
import io.hongbao.jobs.payout.RoundRulebook;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Reads the control topic: one JSON object a record, e.g.
 * {@code {"change_id":"ops-17","round_id":3,"action":"SET_BUDGET","budget_fen":25000000000,"reason":"sponsor"}}
 * (flink-jobs/README.md, "Control topic", has the whole format). Strict: numbers must be JSON integer tokens
 * in range, never coerced ({@code 6.9}, {@code 1e30}, {@code "3"}, {@code true} or 2^64+1000 are not a round
 * or a budget); unknown and duplicate fields are refused; a record over {@link #MAX_RECORD_BYTES} is not even
 * parsed. A record that is refused still becomes a change, with {@link RoundChange#invalid} saying why, so the
 * refusal lands in the ledger instead of failing the job.
 */
public class RoundChangeDeserializationSchema implements KafkaRecordDeserializationSchema<RoundChange> {
    private static final long serialVersionUID = 1L;
    /** A change is a few dozen bytes; anything near this is not one. */
    public static final int MAX_RECORD_BYTES = 64 * 1024;
    public static final int MAX_REASON_CHARS = 500;
    public static final int MAX_NAME_CHARS = 100;
    private static final Set<String> FIELDS = Set.of("change_id", "round_id", "action", "budget_fen", "reason",
            "starts_at", "ends_at", "effective_at", "like_round", "name");
    private static final String ACTIONS = "PAUSE, RESUME, SET_BUDGET, SET_WINDOW or ADD_ROUND";
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RoundChange> out) {
        String source = record.topic() + "/" + record.partition() + "/" + record.offset();
        RoundChange change = RoundChange.of(null, 0, null, 0, record.timestamp(), source);
        change.invalid = read(record.value(), change);
        out.collect(change);
    }

    /** Fills in what is valid; returns why the record is refused, or null. Never throws. */
    static String read(byte[] value, RoundChange change) {
        if (value == null || value.length == 0) {
            return "empty control record";
        }
        if (value.length > MAX_RECORD_BYTES) {
            return "control record of " + value.length + " bytes is over the limit of " + MAX_RECORD_BYTES;
        }
        JsonNode json;
        try {
            json = JSON.readTree(value);
        } catch (Exception e) {
            return "unreadable control record: "
                    + String.valueOf(e.getMessage()).lines().findFirst().orElse("unreadable");
        }
        if (json == null || !json.isObject()) {
            return "unreadable control record: not a JSON object";
        }
        // The id first, so that every other refusal is named by it.
        JsonNode id = json.get("change_id");
        if (id == null || id.isNull()) {
            return "change_id is missing";
        }
        if (!id.isTextual() || !RoundRulebook.validChangeId(id.textValue())) {
            return "change_id must be a string of 1 to " + RoundRulebook.MAX_CHANGE_ID_LENGTH + " of "
                    + RoundRulebook.CHANGE_ID_CHARSET + ", was " + token(id);
        }
        change.changeId = id.textValue();
        for (Iterator<String> names = json.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                return "unknown field " + RoundRulebook.quote(name);
            }
        }
        JsonNode action = json.get("action");
        if (action == null || !action.isTextual()) {
            return "action must be one of " + ACTIONS + ", was " + token(action);
        }
        try {
            change.action = RoundChange.Action.valueOf(action.textValue());
        } catch (IllegalArgumentException e) {
            return "unknown action " + token(action) + " (" + ACTIONS + ")";
        }
        JsonNode round = json.get("round_id");
        // isInt(): an integer token that fits an int. 6.9 and 1e3 are float tokens, 4294967301 a long one.
        if (round == null || !round.isInt() || round.intValue() < 1) {
            return "round_id must be an integer 1 to " + Integer.MAX_VALUE + ", was " + token(round);
        }
        change.roundId = round.intValue();
        JsonNode budget = json.get("budget_fen");
        if (change.action == RoundChange.Action.SET_BUDGET || change.action == RoundChange.Action.ADD_ROUND) {
            if (budget == null || !(budget.isInt() || budget.isLong()) || budget.longValue() < 1
                    || budget.longValue() > RoundRulebook.MAX_BUDGET_FEN) {
                return "budget_fen must be an integer 1 to " + RoundRulebook.MAX_BUDGET_FEN + ", was " + token(budget);
            }
            change.budgetFen = budget.longValue();
        } else if (budget != null) {
            return "budget_fen is only for SET_BUDGET and ADD_ROUND";
        }
        String schedule = readSchedule(json, change);
        if (schedule != null) {
            return schedule;
        }
        JsonNode reason = json.get("reason");
        if (reason != null && !reason.isNull()) {
            if (!reason.isTextual() || reason.textValue().length() > MAX_REASON_CHARS
                    || !RoundRulebook.printable(reason.textValue(), MAX_REASON_CHARS).equals(reason.textValue())) {
                return "reason must be a string of at most " + MAX_REASON_CHARS
                        + " characters without control characters, was " + token(reason);
            }
            change.reason = reason.textValue();
        }
        return null;
    }

    /** The window, its effective time, and an added round's model and name; why not, or null. */
    private static String readSchedule(JsonNode json, RoundChange change) {
        boolean window = change.isScheduleChange();
        for (String field : List.of("starts_at", "ends_at", "effective_at")) {
            JsonNode node = json.get(field);
            if (!window) {
                if (node != null) {
                    return field + " is only for SET_WINDOW and ADD_ROUND";
                }
                continue;
            }
            long at;
            try {
                if (node == null || !node.isTextual()) {
                    throw new DateTimeParseException("not a string", "", 0);
                }
                at = OffsetDateTime.parse(node.textValue()).toInstant().toEpochMilli();
            } catch (DateTimeParseException | ArithmeticException e) {
                return field + " must be a time with its offset, e.g. \"2027-02-10T21:30:00+08:00\", was " + token(node);
            }
            switch (field) {
                case "starts_at" -> change.startsAtMs = at;
                case "ends_at" -> change.endsAtMs = at;
                default -> change.effectiveAtMs = at;
            }
        }
        JsonNode like = json.get("like_round");
        JsonNode name = json.get("name");
        if (change.action != RoundChange.Action.ADD_ROUND) {
            if (like != null || name != null) {
                return (like != null ? "like_round" : "name") + " is only for ADD_ROUND";
            }
            return null;
        }
        if (like == null || !like.isInt() || like.intValue() < 1) {
            return "like_round must be an integer 1 to " + Integer.MAX_VALUE + ", was " + token(like);
        }
        change.likeRoundId = like.intValue();
        if (name != null && !name.isNull()) {
            if (!name.isTextual() || name.textValue().isEmpty() || name.textValue().length() > MAX_NAME_CHARS
                    || !RoundRulebook.printable(name.textValue(), MAX_NAME_CHARS).equals(name.textValue())) {
                return "name must be a string of 1 to " + MAX_NAME_CHARS
                        + " characters without control characters, was " + token(name);
            }
            change.name = name.textValue();
        }
        return null;
    }

    /** A field's value for a refusal's detail: as JSON (so a string shows its quotes), short; "missing". */
    private static String token(JsonNode node) {
        if (node == null) {
            return "missing";
        }
        return RoundRulebook.printable(node.toString(), 80);
    }

    @Override
    public TypeInformation<RoundChange> getProducedType() {
        return TypeInformation.of(RoundChange.class);
    }
}
