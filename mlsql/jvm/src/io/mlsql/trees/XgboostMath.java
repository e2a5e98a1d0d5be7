package io.mlsql.trees;

/**
 * XGBoost's float32 link functions (src/common/math.h: Sigmoid, Softmax, Logit), bit for bit
 * as XGBoost computes them on x86-64 Linux. XGBoost calls the C library's expf and logf; a
 * plain (float) Math.exp(x) differs from glibc's expf by one ulp on about 1 float in 13,000,
 * so both are ported here from glibc (2.27 and later: ARM's optimized-routines, MIT licensed:
 * math/expf.c, math/exp2f_data.c, math/logf.c, math/logf_data.c), in double arithmetic as
 * written there.
 * glibc's x86-64 build with FMA (any x86-64 CPU since 2013) fuses expf's multiply-adds, which
 * changes its result for exactly two floats in expf's domain; those two are patched in, so
 * expf here equals glibc's FMA expf on every float (checked exhaustively against glibc 2.36).
 * logf equals glibc's logf, fused or not, on every positive float (checked the same way).
 */
public final class XgboostMath {

    private XgboostMath() {}

    // exp2f_data.c, EXP2F_TABLE_BITS = 5: tab[i] = bits(2^(i/32)) - (i << 47).
    private static final long[] EXP_TABLE = {
        0x3ff0000000000000L, 0x3fefd9b0d3158574L, 0x3fefb5586cf9890fL, 0x3fef9301d0125b51L,
        0x3fef72b83c7d517bL, 0x3fef54873168b9aaL, 0x3fef387a6e756238L, 0x3fef1e9df51fdee1L,
        0x3fef06fe0a31b715L, 0x3feef1a7373aa9cbL, 0x3feedea64c123422L, 0x3feece086061892dL,
        0x3feebfdad5362a27L, 0x3feeb42b569d4f82L, 0x3feeab07dd485429L, 0x3feea47eb03a5585L,
        0x3feea09e667f3bcdL, 0x3fee9f75e8ec5f74L, 0x3feea11473eb0187L, 0x3feea589994cce13L,
        0x3feeace5422aa0dbL, 0x3feeb737b0cdc5e5L, 0x3feec49182a3f090L, 0x3feed503b23e255dL,
        0x3feee89f995ad3adL, 0x3feeff76f2fb5e47L, 0x3fef199bdd85529cL, 0x3fef3720dcef9069L,
        0x3fef5818dcfba487L, 0x3fef7c97337b9b5fL, 0x3fefa4afa2a490daL, 0x3fefd0765b6e4540L,
    };
    private static final double EXP_SHIFT = 0x1.8p+52;
    private static final double INV_LN2_N = 0x1.71547652b82fep+0 * 32;
    private static final double EXP_C0 = 0x1.c6af84b912394p-5 / 32 / 32 / 32;
    private static final double EXP_C1 = 0x1.ebfce50fac4f3p-3 / 32 / 32;
    private static final double EXP_C2 = 0x1.62e42ff0c52d6p-1 / 32;
    // The floats whose expf glibc's FMA build rounds differently from the unfused formula.
    private static final int FMA_X1 = 0x4202422f;
    private static final float FMA_Y1 = Float.intBitsToFloat(0x56fc9f1c);
    private static final int FMA_X2 = 0xc27c65d9;
    private static final float FMA_Y2 = Float.intBitsToFloat(0x11fa2993);

    // logf_data.c, LOGF_TABLE_BITS = 4: {1/c, log(c)} pairs.
    private static final double[] LOG_INVC = {
        0x1.661ec79f8f3bep+0, 0x1.571ed4aaf883dp+0, 0x1.49539f0f010bp+0, 0x1.3c995b0b80385p+0,
        0x1.30d190c8864a5p+0, 0x1.25e227b0b8eap+0, 0x1.1bb4a4a1a343fp+0, 0x1.12358f08ae5bap+0,
        0x1.0953f419900a7p+0, 0x1p+0, 0x1.e608cfd9a47acp-1, 0x1.ca4b31f026aap-1,
        0x1.b2036576afce6p-1, 0x1.9c2d163a1aa2dp-1, 0x1.886e6037841edp-1, 0x1.767dcf5534862p-1,
    };
    private static final double[] LOG_LOGC = {
        -0x1.57bf7808caadep-2, -0x1.2bef0a7c06ddbp-2, -0x1.01eae7f513a67p-2, -0x1.b31d8a68224e9p-3,
        -0x1.6574f0ac07758p-3, -0x1.1aa2bc79c81p-3, -0x1.a4e76ce8c0e5ep-4, -0x1.1973c5a611cccp-4,
        -0x1.252f438e10c1ep-5, 0x0p+0, 0x1.aa5aa5df25984p-5, 0x1.c5e53aa362eb4p-4,
        0x1.526e57720db08p-3, 0x1.bc2860d22477p-3, 0x1.1058bc8a07ee1p-2, 0x1.4043057b6ee09p-2,
    };
    private static final double LN2 = 0x1.62e42fefa39efp-1;
    private static final double LOG_A0 = -0x1.00ea348b88334p-2;
    private static final double LOG_A1 = 0x1.5575b0be00b6ap-2;
    private static final double LOG_A2 = -0x1.ffffef20a4123p-2;

