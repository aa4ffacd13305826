package io.hongbao.settlement;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Where the command-line tools take the database password from: a file (its first line), else the
 * environment variable {@value #ENV}, else none (trust or peer authentication). Never from an option value:
 * command lines show in process lists.
 */
public final class DatabasePassword {
    public static final String ENV = "HONGBAO_PG_PASSWORD";

    private DatabasePassword() {}

    public static String read(Path file, Map<String, String> env) throws IOException {
        if (file != null) {
            String text = Files.readString(file, StandardCharsets.UTF_8);
            int eol = text.indexOf('\n');
            return (eol >= 0 ? text.substring(0, eol) : text).strip();
        }
        return env.get(ENV);
    }
}
