package io.hongbao.settlement.reconcile;

import java.math.BigDecimal;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.Locale;

/** Fen to yuan for people: exact (BigDecimal from the integer fen, never a double). */
public final class Money {
    private Money() {}

    /** The exact yuan amount: 1234567 fen is 12345.67. */
    public static BigDecimal yuan(long fen) {
        return BigDecimal.valueOf(fen, 2);
    }

    /** With thousands separators: 1234567 fen is "12,345.67", -5 fen is "-0.05". */
    public static String formatYuan(long fen) {
        DecimalFormat f = new DecimalFormat("#,##0.00", DecimalFormatSymbols.getInstance(Locale.ROOT));
        f.setParseBigDecimal(true);
        return f.format(yuan(fen));
    }

    /** An integer count with thousands separators. */
    public static String formatCount(long n) {
        return new DecimalFormat("#,##0", DecimalFormatSymbols.getInstance(Locale.ROOT)).format(n);
    }
}
