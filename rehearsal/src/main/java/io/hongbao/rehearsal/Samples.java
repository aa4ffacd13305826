package io.hongbao.rehearsal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** JSON-lines files (the sampler's samples, the script's events); a missing file is empty, a cut last line skipped. */
final class Samples {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Samples() {}

    static List<JsonNode> read(Path file) throws IOException {
        List<JsonNode> lines = new ArrayList<>();
        if (!Files.exists(file)) {
            return lines;
        }
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            try {
                lines.add(JSON.readTree(line));
            } catch (IOException cut) {
                // the writer was stopped mid-line: the last line only
            }
        }
        return lines;
    }
}
