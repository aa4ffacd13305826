package io.hongbao.settlement.sink;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The global id ({@code gid}) of one prepared transaction of the settlement sink:
 * {@code hb:<sink>:<subtask>:<afterCheckpointId>:<nonce>:<sequence>}.
 *
 * <ul>
 *   <li>{@code sink}: the sink's name, so several sinks (or jobs) share a database without touching each
 *       other's transactions;</li>
 *   <li>{@code subtask}: the writer subtask that prepared it, so cleanup after a restore is split between
 *       subtasks without overlap;</li>
 *   <li>{@code afterCheckpointId}: the last checkpoint the writer had taken (or restored) when it prepared;
 *       the transaction belongs to a later checkpoint. A Sink V2 writer does not learn the id of the
 *       checkpoint it prepares for, but this bound is what orphan cleanup needs (see
 *       {@link OrphanedTransactions});</li>
 *   <li>{@code nonce}: random per writer instance (per attempt), because checkpoint ids repeat when a job is
 *       started again from an older checkpoint;</li>
 *   <li>{@code sequence}: counts the writer instance's transactions.</li>
 * </ul>
 */
public record TransactionId(String sinkName, int subtask, long afterCheckpointId, String nonce, long sequence) {

    static final String PREFIX = "hb:";
    private static final Pattern SINK_NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");
    private static final Pattern NONCE = Pattern.compile("[0-9a-f]{1,32}");

    public TransactionId {
        requireSinkName(sinkName);
        if (subtask < 0 || afterCheckpointId < 0 || sequence < 0) {
            throw new IllegalArgumentException("negative part in transaction id");
        }
        if (!NONCE.matcher(nonce).matches()) {
            throw new IllegalArgumentException("nonce must be lower-case hex: " + nonce);
        }
    }

    /** Sink names become part of SQL literals and gids: letters, digits, '_', '.', '-', at most 64. */
    public static String requireSinkName(String sinkName) {
        if (sinkName == null || !SINK_NAME.matcher(sinkName).matches()) {
            throw new IllegalArgumentException("sink name must match " + SINK_NAME + ": " + sinkName);
        }
        return sinkName;
    }

    /** The prefix every gid of the named sink starts with. */
    public static String prefix(String sinkName) {
        return PREFIX + requireSinkName(sinkName) + ":";
    }

    public String gid() {
        return prefix(sinkName) + subtask + ":" + afterCheckpointId + ":" + nonce + ":" + sequence;
    }

    /** The id behind a gid of this sink's format, or empty for anything else. */
    public static Optional<TransactionId> parse(String gid) {
        if (gid == null || !gid.startsWith(PREFIX)) {
            return Optional.empty();
        }
        String[] parts = gid.substring(PREFIX.length()).split(":", -1);
        if (parts.length != 5) {
            return Optional.empty();
        }
        try {
            return Optional.of(new TransactionId(parts[0], Integer.parseInt(parts[1]), Long.parseLong(parts[2]),
                    parts[3], Long.parseLong(parts[4])));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** {@code gid} as a SQL string literal; gids are built from a safe alphabet, quotes are doubled anyway. */
    static String literal(String gid) {
        return "'" + gid.replace("'", "''") + "'";
    }

    @Override
    public String toString() {
        return gid();
    }
}
