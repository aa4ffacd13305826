package io.hongbao.jobs.functions;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.jobs.payout.RoundChange;
import io.hongbao.jobs.payout.RoundRulebook;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class RoundChangeDeserializationSchemaTest {

    @Test
    void shouldReadABudgetChange() {
        RoundChange c = read("{\"change_id\":\"ops-17\",\"round_id\":3,\"action\":\"SET_BUDGET\","
                + "\"budget_fen\":25000000000,\"reason\":\"sponsor\"}");

        assertThat(c.changeId).isEqualTo("ops-17");
        assertThat(c.roundId).isEqualTo(3);
        assertThat(c.action).isEqualTo(RoundChange.Action.SET_BUDGET);
        assertThat(c.budgetFen).isEqualTo(25_000_000_000L);
        assertThat(c.reason).isEqualTo("sponsor");
        assertThat(c.source).isEqualTo("control/0/5");
        assertThat(c.issuedAtMs).isEqualTo(1234L);
    }

    @Test
    void shouldTurnAnUnreadableRecordIntoARefusedChange() {
        RoundChange garbage = read("{not json");
        RoundChange unknownAction = read("{\"round_id\":1,\"action\":\"DOUBLE_IT\"}");

        assertThat(garbage.action).isNull();
        assertThat(unknownAction.action).isNull();
        RoundRulebook.Outcome outcome = RoundRulebook.apply(null, garbage, 0);
        assertThat(outcome.rules()).isNull();
        assertThat(outcome.ledger().kind).isEqualTo("CHANGE_REFUSED");
        assertThat(outcome.ledger().detail).contains("unreadable control record");
    }

    private static RoundChange read(String json) {
        List<RoundChange> out = new ArrayList<>();
        new RoundChangeDeserializationSchema().deserialize(new ConsumerRecord<>("control", 0, 5L, 1234L,
                org.apache.kafka.common.record.TimestampType.CREATE_TIME, 0, 0, null,
                json.getBytes(StandardCharsets.UTF_8), new org.apache.kafka.common.header.internals.RecordHeaders(),
                java.util.Optional.empty()), new Collector<>() {
                    @Override
                    public void collect(RoundChange record) {
                        out.add(record);
                    }

                    @Override
                    public void close() {}
                });
        assertThat(out).hasSize(1);
        return out.get(0);
    }
}
