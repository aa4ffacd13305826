package io.hongbao.jobs.functions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hongbao.ingest.event.RejectReason;
import io.hongbao.ingest.flink.ShakeRecord;
import io.hongbao.settlement.SettlementDatabase;
import java.util.Properties;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

class DeadLettersTest {
    private static SettlementDatabase db(String url) {
        return SettlementDatabase.of(url, "hongbao_job", null);
    }

    @Test
    void shouldDeriveAStableDeploymentIdThatTellsSettlementDatabasesApart() {
        String prod = DeadLetters.deploymentId(db("jdbc:postgresql://pg-a.prod:5432/hongbao"), "payouts");
        assertThat(DeadLetters.deploymentId(db("jdbc:postgresql://pg-a.prod:5432/hongbao?sslmode=require"), "payouts"))
                .as("connection parameters do not make another deployment").isEqualTo(prod);
        assertThat(prod).startsWith("hongbao.payouts.");
        assertThat(DeadLetters.deploymentId(db("jdbc:postgresql://pg.staging:5432/hongbao"), "payouts")).isNotEqualTo(prod);
        assertThat(DeadLetters.deploymentId(db("jdbc:postgresql://pg-a.prod:5432/hongbao_b"), "payouts")).isNotEqualTo(prod);
        assertThat(DeadLetters.deploymentId(db("jdbc:postgresql://pg-a.prod:5432/hongbao"), "payouts-2")).isNotEqualTo(prod);
        assertThat(DeadLetters.transactionalIdPrefix(prod)).isEqualTo("hongbao-dead-letters." + prod);
    }

    @Test
    void shouldRefuseDeploymentIdsThatAreNotPlainNames() {
        assertThatThrownBy(() -> DeadLetters.transactionalIdPrefix("")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DeadLetters.transactionalIdPrefix("a b")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DeadLetters.transactionalIdPrefix(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldBoundRecordsByTheProducersOwnLimit() {
        Properties props = new Properties();
        assertThat(DeadLetters.maxRecordBytes(DeadLetters.producerProperties(props))).isEqualTo(1024 * 1024);
        props.setProperty("max.request.size", "200000");
        assertThat(DeadLetters.maxRecordBytes(DeadLetters.producerProperties(props))).isEqualTo(200000);
        props.setProperty("compression.type", "lz4");
        assertThat(DeadLetters.producerProperties(props).getProperty("compression.type")).isEqualTo("none");
        assertThat(DeadLetters.producerProperties(props).getProperty("transaction.timeout.ms")).isEqualTo("900000");
    }

    @Test
    void shouldRetryTransactionRequestsWithinATenthOfASecondUnlessTheJobSaysOtherwise() {
        Properties props = new Properties();
        assertThat(DeadLetters.producerProperties(props).getProperty("retry.backoff.max.ms")).isEqualTo("100");
        props.setProperty("retry.backoff.max.ms", "1000");
        assertThat(DeadLetters.producerProperties(props).getProperty("retry.backoff.max.ms")).isEqualTo("1000");
    }

    @Test
    void shouldTruncateToExactlyTheLimitAndNotBeyond() {
        DeadLetterSerializationSchema schema = new DeadLetterSerializationSchema("dl", 10_000);
        for (int length : new int[] {9_000, 9_800, 9_900, 10_000, 10_001, 50_000}) {
            ShakeRecord r = new ShakeRecord();
            r.rejectReason = RejectReason.OVERSIZED;
            r.rejectDetail = "big";
            r.raw = new byte[length];
            r.topic = "shakes";
            ProducerRecord<byte[], byte[]> letter = schema.serialize(r, null, null);
            RecordHeaders headers = new RecordHeaders(letter.headers().toArray());
            assertThat(DeadLetterSerializationSchema.sizeUpperBound(letter.key(), java.nio.ByteBuffer.wrap(letter.value()),
                    headers)).as("length %d", length).isLessThanOrEqualTo(10_000);
            boolean truncated = letter.headers().lastHeader(DeadLetterSerializationSchema.TRUNCATED) != null;
            assertThat(truncated).isEqualTo(letter.value().length < length);
            if (truncated) {
                assertThat(letter.value().length).isGreaterThan(10_000 - 400);
            }
        }
    }
}
