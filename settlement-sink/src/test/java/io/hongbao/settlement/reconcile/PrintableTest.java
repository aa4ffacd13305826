package io.hongbao.settlement.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PrintableTest {

    @Test
    void shouldEscapeTerminalControlSequences() {
        assertThat(Printable.escape("\u001b[2J\u001b[H\u001b[32mALL OK")).isEqualTo("\\u001b[2J\\u001b[H\\u001b[32mALL OK");
    }

    @Test
    void shouldEscapeLineBreaksDeleteC1AndBidiControls() {
        assertThat(Printable.escape("a\nb\rc\td\u007fe\u009bf\u202eg\u2028h")).isEqualTo(
                "a\\u000ab\\u000dc\\u0009d\\u007fe\\u009bf\\u202eg\\u2028h");
    }

    @Test
    void shouldEscapeInvisibleTagCharactersAsTheirUtf16Pair() {
        assertThat(Printable.escape("ok" + new String(Character.toChars(0xE0041)))).isEqualTo("ok\\udb40\\udc41");
    }

    @Test
    void shouldLeaveOrdinaryTextAlone() {
        String names = "一等奖 tier 1, round 2 (88.88 yuan) 🧧 \\u001b";
        assertThat(Printable.escape(names)).isSameAs(names);
        assertThat(Printable.escape(null)).isNull();
    }
}
