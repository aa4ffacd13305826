package io.hongbao.jobs.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.configuration.WebOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Datacenter B's settings (infra/flink/standby.yaml), appended to the cluster's config.yaml as bin/dr-drill appends
 * them, through Flink's own loader: Flink ignores a misspelt key silently, and a second nested {@code taskmanager:}
 * or {@code web:} map would replace the template's (its memory sizes, its upload directory).
 */
class StandbyConfigTest {
    private static final Path ROOT = RepositoryFiles.root();

    @Test
    void shouldShortenTheRestCacheAndKeepSlotsTogetherWithoutReplacingTheTemplatesSettings(@TempDir Path dir)
            throws IOException {
        String base = Pattern.compile("@[A-Z_]+@").matcher(Files.readString(ROOT.resolve("infra/flink/config.yaml")))
                .replaceAll("1");
        Files.writeString(dir.resolve("config.yaml"),
                base + "\n" + Files.readString(ROOT.resolve("infra/flink/standby.yaml")));
        Configuration config = GlobalConfiguration.loadConfiguration(dir.toString());

        assertThat(config.get(WebOptions.REFRESH_INTERVAL)).isEqualTo(Duration.ofMillis(100));
        assertThat(config.get(TaskManagerOptions.TASK_MANAGER_LOAD_BALANCE_MODE))
                .isEqualTo(TaskManagerOptions.TaskManagerLoadBalanceMode.NONE);
        assertThat(config.get(TaskManagerOptions.TOTAL_PROCESS_MEMORY)).isEqualTo(MemorySize.parse("1536m"));
        assertThat(config.get(TaskManagerOptions.NUM_TASK_SLOTS)).isEqualTo(2);
        assertThat(config.get(WebOptions.UPLOAD_DIR)).isEqualTo("1");
    }
}
