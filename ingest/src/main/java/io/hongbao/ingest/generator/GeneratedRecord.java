package io.hongbao.ingest.generator;

import io.hongbao.ingest.event.ShakeEvent;

/**
 * One Kafka record the generator produces. {@code event} is the shake behind it where there is one (valid,
 * bot, retry, unknown round, out of window), else null.
 */
public record GeneratedRecord(RecordKind kind, byte[] key, byte[] value, ShakeEvent event) {}
