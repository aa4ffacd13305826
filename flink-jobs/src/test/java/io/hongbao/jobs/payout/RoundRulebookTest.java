package io.hongbao.jobs.payout;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.money.Round;
import io.hongbao.money.Tier;
import java.util.List;
import org.junit.jupiter.api.Test;

class RoundRulebookTest {
    private static final long START = 1_800_000_000_000L;
    /** 1% reserve: of a 1,000,000 fen budget the shards hold 990,000. */
    private static final int RESERVE = 10_000;

    @Test
    void shouldNotBelieveABackdatedTimestampWhenLoweringBelowTheShards() {
        RoundInForce round = round(1_000_000);
        // A record timestamped a day before the round opened, as a producer with a wrong (or lying) clock sends.
        RoundChange backdated = change("ops-1", RoundChange.Action.SET_BUDGET, 150_000, START - 86_400_000L);

        RoundRulebook.Outcome outcome = RoundRulebook.apply(round, backdated, RESERVE);

        assertThat(outcome.rules()).isNull();
        assertThat(outcome.ledger().kind()).isEqualTo("CHANGE_REFUSED");
        assertThat(outcome.ledger().budgetFenAfter()).isEqualTo(1_000_000L);
        assertThat(outcome.ledger().detail()).contains("its shards hold 990000 fen", "at least 990000 fen",
                "pause the round");
    }

    @Test
    void shouldLowerOutOfTheReserveWhateverTheTimestamp() {
        for (long issuedAt : new long[] {START - 86_400_000L, START, START + 5_000}) {
            RoundRulebook.Outcome outcome = RoundRulebook.apply(round(1_000_000),
                    change("ops-2", RoundChange.Action.SET_BUDGET, 990_000, issuedAt), RESERVE);

            assertThat(outcome.ledger().kind()).isEqualTo("BUDGET_LOWERED");
            assertThat(outcome.rules().round().budgetFen()).isEqualTo(990_000L);
            assertThat(outcome.rules().shardBaseFen()).as("the shards keep their shares").isEqualTo(1_000_000L);
        }
    }

    @Test
    void shouldRefuseABudgetOverTheCampaignPool() {
        RoundRulebook.Outcome outcome = RoundRulebook.apply(round(1_000_000),
                change("ops-3", RoundChange.Action.SET_BUDGET, Long.MAX_VALUE, START), RESERVE);

        assertThat(outcome.rules()).isNull();
        assertThat(outcome.ledger().detail()).contains("budget_fen must be 1 to 150000000000");
        assertThat(RoundRulebook.apply(round(1_000_000), change("ops-4", RoundChange.Action.SET_BUDGET,
                RoundRulebook.MAX_BUDGET_FEN, START), RESERVE).ledger().kind()).isEqualTo("BUDGET_RAISED");
    }

    @Test
    void shouldTreatAResentChangeAsANoOpAndAnotherChangeUnderTheSameIdAsAConflict() {
        RoundInForce round = round(1_000_000);
        RoundChange first = change("ops-5", RoundChange.Action.SET_BUDGET, 2_000_000, START);
        first.reason = "sponsor";
        RoundRulebook.Outcome applied = RoundRulebook.apply(round, null, first, RESERVE);
        ChangeReceipt receipt = applied.receipt();
        RoundInForce after = applied.rules();

        RoundChange resent = change("ops-5", RoundChange.Action.SET_BUDGET, 2_000_000, START + 60_000);
        resent.reason = "sponsor";
        resent.source = "control/0/41";
        RoundRulebook.Outcome repeat = RoundRulebook.apply(after, receipt, resent, RESERVE);
        RoundChange other = change("ops-5", RoundChange.Action.SET_BUDGET, 3_000_000, START + 60_000);
        other.source = "control/0/42";
        RoundRulebook.Outcome conflict = RoundRulebook.apply(after, receipt, other, RESERVE);

        assertThat(applied.ledger().entryId()).isEqualTo("change-ops-5");
        assertThat(receipt.kind).isEqualTo("BUDGET_RAISED");
        assertThat(receipt.source).isEqualTo("control/0/ops-5");
        assertThat(repeat.rules()).isNull();
        assertThat(repeat.receipt()).isNull();
        assertThat(repeat.ledger().kind()).isEqualTo("CHANGE_REPEATED");
        assertThat(repeat.ledger().entryId()).isEqualTo("change-ops-5/repeat/control/0/41");
        assertThat(repeat.ledger().amountFen()).isZero();
        assertThat(repeat.ledger().budgetFenAfter()).isEqualTo(2_000_000L);
        assertThat(conflict.rules()).isNull();
        assertThat(conflict.receipt()).isNull();
        assertThat(conflict.ledger().kind()).isEqualTo("CHANGE_REFUSED");
        assertThat(conflict.ledger().entryId()).isEqualTo("change-ops-5/conflict/control/0/42");
        assertThat(conflict.ledger().detail()).contains("already used at control/0/ops-5", "new change_id");
    }

    @Test
    void shouldRememberARefusedChangeIdToo() {
        RoundChange tooLow = change("ops-6", RoundChange.Action.SET_BUDGET, 10, START);
        RoundRulebook.Outcome refused = RoundRulebook.apply(round(1_000_000), null, tooLow, RESERVE);
        RoundChange fixed = change("ops-6", RoundChange.Action.SET_BUDGET, 995_000, START);
        fixed.source = "control/0/7";

        RoundRulebook.Outcome again = RoundRulebook.apply(round(1_000_000), refused.receipt(), fixed, RESERVE);

        assertThat(refused.receipt().kind).isEqualTo("CHANGE_REFUSED");
        assertThat(again.rules()).as("the id is used up: its entry id is taken").isNull();
        assertThat(again.ledger().entryId()).isEqualTo("change-ops-6/conflict/control/0/7");
    }

    @Test
    void shouldRefuseAChangeIdThatCouldForgeAnotherEntryId() {
        for (String id : new String[] {"a/repeat/control/0/1", "", "x".repeat(65), "nul\u0000", "ü", null}) {
            RoundChange c = change(id, RoundChange.Action.PAUSE, 0, START);
            c.source = "control/0/99";
            RoundRulebook.Outcome outcome = RoundRulebook.apply(round(1_000_000), null, c, RESERVE);

            assertThat(outcome.rules()).as(id).isNull();
            assertThat(outcome.receipt()).as(id).isNull();
            assertThat(outcome.ledger().entryId()).as(id).isEqualTo("change-control/0/99");
            assertThat(outcome.ledger().detail().chars()).noneMatch(Character::isISOControl);
        }
    }

    @Test
    void shouldKeepDetailsPrintable() {
        assertThat(RoundRulebook.printable("a\u0000b\nc\uD800d\uD83D\uDE00", 100)).isEqualTo("a?b?c?d\uD83D\uDE00");
        assertThat(RoundRulebook.printable("abcdef", 3)).isEqualTo("abc…");
    }

    static RoundInForce round(long budget) {
        return RoundInForce.configured(new Round(1, "test", START, START + 60_000, budget, 0, 5, 100_000, false, 0,
                List.of(new Tier(1, "small", 100, 888, 1000, 1))));
    }

    static RoundChange change(String id, RoundChange.Action action, long budget, long issuedAt) {
        return RoundChange.of(id, 1, action, budget, issuedAt, "control/0/" + id);
    }
}
