package io.hongbao.ingest.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Production Kafka security (SASL/SCRAM over TLS) reaches the clients through {@code --kafka-config}, a
 * properties file, so credentials never sit on a command line; nothing prints them.
 */
class KafkaSecurityConfigTest {
    private final String secret = "scram-" + UUID.randomUUID();

    private Path securityFile(Path dir) throws Exception {
        return Files.writeString(dir.resolve("kafka-client.properties"), """
                security.protocol=SASL_SSL
                sasl.mechanism=SCRAM-SHA-512
                sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\
                    username="hongbao-generator" password="%s";
                ssl.truststore.type=PEM
                ssl.truststore.location=/etc/hongbao/kafka-ca.pem
                ssl.endpoint.identification.algorithm=https
                """.formatted(secret));
    }

    @Test
    void shouldHandTheFilesSecuritySettingsToTheClients(@TempDir Path dir) throws Exception {
        KafkaOptions options = new KafkaOptions();
        new CommandLine(options).parseArgs("--bootstrap-servers", "kafka-1.prod:9093",
                "--kafka-config", securityFile(dir).toString());

        Properties props = options.clientProperties();

        assertThat(props).containsEntry("security.protocol", "SASL_SSL").containsEntry("sasl.mechanism", "SCRAM-SHA-512")
                .containsEntry("ssl.truststore.location", "/etc/hongbao/kafka-ca.pem")
                .containsEntry("bootstrap.servers", "kafka-1.prod:9093");
        assertThat(props.getProperty("sasl.jaas.config")).contains("ScramLoginModule").contains(secret);
        // Kafka's client config, which the clients log at start, treats the JAAS config as a password.
        props.put("key.serializer", ByteArraySerializer.class.getName());
        props.put("value.serializer", ByteArraySerializer.class.getName());
        ProducerConfig config = new ProducerConfig(props);
        assertThat(config.getPassword("sasl.jaas.config").toString()).isEqualTo("[hidden]");
        assertThat(config.values().toString()).doesNotContain(secret);
    }

    @Test
    void shouldNotPrintTheFilesSecretsInHelpOrErrors(@TempDir Path dir) throws Exception {
        Path file = securityFile(dir);
        for (String[] args : new String[][] {
                {"generate", "--kafka-config", file.toString(), "--help"},
                {"count", "--kafka-config", file.toString(), "--help"},
                {"count", "--kafka-config", file.toString(), "--no-such-option"}}) {
            StringWriter out = new StringWriter();
            CommandLine cli = new CommandLine(IngestCli.class);
            cli.setOut(new PrintWriter(out, true));
            cli.setErr(new PrintWriter(out, true));

            cli.execute(args);

            assertThat(out.toString()).as(String.join(" ", args)).contains("--kafka-config").doesNotContain(secret);
        }
    }
}
