package io.hongbao.settlement.reconcile;

/**
 * Text from the settlement tables made safe to print. Names, ids and details are written by whoever fills the
 * tables; a tier named {@code ESC[2J ESC[H ESC[32m ALL OK} would clear finance's terminal and print green text, a
 * newline would forge a report line, a bidi override would reorder it. So every such character is shown as a
 * visible {@code \}{@code uXXXX} escape (lower-case hex), in the printed table and in the JSON report's text alike;
 * everything else (Chinese names included) stays as it is.
 */
public final class Printable {
    private Printable() {}

    /** {@code s} with every control, format, line/paragraph separator and lone surrogate escaped; null stays null. */
    public static String escape(String s) {
        if (s == null || s.codePoints().noneMatch(Printable::unsafe)) {
            return s;
        }
        StringBuilder out = new StringBuilder(s.length() + 16);
        s.codePoints().forEach(cp -> {
            if (unsafe(cp)) {
                // Above U+FFFF (tag characters, say) as its UTF-16 pair, the way JSON and Java write it.
                for (char c : Character.toChars(cp)) {
                    out.append(String.format("\\u%04x", (int) c));
                }
            } else {
                out.appendCodePoint(cp);
            }
        });
        return out.toString();
    }

    private static boolean unsafe(int codePoint) {
        return switch (Character.getType(codePoint)) {
            // Cc (C0, DEL, C1), Cf (bidi overrides, zero-width characters), Zl, Zp, and unpaired surrogates.
            case Character.CONTROL, Character.FORMAT, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR,
                    Character.SURROGATE -> true;
            default -> false;
        };
    }
}
