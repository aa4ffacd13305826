package io.hongbao.ingest.count;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/** Counts measured against the counts expected, figure by figure, naming every figure that differs. */
public final class CountsComparison {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One figure that differs; absent figures count as 0. */
    public record Difference(String figure, long expected, long actual) {
        @Override
        public String toString() {
            return figure + ": expected " + expected + ", counted " + actual;
        }
    }

    private CountsComparison() {}

    public static List<Difference> differences(IntakeCounts expected, IntakeCounts actual) {
        Map<String, Long> want = flatten(expected);
        Map<String, Long> got = flatten(actual);
        TreeSet<String> figures = new TreeSet<>(want.keySet());
        figures.addAll(got.keySet());
        List<Difference> differences = new ArrayList<>();
        for (String figure : figures) {
            long e = want.getOrDefault(figure, 0L);
            long a = got.getOrDefault(figure, 0L);
            if (e != a) {
                differences.add(new Difference(figure, e, a));
            }
        }
        return differences;
    }

    /** Every number in the counts under a dotted path, e.g. {@code rounds.1.by_region.CN-GD}. */
    static Map<String, Long> flatten(IntakeCounts counts) {
        Map<String, Long> flat = new TreeMap<>();
        flatten("", JSON.valueToTree(counts), flat);
        return flat;
    }

    private static void flatten(String path, JsonNode node, Map<String, Long> flat) {
        if (node.isNumber()) {
            flat.put(path, node.longValue());
            return;
        }
        Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            flatten(path.isEmpty() ? field.getKey() : path + "." + field.getKey(), field.getValue(), flat);
        }
    }
}
