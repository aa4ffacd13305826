package io.hongbao.jobs.functions;

import static io.hongbao.jobs.functions.PayoutFixtures.round;
import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.jobs.payout.BudgetSplit;
import io.hongbao.money.LedgerEntry;
import io.hongbao.jobs.payout.RoundChange;
import io.hongbao.jobs.payout.RoundRulebook;
import io.hongbao.jobs.payout.RoundInForce;
import io.hongbao.money.Round;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.co.CoBroadcastWithKeyedOperator;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;

/**
 * The control topic end to end short of Kafka: random control records (operators resending and reusing change
 * ids, hostile numbers and ids, junk), read by {@link RoundChangeDeserializationSchema} and applied by
 * {@link RoundRulesInForce} on Flink's broadcast state, with checkpoints and crashes that replay everything
 * since the last checkpoint. Whatever comes: the committed ledger's entry ids are unique (also against the
 * job's own CONFIGURED and SWEPT lines), a replay decides exactly as the first run did, each valid change id
 * names exactly one {@code change-<id>} line, and a round's budget never drops below its shards' part (what
 * they may already have paid) nor rises over the ceiling.
 */
class RoundChangeRulebookProperties {
    private static final int RESERVE = 10_000;
    private static final long[] BUDGETS = {1_000_000, 2_000_000, 5_000};

    /** One control record, an operator resending an earlier one verbatim, a checkpoint, or a crash. */
    record Step(String json, int kind, int pick) {
        static final int RECORD = 0;
        static final int CHECKPOINT = 1;
        static final int CRASH = 2;
        static final int RESEND = 3;
    }

    @Property(tries = 50)
    void entryIdsAreUniqueAndBudgetsNeverDropBelowTheShards(@ForAll("steps") List<Step> steps) throws Exception {
        List<Round> configured = new ArrayList<>();
        for (int i = 0; i < BUDGETS.length; i++) {
            Round r = round(BUDGETS[i], 1_000_000, 1000, 10, 5, 1_000_000);
            configured.add(new Round(i + 1, r.name(), r.startsAtMs(), r.endsAtMs(), r.budgetFen(), r.winPerMillion(),
                    r.winsPerRound(), r.fenPerGala(), r.paused(), r.version(), r.tiers()));
        }
        var harness = open(configured, null);
        OperatorSubtaskState checkpoint = null;
        List<LedgerEntry> committed = new ArrayList<>();
        List<String> sinceCheckpoint = new ArrayList<>();
        long offset = 0;
        long offsetAtCheckpoint = 0;
        Map<Integer, Long> shardBase = new HashMap<>();
        int repeats = 0;
        int refused = 0;
        int applied = 0;
        List<String> sent = new ArrayList<>();
        for (Step step : steps) {
            String json = step.kind() == Step.RESEND && !sent.isEmpty() ? sent.get(step.pick() % sent.size())
                    : step.json();
            if (json != null) {
                sent.add(json);
                sinceCheckpoint.add(json);
                feed(harness, json, offset++);
            } else if (step.kind() == Step.CHECKPOINT) {
                checkpoint = harness.snapshot(offset, offset);
                committed.addAll(lines(harness));
                sinceCheckpoint.clear();
                offsetAtCheckpoint = offset;
            } else {
                List<LedgerEntry> lost = lines(harness);
                harness.close();
                harness = open(configured, checkpoint);
                long replayOffset = offsetAtCheckpoint;
                for (String replayed : sinceCheckpoint) {
                    feed(harness, replayed, replayOffset++);
                }
                assertThat(harness.ledger()).as("a replay decides as the first run")
                        .usingRecursiveFieldByFieldElementComparator().containsExactlyElementsOf(lost);
            }
            for (Round base : configured) {
                RoundInForce inForce = harness.getOperator().getOperatorStateBackend()
                        .getBroadcastState(ShardPayoutDecider.RULES).get(base.roundId());
                RoundInForce r = inForce == null ? RoundInForce.configured(base) : inForce;
                long sharded = r.shardBaseFen() - BudgetSplit.reserve(r.shardBaseFen(), RESERVE);
                assertThat(r.round().budgetFen()).as("round %d budget against its shards' part", base.roundId())
                        .isGreaterThanOrEqualTo(sharded).isBetween(1L, RoundRulebook.MAX_BUDGET_FEN);
                assertThat(r.shardBaseFen()).as("the shards' base never drops")
                        .isGreaterThanOrEqualTo(shardBase.getOrDefault(base.roundId(), base.budgetFen()));
                shardBase.put(base.roundId(), r.shardBaseFen());
            }
        }
        committed.addAll(lines(harness));
        harness.close();

        Set<String> ids = new HashSet<>();
        for (Round r : configured) {
            ids.add("configured-r" + r.roundId() + "-job-start");
            ids.add("swept-r" + r.roundId());
        }
        Map<String, Integer> firstLines = new HashMap<>();
        for (LedgerEntry line : committed) {
            assertThat(ids.add(line.entryId())).as("entry id %s written once", line.entryId()).isTrue();
            assertThat(line.entryId()).startsWith("change-");
            assertThat(line.detail().chars()).noneMatch(Character::isISOControl);
            if (!line.entryId().contains("/")) {
                firstLines.merge(line.entryId(), 1, Integer::sum);
            }
            repeats += line.kind().equals("CHANGE_REPEATED") ? 1 : 0;
            refused += line.kind().equals("CHANGE_REFUSED") ? 1 : 0;
            applied += line.kind().startsWith("BUDGET") || line.kind().equals("PAUSED") || line.kind().equals("RESUMED") ? 1 : 0;
            if (line.kind().equals("CHANGE_REPEATED") || line.kind().equals("CHANGE_REFUSED")) {
                assertThat(line.amountFen()).isZero();
            }
        }
        assertThat(firstLines.values()).allMatch(n -> n == 1);
        Statistics.label("repeats").collect(repeats > 0);
        Statistics.label("refused").collect(refused > 0);
        Statistics.label("applied").collect(applied > 0);
    }