    /** glibc's expf. */
    public static float expf(float x) {
        int bits = Float.floatToRawIntBits(x);
        int abstop = (bits >>> 20) & 0x7ff;
        if (abstop >= 0x42b) { // |x| >= 88 or NaN
            if (x == Float.NEGATIVE_INFINITY) {
                return 0.0f;
            }
            if (abstop >= 0x7f8) { // +inf or NaN
                return x + x;
            }
            if (x > 0x1.62e42ep6f) {
                return Float.POSITIVE_INFINITY;
            }
            if (x < -0x1.9fe368p6f) {
                return 0.0f;
            }
        }
        if (bits == FMA_X1) {
            return FMA_Y1;
        }
        if (bits == FMA_X2) {
            return FMA_Y2;
        }
        double z = INV_LN2_N * (double) x;
        double kd = z + EXP_SHIFT;
        long ki = Double.doubleToRawLongBits(kd);
        kd -= EXP_SHIFT;
        double r = z - kd;
        long t = EXP_TABLE[(int) (ki & 31)] + (ki << 47);
        double s = Double.longBitsToDouble(t);
        double p = EXP_C0 * r + EXP_C1;
        double r2 = r * r;
        double y = EXP_C2 * r + 1;
        y = p * r2 + y;
        return (float) (y * s);
    }

    /** glibc's logf (for positive normal x, the only values XGBoost's Logit gives it). */
    public static float logf(float x) {
        int ix = Float.floatToRawIntBits(x);
        if (ix == 0x3f800000) {
            return 0.0f;
        }
        if (Integer.compareUnsigned(ix - 0x00800000, 0x7f800000 - 0x00800000) >= 0) {
            if (Float.isNaN(x) || x < 0) {
                return Float.NaN;
            }
            if (x == 0) {
                return Float.NEGATIVE_INFINITY;
            }
            if (x == Float.POSITIVE_INFINITY) {
                return x;
            }
            ix = Float.floatToRawIntBits(x * 0x1p23f) - (23 << 23); // subnormal: normalize
        }
        int tmp = ix - 0x3f330000;
        int i = (tmp >>> 19) & 15;
        int k = tmp >> 23;
        int iz = ix - (tmp & 0xff800000);
        double z = Float.intBitsToFloat(iz);
        double r = z * LOG_INVC[i] - 1;
        double y0 = LOG_LOGC[i] + (double) k * LN2;
        double r2 = r * r;
        double y = LOG_A1 * r + LOG_A2;
        y = LOG_A0 * r2 + y;
        y = y * r2 + (y0 + r);
        return (float) y;
    }

    /** common::Sigmoid(float). */
    public static float sigmoid(float x) {
        float eps = 1e-16f;
        x = Math.min(-x, 88.7f);
        float denom = expf(x) + 1.0f + eps;
        return 1.0f / denom;
    }

    /** LogisticRegression::ProbToMargin: the intercept, a probability, bounded and as a margin. */
    public static float logit(float p) {
        float eps = 1e-6f; // kRtEps
        p = Math.min(Math.max(p, eps), 1.0f - eps);
        return -logf(1.0f / p - 1.0f);
    }

    /** common::Softmax, in place: float exps of (z - max) over their double sum cast to float. */
    public static void softmax(float[] z) {
        float top = z[0];
        for (int i = 1; i < z.length; i++) {
            top = fmaxf(z[i], top);
        }
        double sum = 0.0;
        for (int i = 0; i < z.length; i++) {
            z[i] = expf(z[i] - top);
            sum += z[i];
        }
        float total = (float) sum;
        for (int i = 0; i < z.length; i++) {
            z[i] /= total;
        }
    }

    /** C's fmaxf: the other argument where one is NaN. */
    private static float fmaxf(float a, float b) {
        if (a != a) {
            return b;
        }
        if (b != b) {
            return a;
        }
        return a > b ? a : b;
    }
}
