package io.hongbao.ingest.flink;

import io.hongbao.ingest.event.DecodeResult;
import io.hongbao.ingest.event.RejectReason;
import io.hongbao.ingest.event.ShakeEvent;
import org.apache.flink.api.common.typeinfo.TypeInfo;

/**
 * A Kafka record after decoding, with its lineage (topic, partition, offset) so every payout can name the
 * record that won it. Either {@link #event} is set, or {@link #rejectReason} with {@link #raw} bytes for the
 * dead-letter topic, or it is a gateway tick ({@link #isTick()}: only {@link #tickMs} and the lineage), which
 * moves event time and is neither a shake nor a reject. Flink serializes it with {@link ShakeRecordSerializer},
 * not the generic POJO serializer.
 */
@TypeInfo(ShakeRecordTypeInfoFactory.class)
public class ShakeRecord {
    public ShakeEvent event;
    public RejectReason rejectReason;
    public String rejectDetail;
    /** The undecodable value, kept only for rejected records (dead letters carry it). */
    public byte[] raw;
    /** A gateway tick's time (positive); 0 for every record that is no tick. */
    public long tickMs;

    public String topic;
    public int partition;
    public long offset;
    /** The Kafka record timestamp (the broker's or producer's clock), for diagnostics. */
    public long kafkaTimestampMs;

    public ShakeRecord() {}

    public static ShakeRecord of(DecodeResult decoded, byte[] value, String topic, int partition, long offset,
            long kafkaTimestampMs) {
        ShakeRecord r = new ShakeRecord();
        if (decoded.isAccepted()) {
            r.event = decoded.event();
        } else if (decoded.isTick()) {
            r.tickMs = decoded.tickMs();
        } else {
            r.rejectReason = decoded.reason();
            r.rejectDetail = decoded.detail();
            r.raw = value == null ? new byte[0] : value;
        }
        r.topic = topic;
        r.partition = partition;
        r.offset = offset;
        r.kafkaTimestampMs = kafkaTimestampMs;
        return r;
    }

    public boolean isRejected() {
        return rejectReason != null;
    }

    /** A gateway tick: no event, no reject reason, never counted nor dead-lettered; drop it after the source. */
    public boolean isTick() {
        return tickMs > 0;
    }

    /** Turns an accepted record into a rejected one, for checks made after decoding (round, window). */
    public ShakeRecord reject(RejectReason reason, String detail, byte[] encoded) {
        ShakeRecord r = new ShakeRecord();
        r.rejectReason = reason;
        r.rejectDetail = detail;
        r.raw = encoded;
        r.topic = topic;
        r.partition = partition;
        r.offset = offset;
        r.kafkaTimestampMs = kafkaTimestampMs;
        return r;
    }

    /** Where the record came from, as {@code topic/partition/offset}. */
    public String lineage() {
        return topic + "/" + partition + "/" + offset;
    }

    @Override
    public String toString() {
        if (isTick()) {
            return lineage() + " tick " + tickMs;
        }
        return lineage() + " " + (isRejected() ? rejectReason + " (" + rejectDetail + ")" : String.valueOf(event));
    }
}