    private static void feed(ChangeDeskHarness harness, String json, long offset) throws Exception {
        RoundChange change = RoundChangeDeserializationSchemaTest.read(json.getBytes(StandardCharsets.UTF_8), offset);
        harness.decide(change);
    }

    /** The desk's ledger lines since the last call. */
    private static List<LedgerEntry> lines(ChangeDeskHarness harness) {
        List<LedgerEntry> out = harness.ledger();
        clearLedger(harness);
        return out;
    }

    private static void clearLedger(ChangeDeskHarness harness) {
        var queue = harness.getSideOutput(ShardPayoutDecider.LEDGER);
        if (queue != null) {
            queue.clear();
        }
    }

    private static ChangeDeskHarness open(List<Round> rules, OperatorSubtaskState restore) throws Exception {
        return ChangeDeskHarness.open(rules, new io.hongbao.jobs.payout.PayoutSettings(4, RESERVE, 1, 2),
                Long.MAX_VALUE, restore);
    }

    @Provide
    Arbitrary<List<Step>> steps() {
        // A few ids, so they repeat often; and ids that try to look like other entry ids.
        Arbitrary<String> id = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(10, Arbitraries.of("ops-1", "ops-2", "ops-3", "a.b_c")),
                net.jqwik.api.Tuple.of(1, Arbitraries.of("swept-r1", "configured-r1-job-start", "ops-1/repeat/control/0/3",
                        "", "x".repeat(65), "ops 1", "ops-1\u0000")));
        Arbitrary<String> round = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(12, Arbitraries.of("1", "2", "3")),
                net.jqwik.api.Tuple.of(1, Arbitraries.of("4", "0", "-1", "4294967297", "1.0", "\"1\"", "true", "null")));
        Arbitrary<String> budget = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(8, Arbitraries.longs().between(1, 3_000_000).map(String::valueOf)),
                net.jqwik.api.Tuple.of(1, 
                Arbitraries.of("0", "-5", "18446744073709552616", "1e30", "1E6", "990000.0", "\"1000000\"", "false",
                        "150000000000", "150000000001", "9223372036854775807")));
        Arbitrary<String> action = Arbitraries.of("\"PAUSE\"", "\"RESUME\"", "\"SET_BUDGET\"", "\"SET_BUDGET\"",
                "\"SET_BUDGET\"", "\"PAUSE\"", "\"RESUME\"", "\"SET_BUDGET\"", "\"pause\"");
        Arbitrary<String> extra = Arbitraries.of("", "", "", "", "", "", "", "", ",\"reason\":\"sponsor\"", ",\"reason\":\"ops\"",
                ",\"when\":1", ",\"round_id\":2");
        Arbitrary<String> record = Combinators.combine(id, round, action, budget, extra).as((i, r, a, b, x) ->
                "{\"change_id\":\"" + i.replace("\u0000", "\\u0000") + "\",\"round_id\":" + r + ",\"action\":" + a
                        + (a.equals("\"SET_BUDGET\"") ? ",\"budget_fen\":" + b : "") + x + "}");
        Arbitrary<String> junk = Arbitraries.of("{not json", "", "[]", "{\"change_id\":\"ops-1\"}");
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(20, record.map(j -> new Step(j, Step.RECORD, 0))),
                net.jqwik.api.Tuple.of(1, junk.map(j -> new Step(j, Step.RECORD, 0))),
                net.jqwik.api.Tuple.of(6, Arbitraries.integers().between(0, 1_000).map(i -> new Step(null, Step.RESEND, i))),
                net.jqwik.api.Tuple.of(3, Arbitraries.just(new Step(null, Step.CHECKPOINT, 0))),
                net.jqwik.api.Tuple.of(2, Arbitraries.just(new Step(null, Step.CRASH, 0))))
                .list().ofMinSize(5).ofMaxSize(80);
    }
}
