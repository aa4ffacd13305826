package io.hongbao.jobs.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.FallbackKey;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.configuration.HighAvailabilityOptions;
import org.apache.flink.runtime.jobmanager.HighAvailabilityMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JobManager HA configuration bin/flink-cluster appends with HONGBAO_FLINK_HA=zookeeper
 * (infra/flink/ha-zookeeper.yaml), rendered as the script renders it and loaded by Flink's own config loader: Flink
 * ignores a misspelt key silently, so every key must be one of Flink's HA options; and the ZooKeeper server
 * (infra/zookeeper/zoo.cfg) must grant the session timeout the JobManagers ask for, else it negotiates another one
 * and the failover time is not what the configuration says. The failover itself runs in the chaos drill.
 */
class ZooKeeperHaConfigTest {
    private static final Path ROOT = RepositoryFiles.root();
    private static final Pattern PLACEHOLDER = Pattern.compile("@[A-Z_]+@");

    private static final Map<String, String> RENDERED = Map.of(
            "@HA_STORAGE_DIR@", "file:///tmp/hongbao-test/ha",
            "@HA_CLUSTER_ID@", "hongbao-test",
            "@ZK_QUORUM@", "127.0.0.1:2181");

    @Test
    void shouldRenderEveryPlaceholderTheScriptFills() throws IOException {
        String script = Files.readString(ROOT.resolve("bin/flink-cluster"));
        assertThat(placeholders(ha())).isEqualTo(RENDERED.keySet())
                .allSatisfy(p -> assertThat(script).as("bin/flink-cluster renders %s", p).contains("s#" + p + "#"));
        String zooCfg = Files.readString(ROOT.resolve("infra/zookeeper/zoo.cfg"));
        assertThat(placeholders(zooCfg)).allSatisfy(p -> assertThat(script).contains("s#" + p + "#"));
    }

    @Test
    void shouldConfigureZooKeeperHaAsFlinkReadsIt(@TempDir Path conf) throws IOException {
        Configuration config = load(conf);

        assertThat(HighAvailabilityMode.fromConfig(config)).isEqualTo(HighAvailabilityMode.ZOOKEEPER);
        assertThat(config.get(HighAvailabilityOptions.HA_STORAGE_PATH)).isEqualTo("file:///tmp/hongbao-test/ha");
        assertThat(config.get(HighAvailabilityOptions.HA_CLUSTER_ID)).isEqualTo("hongbao-test");
        assertThat(config.get(HighAvailabilityOptions.HA_ZOOKEEPER_QUORUM)).isEqualTo("127.0.0.1:2181");
        assertThat(config.get(HighAvailabilityOptions.HA_ZOOKEEPER_ROOT)).isEqualTo("/flink");
        assertThat(config.get(HighAvailabilityOptions.ZOOKEEPER_SESSION_TIMEOUT))
                .as("bounds the failover: the standby leads once the dead leader's session expired")
                .isEqualTo(Duration.ofSeconds(10));
        assertThat(config.get(HighAvailabilityOptions.ZOOKEEPER_TOLERATE_SUSPENDED_CONNECTIONS)).isTrue();
    }

    @Test
    void shouldUseOnlyKeysFlinkKnows(@TempDir Path conf) throws IOException {
        Set<String> known = new TreeSet<>();
        for (Field field : HighAvailabilityOptions.class.getFields()) {
            if (Modifier.isStatic(field.getModifiers()) && ConfigOption.class.isAssignableFrom(field.getType())) {
                ConfigOption<?> option = (ConfigOption<?>) readStatic(field);
                known.add(option.key());
                StreamSupport.stream(option.fallbackKeys().spliterator(), false).map(FallbackKey::getKey)
                        .forEach(known::add);
            }
        }
        Set<String> used = load(conf).keySet().stream().filter(k -> k.startsWith("high-availability"))
                .collect(Collectors.toCollection(TreeSet::new));

        assertThat(used).hasSizeGreaterThanOrEqualTo(8).allSatisfy(k -> assertThat(known).as("a Flink HA option").contains(k));
    }

    @Test
    void shouldLetTheServerGrantTheJobManagersSessionTimeout(@TempDir Path conf) throws IOException {
        Properties zooCfg = new Properties();
        try (var in = Files.newBufferedReader(ROOT.resolve("infra/zookeeper/zoo.cfg"))) {
            zooCfg.load(in);
        }
        long asked = load(conf).get(HighAvailabilityOptions.ZOOKEEPER_SESSION_TIMEOUT).toMillis();

        assertThat(Long.parseLong(zooCfg.getProperty("minSessionTimeout"))).isLessThanOrEqualTo(asked);
        assertThat(Long.parseLong(zooCfg.getProperty("maxSessionTimeout"))).isGreaterThanOrEqualTo(asked);
        assertThat(zooCfg.getProperty("clientPortAddress")).as("loopback only").isEqualTo("127.0.0.1");
        assertThat(zooCfg.getProperty("admin.enableServer")).as("no Jetty on port 8080").isEqualTo("false");
        assertThat(zooCfg.getProperty("4lw.commands.whitelist")).as("bin/flink-cluster's health check").contains("srvr");
    }

    private static String ha() throws IOException {
        return Files.readString(ROOT.resolve("infra/flink/ha-zookeeper.yaml"));
    }

    private static Set<String> placeholders(String text) {
        Set<String> found = new TreeSet<>();
        Matcher m = PLACEHOLDER.matcher(text.replaceAll("(?m)^\\s*#.*$", ""));
        while (m.find()) {
            found.add(m.group());
        }
        return found;
    }

    /** The cluster's config.yaml with the HA fragment appended, as bin/flink-cluster writes it, through Flink's loader. */
    private static Configuration load(Path dir) throws IOException {
        String base = PLACEHOLDER.matcher(Files.readString(ROOT.resolve("infra/flink/config.yaml"))).replaceAll("1");
        String ha = ha();
        for (Map.Entry<String, String> e : RENDERED.entrySet()) {
            ha = ha.replace(e.getKey(), e.getValue());
        }
        Files.writeString(dir.resolve("config.yaml"), base + "\n" + ha);
        return GlobalConfiguration.loadConfiguration(dir.toString());
    }

    private static Object readStatic(Field field) {
        try {
            return field.get(null);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }
}
