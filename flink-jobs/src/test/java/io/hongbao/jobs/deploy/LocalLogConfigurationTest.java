package io.hongbao.jobs.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.ConfigurationSource;
import org.apache.logging.log4j.core.config.properties.PropertiesConfigurationFactory;
import org.junit.jupiter.api.Test;

/**
 * The log configuration the job ships for local MiniCluster runs (bin/run-local names it with
 * -Dlog4j2.configurationFile): without it the run's log4j found Flink's test configuration (root OFF) first and
 * payout-job.log held nothing but the job's exit.
 */
class LocalLogConfigurationTest {
    @Test
    void shouldLogHongbaoAtInfoAndFlinkAndKafkaAtWarn() {
        ConfigurationSource source = ConfigurationSource.fromResource("hongbao-local-log4j2.properties",
                getClass().getClassLoader());
        assertThat(source).as("hongbao-local-log4j2.properties on the job's classpath").isNotNull();
        Configuration config = new PropertiesConfigurationFactory().getConfiguration(null, source);
        config.initialize();

        assertThat(config.getLoggerConfig("io.hongbao.settlement.sink.SettlementCommitter").getLevel()).isEqualTo(Level.INFO);
        assertThat(config.getLoggerConfig("org.apache.flink.runtime.taskmanager.Task").getLevel()).isEqualTo(Level.WARN);
        assertThat(config.getLoggerConfig("org.apache.kafka.clients.producer.KafkaProducer").getLevel()).isEqualTo(Level.WARN);
        assertThat(config.getLoggerConfig("org.apache.flink.runtime.executiongraph.ExecutionGraph").getLevel())
                .isEqualTo(Level.INFO);
        assertThat(config.getLoggerConfig("org.apache.flink.metrics.MetricGroup").getLevel()).isEqualTo(Level.ERROR);
        assertThat(config.getRootLogger().getAppenders()).containsOnlyKeys("out");
    }
}
