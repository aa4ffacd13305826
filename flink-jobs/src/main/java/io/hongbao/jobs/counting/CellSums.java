package io.hongbao.jobs.counting;

import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.settlement.analytics.InteractionCount;
import java.time.Duration;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * The counting path's per-cell sums of a stream of shakes ({@link CellTally}), as an operator chained behind
 * validation. The payout job sums inside its identity operator instead, where distinct shakes are known.
 */
public final class CellSums extends AbstractStreamOperator<InteractionCount>
        implements OneInputStreamOperator<ShakeRecord, InteractionCount>, BoundedOneInput {
    private static final long serialVersionUID = 1L;

    private final Duration flushInterval;
    private transient CellTally cells;

    public CellSums(Duration flushInterval) {
        this.flushInterval = flushInterval;
        new CellTally(flushInterval, c -> {}); // refuses a bad interval when the graph is built, not at run time
    }

    @Override
    public void open() throws Exception {
        super.open();
        cells = new CellTally(flushInterval, c -> output.collect(new StreamRecord<>(c)));
        cells.start(getProcessingTimeService());
    }

    @Override
    public void processElement(StreamRecord<ShakeRecord> element) {
        cells.add(element.getValue().event);
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        cells.flush();
    }

    @Override
    public void endInput() {
        cells.flush();
    }
}
