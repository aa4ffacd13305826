package io.hongbao.ingest.cli;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import picocli.CommandLine.Option;

/** How the tools reach Kafka; shared by every command (a picocli mixin). */
public class KafkaOptions {
    public static final String DEFAULT_BOOTSTRAP = "127.0.0.1:19092";

    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT",
            defaultValue = "${env:HONGBAO_KAFKA_BOOTSTRAP:-" + DEFAULT_BOOTSTRAP + "}",
            description = "Kafka bootstrap servers (env HONGBAO_KAFKA_BOOTSTRAP; default: ${DEFAULT-VALUE}).")
    String bootstrapServers;

    @Option(names = "--kafka-config", paramLabel = "FILE",
            description = "Extra Kafka client properties (security.protocol, sasl.*, ssl.*...), kept out of the "
                    + "command line so secrets do not show in process lists.")
    Path kafkaConfig;

    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** Client properties: the file's, then the bootstrap servers. */
    public Properties clientProperties() {
        Properties props = new Properties();
        if (kafkaConfig != null) {
            try (Reader in = Files.newBufferedReader(kafkaConfig)) {
                props.load(in);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read Kafka config " + kafkaConfig, e);
            }
        }
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return props;
    }
}
