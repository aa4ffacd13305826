package io.hongbao.jobs.functions;

import java.util.List;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.streaming.api.TimerService;

/**
 * The event time a subtask has reached, surviving a restore. Flink does not checkpoint watermarks: a restored
 * task's watermark is {@code Long.MIN_VALUE} until its inputs send new ones, and in that gap a round closed before
 * the checkpoint looks open, so its keyed state could be made again (a second sweep, a second report from a
 * shard). With this the round stays closed, and a round's keyed state can be cleared as soon as it closes.
 *
 * <p>Kept as union operator state and restored as the maximum: with aligned checkpoints (the job's) every subtask
 * of a keyed operator has processed the same watermarks at the barrier, so after rescaling a key's new subtask
 * knows what its old one knew.
 */
final class RestoredEventTime {
    private final ListState<Long> checkpointed;
    private long reached = Long.MIN_VALUE;

    private RestoredEventTime(ListState<Long> checkpointed) {
        this.checkpointed = checkpointed;
    }

    static RestoredEventTime restore(FunctionInitializationContext context, String name) throws Exception {
        ListState<Long> state = context.getOperatorStateStore()
                .getUnionListState(new ListStateDescriptor<>(name, Types.LONG));
        RestoredEventTime time = new RestoredEventTime(state);
        if (context.isRestored()) {
            for (Long t : state.get()) {
                time.reached = Math.max(time.reached, t);
            }
        }
        return time;
    }

    /** The current watermark, or the one reached before the restore while the inputs have not caught up. */
    long current(TimerService timers) {
        return advance(timers.currentWatermark());
    }

    /** The event time reached so far, without a new watermark. */
    long reached() {
        return reached;
    }

    /** As {@link #current(TimerService)}, for an operator that sees its watermarks itself. */
    long advance(long watermark) {
        reached = Math.max(reached, watermark);
        return reached;
    }

    void snapshot() throws Exception {
        checkpointed.update(List.of(reached));
    }
}
