package io.hongbao.ingest.generator;

import io.hongbao.ingest.event.ShakeEvent;
import io.hongbao.ingest.event.ShakeEventCodec;

/**
 * One Kafka record the generator produces. {@code event} is the shake behind it where there is one (valid,
 * bot, retry, unknown round, out of window), else null. {@code partition} is {@link #BY_KEY} for every record
 * but a {@link RecordKind#TICK}, which has no key and names its partition: every partition gets each tick.
 */
public record GeneratedRecord(RecordKind kind, byte[] key, byte[] value, ShakeEvent event, int partition) {
    /** The partition is Kafka's choice from the key (the user id), as for every shake. */
    public static final int BY_KEY = -1;

    public GeneratedRecord(RecordKind kind, byte[] key, byte[] value, ShakeEvent event) {
        this(kind, key, value, event, BY_KEY);
    }

    /** A gateway tick at {@code gatewayTsMs} for {@code partition}: no key, gateway id 0. */
    public static GeneratedRecord tick(int partition, long gatewayTsMs) {
        return new GeneratedRecord(RecordKind.TICK, null, ShakeEventCodec.encodeTick(gatewayTsMs, 0), null, partition);
    }

    public boolean isTick() {
        return kind == RecordKind.TICK;
    }
}
