package io.hongbao.jobs.functions;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.money.LedgerEntry;
import io.hongbao.jobs.payout.RoundChange;
import io.hongbao.jobs.payout.RoundRulebook;
import io.hongbao.jobs.payout.RoundInForce;
import io.hongbao.money.Round;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

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
        assertThat(ledger(c).kind()).isEqualTo("BUDGET_RAISED");
    }

    @Test
    void shouldReadPauseAndResumeWithoutABudget() {
        assertThat(ledger(read("{\"change_id\":\"p.1\",\"round_id\":6,\"action\":\"PAUSE\"}")).kind())
                .isEqualTo("PAUSED");
        assertThat(ledger(read("{\"change_id\":\"r_1\",\"round_id\":6,\"action\":\"RESUME\",\"reason\":null}")).kind())
                .isEqualTo("RESUMED");
        assertThat(ledger(read("{\"round_id\":2147483647,\"action\":\"PAUSE\",\"change_id\":\"far\"}")).detail())
                .contains("round 2147483647 is not configured");
    }

    @Test
    void shouldReadScheduleChangesWithTheirTimes() {
        RoundChange window = read("{\"change_id\":\"w-1\",\"round_id\":2,\"action\":\"SET_WINDOW\","
                + "\"starts_at\":\"2027-02-06T20:00:30+08:00\",\"ends_at\":\"2027-02-06T12:00:50Z\","
                + "\"effective_at\":\"2027-02-06T20:00:40+08:00\",\"reason\":\"programme late\"}");
        RoundChange added = read("{\"change_id\":\"a-1\",\"round_id\":9,\"action\":\"ADD_ROUND\",\"like_round\":1,"
                + "\"budget_fen\":500000,\"name\":\"encore\",\"starts_at\":\"2027-02-06T20:01:00+08:00\","
                + "\"ends_at\":\"2027-02-06T20:01:10+08:00\",\"effective_at\":\"2027-02-06T20:00:55+08:00\"}");

        long galaStart = java.time.OffsetDateTime.parse("2027-02-06T20:00:00+08:00").toInstant().toEpochMilli();
        assertThat(window.invalid).isNull();
        assertThat(window.action).isEqualTo(RoundChange.Action.SET_WINDOW);
        assertThat(window.startsAtMs).isEqualTo(galaStart + 30_000);
        assertThat(window.endsAtMs).as("another offset, the same instant scale").isEqualTo(galaStart + 50_000);
        assertThat(window.effectiveAtMs).isEqualTo(galaStart + 40_000);
        assertThat(added.invalid).isNull();
        assertThat(added.likeRoundId).isEqualTo(1);
        assertThat(added.budgetFen).isEqualTo(500_000L);
        assertThat(added.name).isEqualTo("encore");
        assertThat(added.startsAtMs).isEqualTo(galaStart + 60_000);
        assertThat(window.content()).as("a resend compares its times").contains("effective_at=" + (galaStart + 40_000));
    }

    @Test
    void shouldTurnAnUnreadableRecordIntoARefusedChange() {
        RoundChange garbage = read("{not json");
        RoundChange unknownAction = read("{\"round_id\":1,\"action\":\"DOUBLE_IT\"}");

        assertThat(garbage.action).isNull();
        assertThat(unknownAction.action).isNull();
        RoundRulebook.Outcome outcome = RoundRulebook.apply(null, garbage, 0);
        assertThat(outcome.rules()).isNull();
        assertThat(outcome.ledger().kind()).isEqualTo("CHANGE_REFUSED");
        assertThat(outcome.ledger().detail()).contains("unreadable control record");
    }

    /**
     * Numbers Jackson's asLong/asInt would coerce into something else (2^64+1000 into 1000, 1e30 into
     * Long.MAX_VALUE, 4294967301 into round 5, 6.9 into round 6), and every other kind of wrong value: each
     * is refused with the field named, never applied.
     */
    @ParameterizedTest
    @ValueSource(strings = {
        "{'change_id':'a','round_id':6,'action':'SET_BUDGET','budget_fen':18446744073709552616}|budget_fen",
        "{'change_id':'a','round_id':6,'action':'SET_BUDGET','budget_fen':1e30}|budget_fen",
        "{'change_id':'a','round_id':6,'action':'SET_BUDGET','budget_fen':1E3}|budget_fen",
        "{'change_id':'a','round_id':6,'action':'SET_BUDGET','budget_fen':25000.0}|budget_fen",
        "{'change_id':'a','round_id':6,'action':'SET_BUDGET','budget_fen':'25000'}|budget_fen",
        "{'change_id':'a','round_id':6,'action':'SET_BUDGET','budget_fen':true}|budget_fen",
        "{'change_id':'a','round_id':6,'action':'SET_BUDGET','budget_fen':-5}|budget_fen",
        "{'change_id':'a','round_id':6,'action':'SET_BUDGET','budget_fen':0}|budget_fen",
        "{'change_id':'a','round_id':6,'action':'SET_BUDGET','budget_fen':150000000001}|budget_fen",
        "{'change_id':'a','round_id':6,'action':'SET_BUDGET','budget_fen':9223372036854775807}|budget_fen",
        "{'change_id':'a','round_id':6,'action':'SET_BUDGET','budget_fen':null}|budget_fen",
        "{'change_id':'a','round_id':6,'action':'SET_BUDGET'}|budget_fen",
        "{'change_id':'a','round_id':6,'action':'PAUSE','budget_fen':100}|budget_fen is only for SET_BUDGET",
        "{'change_id':'a','round_id':4294967301,'action':'PAUSE'}|round_id",
        "{'change_id':'a','round_id':6.9,'action':'PAUSE'}|round_id",
        "{'change_id':'a','round_id':6.0,'action':'PAUSE'}|round_id",
        "{'change_id':'a','round_id':'3','action':'PAUSE'}|round_id",
        "{'change_id':'a','round_id':true,'action':'PAUSE'}|round_id",
        "{'change_id':'a','round_id':-6,'action':'PAUSE'}|round_id",
        "{'change_id':'a','round_id':0,'action':'PAUSE'}|round_id",
        "{'change_id':'a','action':'PAUSE'}|round_id",
        "{'change_id':'a','round_id':6}|action",
        "{'change_id':'a','round_id':6,'action':'pause'}|unknown action",
        "{'change_id':'a','round_id':6,'action':'DOUBLE_IT'}|unknown action",
        "{'change_id':'a','round_id':6,'action':1}|action",
        "{'change_id':'a','round_id':6,'action':'PAUSE','when':'now'}|unknown field \"when\"",
        "{'change_id':'a','round_id':6,'action':'PAUSE','round_id':5}|Duplicate field",
        "{'change_id':'a','round_id':6,'action':'PAUSE'} {'change_id':'b'}|unreadable",
        "{'change_id':'a','round_id':6,'action':'PAUSE','reason':7}|reason",
        "{'change_id':'a','round_id':6,'action':'PAUSE','reason':'nul \\u0000 inside'}|reason",
        "{'round_id':6,'action':'PAUSE'}|change_id is missing",
        "{'change_id':17,'round_id':6,'action':'PAUSE'}|change_id must be",
        "{'change_id':'','round_id':6,'action':'PAUSE'}|change_id must be",
        "{'change_id':'a b','round_id':6,'action':'PAUSE'}|change_id must be",
        "{'change_id':'x/repeat/control/0/1','round_id':6,'action':'PAUSE'}|change_id must be",
        "{'change_id':'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa','round_id':6,'action':'PAUSE'}"
                + "|change_id must be",
        "{'change_id':'a','round_id':6,'action':'SET_WINDOW','starts_at':'2027-02-06T20:00:00+08:00','ends_at':'2027-02-06T20:00:20+08:00'}|effective_at must be a time",
        "{'change_id':'a','round_id':6,'action':'SET_WINDOW','starts_at':'2027-02-06T20:00:00+08:00','ends_at':'2027-02-06T20:00:20+08:00','effective_at':'2027-02-06 20:00'}|effective_at must be a time",
        "{'change_id':'a','round_id':6,'action':'SET_WINDOW','starts_at':1801000000000,'ends_at':'2027-02-06T20:00:20+08:00','effective_at':'2027-02-06T20:00:10+08:00'}|starts_at must be a time",
        "{'change_id':'a','round_id':6,'action':'SET_WINDOW','starts_at':'2027-02-06T20:00:00','ends_at':'2027-02-06T20:00:20+08:00','effective_at':'2027-02-06T20:00:10+08:00'}|starts_at must be a time",
        "{'change_id':'a','round_id':6,'action':'SET_WINDOW','starts_at':'+999999999-12-31T23:59:59+08:00','ends_at':'2027-02-06T20:00:20+08:00','effective_at':'2027-02-06T20:00:10+08:00'}|starts_at must be a time",
        "{'change_id':'a','round_id':6,'action':'PAUSE','starts_at':'2027-02-06T20:00:00Z'}|starts_at is only for SET_WINDOW and ADD_ROUND",
        "{'change_id':'a','round_id':6,'action':'SET_WINDOW','starts_at':'2027-02-06T20:00:00+08:00','ends_at':'2027-02-06T20:00:20+08:00','effective_at':'2027-02-06T20:00:10+08:00','like_round':1}|like_round is only for ADD_ROUND",
        "{'change_id':'a','round_id':6,'action':'SET_WINDOW','starts_at':'2027-02-06T20:00:00+08:00','ends_at':'2027-02-06T20:00:20+08:00','effective_at':'2027-02-06T20:00:10+08:00','budget_fen':5}|budget_fen is only for SET_BUDGET and ADD_ROUND",
        "{'change_id':'a','round_id':9,'action':'ADD_ROUND','budget_fen':5000,'starts_at':'2027-02-06T20:00:00+08:00','ends_at':'2027-02-06T20:00:20+08:00','effective_at':'2027-02-06T20:00:10+08:00'}|like_round must be",
        "{'change_id':'a','round_id':9,'action':'ADD_ROUND','budget_fen':5000,'like_round':1.5,'starts_at':'2027-02-06T20:00:00+08:00','ends_at':'2027-02-06T20:00:20+08:00','effective_at':'2027-02-06T20:00:10+08:00'}|like_round must be",
        "{'change_id':'a','round_id':9,'action':'ADD_ROUND','like_round':1,'starts_at':'2027-02-06T20:00:00+08:00','ends_at':'2027-02-06T20:00:20+08:00','effective_at':'2027-02-06T20:00:10+08:00'}|budget_fen",
        "{'change_id':'a','round_id':9,'action':'ADD_ROUND','budget_fen':5000,'like_round':1,'name':'x\\u0007y','starts_at':'2027-02-06T20:00:00+08:00','ends_at':'2027-02-06T20:00:20+08:00','effective_at':'2027-02-06T20:00:10+08:00'}|name must be",
        "{'change_id':'a','round_id':9,'action':'ADD_ROUND','budget_fen':5000,'like_round':1,'name':'','starts_at':'2027-02-06T20:00:00+08:00','ends_at':'2027-02-06T20:00:20+08:00','effective_at':'2027-02-06T20:00:10+08:00'}|name must be",
        "[1,2]|not a JSON object",
        "42|not a JSON object",
        "|empty control record",
    })
    void shouldRefuseWhatIsNotExactlyAChange(String caseLine) {
        String json = caseLine.substring(0, caseLine.lastIndexOf('|')).replace('\'', '"');
        String why = caseLine.substring(caseLine.lastIndexOf('|') + 1);

        RoundChange change = read(json);
        LedgerEntry line = ledger(change);

        assertThat(line.kind()).as(json).isEqualTo("CHANGE_REFUSED");
        assertThat(line.detail()).as(json).contains(why);
        assertThat(line.budgetFenAfter()).as("nothing applied").isIn(0L, 1_000_000L);
        assertThat(line.detail().chars()).as("printable detail").noneMatch(Character::isISOControl);
    }

    @Test
    void shouldRefuseAnOversizedRecordWithoutParsingIt() {
        String padding = "x".repeat(RoundChangeDeserializationSchema.MAX_RECORD_BYTES);
        // Valid JSON, a valid change: only its size is wrong, and the id in it is not believed.
        RoundChange change = read("{\"change_id\":\"big\",\"round_id\":6,\"action\":\"PAUSE\",\"reason\":\"" + padding
                + "\"}");

        LedgerEntry line = ledger(change);
        assertThat(line.kind()).isEqualTo("CHANGE_REFUSED");
        assertThat(line.detail()).contains("over the limit of 65536");
        assertThat(line.entryId()).isEqualTo("change-control/0/5");
        assertThat(change.changeId).isNull();
    }

    @Test
    void shouldNameARefusalByItsChangeIdWhenTheIdIsValidAndByTheRecordOtherwise() {
        assertThat(ledger(read("{\"change_id\":\"ops-9\",\"round_id\":6.9,\"action\":\"PAUSE\"}")).entryId())
                .isEqualTo("change-ops-9");
        assertThat(ledger(read("{\"change_id\":\"swept-r6\",\"round_id\":6,\"action\":\"PAUSE\"}")).entryId())
                .isEqualTo("change-swept-r6");
        assertThat(ledger(read("{\"change_id\":\"../x\",\"round_id\":6,\"action\":\"PAUSE\"}")).entryId())
                .isEqualTo("change-control/0/5");
        assertThat(ledger(read("{not json")).entryId()).isEqualTo("change-control/0/5");
    }

    /** Applies the change as the job does: to the rules of the round it names, rounds 1 to 6 configured. */
    private static LedgerEntry ledger(RoundChange change) {
        RoundInForce current = null;
        if (change.roundId >= 1 && change.roundId <= 6) {
            Round r = PayoutFixtures.round(1_000_000, 1_000_000, 1000, 10, 5, 1_000_000);
            current = RoundInForce.configured(new Round(change.roundId, r.name(), r.startsAtMs(), r.endsAtMs(),
                    r.budgetFen(), r.winPerMillion(), r.winsPerRound(), r.fenPerGala(), r.paused(), r.version(),
                    r.tiers()));
        }
        return RoundRulebook.apply(current, change, 10_000).ledger();
    }

    static RoundChange read(String json) {
        return read(json.getBytes(StandardCharsets.UTF_8), 5L);
    }

    static RoundChange read(byte[] value, long offset) {
        List<RoundChange> out = new ArrayList<>();
        new RoundChangeDeserializationSchema().deserialize(new ConsumerRecord<>("control", 0, offset, 1234L,
                org.apache.kafka.common.record.TimestampType.CREATE_TIME, 0, value == null ? 0 : value.length, null,
                value, new org.apache.kafka.common.header.internals.RecordHeaders(),
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
