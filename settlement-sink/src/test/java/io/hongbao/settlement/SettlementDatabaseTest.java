package io.hongbao.settlement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

class SettlementDatabaseTest {
    private static final String SECRET = "s3cr3t-Pa55";

    @Test
    void shouldNeverShowThePassword() {
        SettlementDatabase db = SettlementDatabase.of(
                "jdbc:postgresql://127.0.0.1:5432/hongbao?sslmode=disable&password=" + SECRET, "hongbao", SECRET);

        assertThat(db.toString()).doesNotContain(SECRET).contains("hongbao").contains("password=***");
        assertThat(db.redactedUrl()).isEqualTo("jdbc:postgresql://127.0.0.1:5432/hongbao?sslmode=disable&password=***");
    }

    @Test
    void shouldNotPutThePasswordInConnectionErrors() {
        // Nothing listens on port 1: the connection fails, and the message names URL and user only.
        SettlementDatabase db = SettlementDatabase.of("jdbc:postgresql://127.0.0.1:1/hongbao?password=" + SECRET,
                "hongbao", SECRET);

        assertThatThrownBy(() -> db.connect("test")).isInstanceOf(SQLException.class)
                .hasMessageContaining("cannot connect to jdbc:postgresql://127.0.0.1:1/hongbao?password=***")
                .hasMessageNotContaining(SECRET);
    }

    @Test
    void shouldSurviveJavaSerialization() throws Exception {
        SettlementDatabase db = SettlementDatabase.of("jdbc:postgresql://db/hongbao", "hongbao", SECRET);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(db);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            assertThat(in.readObject()).isEqualTo(db);
        }
    }

    @Test
    void shouldRefuseAUrlNamingAnotherUser() {
        // pgjdbc would connect as the URL's user, not the one given beside it.
        assertThatThrownBy(() -> SettlementDatabase.of("jdbc:postgresql://db/hongbao?user=postgres&password=" + SECRET,
                "hongbao_job", null)).hasMessageContaining("names the user postgres, which would override hongbao_job")
                .hasMessageNotContaining(SECRET);
        assertThat(SettlementDatabase.of("jdbc:postgresql://db/hongbao?user=hongbao_job", "hongbao_job", null).user())
                .isEqualTo("hongbao_job");
    }

    @Test
    void shouldRejectOtherDatabases() {
        assertThatThrownBy(() -> SettlementDatabase.of("jdbc:mysql://db/x", "u", "p"))
                .hasMessageContaining("not a PostgreSQL JDBC URL");
    }
}
