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
 *
 * <p>{@link #raw} is the Kafka record's value exactly as read: dead letters carry the original bytes, never a
 * re-encoding (which drops unknown fields and normalises the encoding). Accepted records carry it from the
 * source through validation to the payout job's identity check (the last place a shake can be rejected before
 * it is decided), which drops it with {@link #withoutRaw()}: past there it would cost its ~60 bytes on every
 * hop of every shake.
 */
@TypeInfo(ShakeRecordTypeInfoFactory.class)
public class ShakeRecord {
    public ShakeEvent event;
    public RejectReason rejectReason;
    public String rejectDetail;
    /** The record's value as read: kept for rejected records (dead letters carry it) and, until validation, for accepted ones. */
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

    /**
     * The record as read from Kafka: {@link #of} with the original bytes kept on an accepted record too, for
     * a dead letter should validation reject it.
     */
    public static ShakeRecord read(DecodeResult decoded, byte[] value, String topic, int partition, long offset,
            long kafkaTimestampMs) {
        ShakeRecord r = of(decoded, value, topic, partition, offset, kafkaTimestampMs);
        if (!r.isTick()) {
            r.raw = value == null ? new byte[0] : value;
        }
        return r;
    }

    /**
     * Turns an accepted record into a rejected one, for checks made after decoding (round, window, identity),
     * with the record's original bytes for the dead letter. Never throws (a reject must not fail the job): a
     * record whose bytes were dropped already ({@link #withoutRaw()}) carries its re-encoding, and says so.
     */
    public ShakeRecord reject(RejectReason reason, String detail) {
        ShakeRecord r = new ShakeRecord();
        r.rejectReason = reason;
        if (raw != null) {
            r.rejectDetail = detail;
            r.raw = raw;
        } else {
            r.rejectDetail = detail + " (value re-encoded: the original bytes were no longer held)";
            r.raw = io.hongbao.ingest.event.ShakeEventCodec.encode(event);
        }
        r.topic = topic;
        r.partition = partition;
        r.offset = offset;
        r.kafkaTimestampMs = kafkaTimestampMs;
        return r;
    }

    /** This accepted record without its original bytes, for everything downstream of validation. */
    public ShakeRecord withoutRaw() {
        raw = null;
        return this;
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
