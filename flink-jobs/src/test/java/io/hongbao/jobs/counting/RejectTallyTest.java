package io.hongbao.jobs.counting;

import static org.assertj.core.api.Assertions.assertThat;

import io.hongbao.ingest.event.RejectReason;
import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.money.RejectCount;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

class RejectTallyTest {

    @Test
    void shouldEmitTheRunningTotalPerReason() throws Exception {
        KeyedOneInputStreamOperatorTestHarness<String, ShakeRecord, RejectCount> harness =
                ProcessFunctionTestHarnesses.forKeyedProcessFunction(new RejectTally(),
                        r -> r.rejectReason.name(), Types.STRING);

        harness.processElement(rejected(RejectReason.OVERSIZED), 1);
        harness.processElement(rejected(RejectReason.UNDECODABLE), 2);
        harness.processElement(rejected(RejectReason.OVERSIZED), 3);

        assertThat(harness.extractOutputValues()).extracting(RejectCount::toString)
                .containsExactly("OVERSIZED=1", "UNDECODABLE=1", "OVERSIZED=2");
        assertThat(harness.numKeyedStateEntries()).isEqualTo(2);
    }

    private static ShakeRecord rejected(RejectReason reason) {
        ShakeRecord r = new ShakeRecord();
        r.rejectReason = reason;
        r.rejectDetail = "test";
        r.raw = new byte[] {1};
        return r;
    }
}
