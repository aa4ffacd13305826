package io.hongbao.jobs.counting;

/** The running total of records rejected for one reason: an absolute value, safe to upsert again. */
public class RejectTotal {
    public String reason;
    public long records;

    public RejectTotal() {}

    public static RejectTotal of(String reason, long records) {
        RejectTotal t = new RejectTotal();
        t.reason = reason;
        t.records = records;
        return t;
    }

    @Override
    public String toString() {
        return reason + "=" + records;
    }
}
