package io.hongbao.settlement.testing;

import org.apache.flink.api.connector.sink2.Committer.CommitRequest;

/** Flink's side of one commit request, as the committer tests need it: remembers the last signal. */
public final class RecordingCommitRequest<T> implements CommitRequest<T> {
    public enum Outcome { COMMITTED, ALREADY_COMMITTED, FAILED_KNOWN, FAILED_UNKNOWN, RETRY }

    private T committable;
    private final int retries;
    private Outcome outcome = Outcome.COMMITTED;
    private Throwable failure;

    public RecordingCommitRequest(T committable) {
        this(committable, 0);
    }

    public RecordingCommitRequest(T committable, int retries) {
        this.committable = committable;
        this.retries = retries;
    }

    @Override
    public T getCommittable() {
        return committable;
    }

    @Override
    public int getNumberOfRetries() {
        return retries;
    }

    @Override
    public void signalFailedWithKnownReason(Throwable t) {
        outcome = Outcome.FAILED_KNOWN;
        failure = t;
    }

    @Override
    public void signalFailedWithUnknownReason(Throwable t) {
        outcome = Outcome.FAILED_UNKNOWN;
        failure = t;
        throw new IllegalStateException("Failed to commit " + committable, t);
    }

    @Override
    public void retryLater() {
        outcome = Outcome.RETRY;
    }

    @Override
    public void updateAndRetryLater(T committable) {
        this.committable = committable;
        retryLater();
    }

    @Override
    public void signalAlreadyCommitted() {
        outcome = Outcome.ALREADY_COMMITTED;
    }

    /** COMMITTED when the committer signalled nothing (Flink's default for a request that returns normally). */
    public Outcome outcome() {
        return outcome;
    }

    public Throwable failure() {
        return failure;
    }
}
