package io.hongbao.jobs.functions;

import io.hongbao.ingest.flink.ShakeRecord;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.IntConsumer;
import java.util.function.ToIntFunction;
import java.util.stream.Stream;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.runtime.state.KeyedStateBackend;
import org.apache.flink.runtime.state.VoidNamespace;

/**
 * Shakes an operator holds until event time (the decider's watermark, the identity's schedule promise) passes
 * them: on the heap by gateway time, in arrival order within a millisecond, and before each barrier in keyed
 * list state under each shake's own key (its shard), so a restore or a rescale brings back exactly the shakes of
 * the key groups a subtask owns. The operator sets no key per record; this sets the key itself when it writes.
 */
final class HeldShakes {
    private final String stateName;
    private final ListState<ShakeRecord> state;
    private final ToIntFunction<ShakeRecord> keyOf;
    private final TreeMap<Long, List<ShakeRecord>> byTime = new TreeMap<>();
    /** Keys with a list in keyed state: rewritten, or cleared, at the next barrier. */
    private Set<Integer> keysInState = new HashSet<>();

    /** {@code state}: the keyed list state named {@code stateName}, in the void namespace. */
    HeldShakes(String stateName, ListState<ShakeRecord> state, ToIntFunction<ShakeRecord> keyOf) {
        this.stateName = stateName;
        this.state = state;
        this.keyOf = keyOf;
    }

    /** Reads back what the keys this subtask owns held at the checkpoint. */
    void restore(KeyedStateBackend<Integer> keyed, IntConsumer setKey) throws Exception {
        List<Integer> keys;
        try (Stream<Integer> stream = keyed.getKeys(stateName, VoidNamespace.INSTANCE)) {
            keys = stream.toList();
        }
        for (int key : keys) {
            setKey.accept(key);
            for (ShakeRecord shake : state.get()) {
                hold(shake);
            }
            keysInState.add(key);
        }
    }

    void hold(ShakeRecord shake) {
        byTime.computeIfAbsent(shake.event.gatewayTsMs, at -> new ArrayList<>(1)).add(shake);
    }

    /**
     * Hands over, and forgets, the shakes up to {@code bound} (with it when {@code inclusive}), one list per
     * gateway millisecond, earliest first.
     */
    void release(long bound, boolean inclusive, Due due) throws Exception {
        if (byTime.isEmpty() || byTime.firstKey() > bound || (!inclusive && byTime.firstKey() == bound)) {
            return;
        }
        for (Iterator<List<ShakeRecord>> it = byTime.headMap(bound, inclusive).values().iterator(); it.hasNext(); ) {
            List<ShakeRecord> at = it.next();
            it.remove();
            due.accept(at);
        }
    }

    /** What is held goes to keyed state under each shake's key; a key with nothing left is cleared. */
    void write(IntConsumer setKey) throws Exception {
        Map<Integer, List<ShakeRecord>> byKey = new HashMap<>();
        for (List<ShakeRecord> at : byTime.values()) {
            for (ShakeRecord shake : at) {
                byKey.computeIfAbsent(keyOf.applyAsInt(shake), k -> new ArrayList<>()).add(shake);
            }
        }
        for (int key : keysInState) {
            if (!byKey.containsKey(key)) {
                setKey.accept(key);
                state.clear();
            }
        }
        for (Map.Entry<Integer, List<ShakeRecord>> key : byKey.entrySet()) {
            setKey.accept(key.getKey());
            state.update(key.getValue());
        }
        keysInState = new HashSet<>(byKey.keySet());
    }

    /** What {@link #release} hands the shakes of one gateway millisecond to. */
    @FunctionalInterface
    interface Due {
        void accept(List<ShakeRecord> shakes) throws Exception;
    }

    long size() {
        return byTime.values().stream().mapToLong(List::size).sum();
    }
}
