package io.hongbao.jobs.functions;

import io.hongbao.money.Round;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.state.FunctionInitializationContext;

/**
 * Each round's budget and the fen this subtask paid in it, as gauges for the budget burn-down
 * ({@code hongbao.round.<id>.budgetFen} and {@code .paidFen}; summed over subtasks, paid equals the payouts
 * decided). The paid figures live in operator state, so after a restore they continue from the checkpoint like
 * the decisions they count, instead of starting again at zero. The budgets too (union state: every subtask gets
 * every round's): otherwise a restored subtask reported its paid fen at once but a budget of 0 until the round's
 * next shake, forever for a round already over, and {@code HongbaoRoundOverBudget} (sum of paid above the max of
 * the budgets) fired for rounds paid well within budget after every restart (the chaos drill's alert timeline).
 */
final class RoundPaidMetrics {
    private final Map<Integer, Long> paidFen = new ConcurrentHashMap<>();
    private final Map<Integer, Long> budgetFen = new ConcurrentHashMap<>();
    private final Map<Integer, MetricGroup> registered = new ConcurrentHashMap<>();
    private final MetricGroup metrics;
    private final ListState<Tuple2<Integer, Long>> checkpointed;
    private final ListState<Tuple2<Integer, Long>> checkpointedBudgets;

    private RoundPaidMetrics(MetricGroup metrics, ListState<Tuple2<Integer, Long>> checkpointed,
            ListState<Tuple2<Integer, Long>> checkpointedBudgets) {
        this.metrics = metrics;
        this.checkpointed = checkpointed;
        this.checkpointedBudgets = checkpointedBudgets;
    }

    /** Registers the gauges under {@code metrics} and restores the paid figures of a restored subtask. */
    static RoundPaidMetrics restore(FunctionInitializationContext context, MetricGroup metrics) throws Exception {
        ListState<Tuple2<Integer, Long>> state = context.getOperatorStateStore().getListState(
                new ListStateDescriptor<>("round-paid-fen", Types.TUPLE(Types.INT, Types.LONG)));
        ListState<Tuple2<Integer, Long>> budgets = context.getOperatorStateStore().getUnionListState(
                new ListStateDescriptor<>("round-budget-fen", Types.TUPLE(Types.INT, Types.LONG)));
        RoundPaidMetrics gauges = new RoundPaidMetrics(metrics, state, budgets);
        if (context.isRestored()) {
            // After rescaling a subtask may get several parts of one round's figure: they add up.
            for (Tuple2<Integer, Long> paid : state.get()) {
                gauges.paid(paid.f0, paid.f1);
            }
            // Every old subtask's budgets (union), the same figure for a round unless a change was in flight.
            for (Tuple2<Integer, Long> budget : budgets.get()) {
                gauges.register(budget.f0);
                gauges.budgetFen.merge(budget.f0, budget.f1, Math::max);
            }
        }
        return gauges;
    }

    void snapshot() throws Exception {
        List<Tuple2<Integer, Long>> figures = new ArrayList<>(paidFen.size());
        paidFen.forEach((round, fen) -> figures.add(Tuple2.of(round, fen)));
        checkpointed.update(figures);
        List<Tuple2<Integer, Long>> known = new ArrayList<>(budgetFen.size());
        budgetFen.forEach((round, fen) -> known.add(Tuple2.of(round, fen)));
        checkpointedBudgets.update(known);
    }

    /** What the gauges report now. */
    long paidFen(int roundId) {
        return paidFen.getOrDefault(roundId, 0L);
    }

    long budgetFen(int roundId) {
        return budgetFen.getOrDefault(roundId, 0L);
    }

    void paid(int roundId, long fen) {
        register(roundId);
        paidFen.merge(roundId, fen, Long::sum);
    }

    void budget(Round round) {
        Long known = budgetFen.get(round.roundId());
        if (known == null || known != round.budgetFen()) {
            register(round.roundId());
            budgetFen.put(round.roundId(), round.budgetFen());
        }
    }

    private void register(int roundId) {
        registered.computeIfAbsent(roundId, id -> {
            MetricGroup round = metrics.addGroup("round", String.valueOf(id));
            round.gauge("paidFen", (Gauge<Long>) () -> paidFen.getOrDefault(id, 0L));
            round.gauge("budgetFen", (Gauge<Long>) () -> budgetFen.getOrDefault(id, 0L));
            return round;
        });
    }
}
