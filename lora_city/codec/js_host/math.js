// Math functions as node computes them, to the last bit. V8 computes Math.pow, exp, log, log2 and log10 with
// the fdlibm algorithms (Sun's freely distributable libm, as FreeBSD's msun carries it; pow with one grouping
// of its own, below); QuickJS calls the C
// library, whose results differ in the last bit for a few percent of arguments (Math.pow(10, -5) is
// 0.000009999999999999999 in node, 0.00001 in QuickJS), and decoders scale readings with exactly these calls.
// The algorithms are written here from their published description; tests/unit/codec/test_js_math.py compares
// them with node on tens of thousands of arguments.
//
// Not covered (the C library's result stays): the ** operator (QuickJS evaluates it natively), sin, cos, tan,
// their inverses, the hyperbolic functions, cbrt, expm1, log1p and hypot.
(function () {
  'use strict';
  var F = new Float64Array(1), W = new Int32Array(F.buffer); // little-endian: W[0] low word, W[1] high word
  var sqrt = Math.sqrt;

  function hi(x) { F[0] = x; return W[1]; }
  function lo(x) { F[0] = x; return W[0]; }
  function withHi(x, h) { F[0] = x; W[1] = h; return F[0]; }
  function withLo(x, l) { F[0] = x; W[0] = l; return F[0]; }
  function fromWords(h, l) { W[1] = h; W[0] = l; return F[0]; }

  var TWO54 = 1.80143985094819840000e+16, TWOM1000 = 9.33263618503218878990e-302;
  var HUGE = 1.0e+300, TINY = 1.0e-300;

  // exp(x): reduce x = k ln2 + r, |r| <= 0.5 ln2, a Remez polynomial for r, then scale by 2^k.
  var LN2_HI = 6.93147180369123816490e-01, LN2_LO = 1.90821492927058770002e-10, INVLN2 = 1.44269504088896338700e+00;
  var P1 = 1.66666666666666019037e-01, P2 = -2.77777777770155933842e-03, P3 = 6.61375632143793436117e-05,
      P4 = -1.65339022054652515390e-06, P5 = 4.13813679705723846039e-08;
  var O_THRESHOLD = 7.09782712893383973096e+02, U_THRESHOLD = -7.45133219101941108420e+02;

  function exp(x) {
    x = +x;
    if (x === 1) return 2.718281828459045; // node answers Math.E exactly (fdlibm alone is one bit above)
    var hx = hi(x), xsb = (hx >>> 31) & 1, k = 0, hiPart = 0, loPart = 0, t, c, y;
    hx &= 0x7fffffff;
    if (hx >= 0x40862E42) {
      if (hx >= 0x7ff00000) {
        if (((hx & 0xfffff) | lo(x)) !== 0) return x + x;
        return xsb === 0 ? x : 0.0;
      }
      if (x > O_THRESHOLD) return HUGE * HUGE;
      if (x < U_THRESHOLD) return TWOM1000 * TWOM1000;
    }
    if (hx > 0x3fd62e42) {
      if (hx < 0x3FF0A2B2) {
        hiPart = xsb === 0 ? x - LN2_HI : x + LN2_HI;
        loPart = xsb === 0 ? LN2_LO : -LN2_LO;
        k = 1 - xsb - xsb;
      } else {
        k = (INVLN2 * x + (xsb === 0 ? 0.5 : -0.5)) | 0;
        t = k;
        hiPart = x - t * LN2_HI;
        loPart = t * LN2_LO;
      }
      x = hiPart - loPart;
    } else if (hx < 0x3e300000) {
      if (HUGE + x > 1.0) return 1.0 + x;
    } else {
      k = 0;
    }
    t = x * x;
    c = x - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
    if (k === 0) return 1.0 - ((x * c) / (c - 2.0) - x);
    y = 1.0 - ((loPart - (x * c) / (2.0 - c)) - hiPart);
    if (k >= -1021) return withHi(y, (hi(y) + (k << 20)) | 0);
    return withHi(y, (hi(y) + ((k + 1000) << 20)) | 0) * TWOM1000;
  }

  // log(x): x = 2^k (1 + f), log(1 + f) = 2s + 2/3 s^3 + ... with s = f / (2 + f).
  var Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01, Lg3 = 2.857142874366239149e-01,
      Lg4 = 2.222219843214978396e-01, Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01,
      Lg7 = 1.479819860511658591e-01;

  function log(x) {
    x = +x;
    var hx = hi(x), lx = lo(x), k = 0, f, s, z, R, w, t1, t2, dk, hfsq, i, j;
    if (hx < 0x00100000) {
      if (((hx & 0x7fffffff) | lx) === 0) return -Infinity;
      if (hx < 0) return NaN;
      k -= 54; x *= TWO54; hx = hi(x);
    }
    if (hx >= 0x7ff00000) return x + x;
    k += (hx >> 20) - 1023;
    hx &= 0x000fffff;
    i = (hx + 0x95f64) & 0x100000;
    x = withHi(x, hx | (i ^ 0x3ff00000));
    k += i >> 20;
    f = x - 1.0;
    if ((0x000fffff & (2 + hx)) < 3) {
      if (f === 0) { if (k === 0) return 0; dk = k; return dk * LN2_HI + dk * LN2_LO; }
      R = f * f * (0.5 - 0.33333333333333333 * f);
      if (k === 0) return f - R;
      dk = k;
      return dk * LN2_HI - ((R - dk * LN2_LO) - f);
    }
    s = f / (2.0 + f);
    dk = k;
    z = s * s;
    i = hx - 0x6147a;
    w = z * z;
    j = 0x6b851 - hx;
    t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
    t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
    i |= j;
    R = t2 + t1;
    if (i > 0) {
      hfsq = 0.5 * f * f;
      if (k === 0) return f - (hfsq - s * (hfsq + R));
      return dk * LN2_HI - ((hfsq - (s * (hfsq + R) + dk * LN2_LO)) - f);
    }
    if (k === 0) return f - s * (f - R);
    return dk * LN2_HI - ((s * (f - R) - dk * LN2_LO) - f);
  }

  // log(1 + f) - f + f^2/2 for 1 + f in [sqrt(2)/2, sqrt(2)] (FreeBSD's k_log1p), for log2 and log10.
  function kLog1p(f) {
    var s = f / (2.0 + f), z = s * s, w = z * z;
    var t1 = w * (Lg2 + w * (Lg4 + w * Lg6)), t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
    var R = t2 + t1, hfsq = 0.5 * f * f;
    return s * (hfsq + R);
  }

  // Split x = 2^k (1 + f); answers [k, f] or a final value.
  function reduce(x) {
    var hx = hi(x), lx = lo(x), k = 0, i;
    if (hx < 0x00100000) {
      if (((hx & 0x7fffffff) | lx) === 0) return -Infinity;
      if (hx < 0) return NaN;
      k -= 54; x *= TWO54; hx = hi(x);
    }
    if (hx >= 0x7ff00000) return x + x;
    if (hx === 0x3ff00000 && lx === 0) return 0;
    k += (hx >> 20) - 1023;
    hx &= 0x000fffff;
    i = (hx + 0x95f64) & 0x100000;
    x = withHi(x, hx | (i ^ 0x3ff00000));
    k += i >> 20;
    return [k, x - 1.0];
  }

  var IVLN2HI = 1.44269504072144627571e+00, IVLN2LO = 1.67517131648865118353e-10;
  function log2(x) {
    var r = reduce(+x);
    if (typeof r === 'number') return r;
    var y = r[0], f = r[1], hfsq = 0.5 * f * f, rr = kLog1p(f);
    var hiPart = withLo(f - hfsq, 0);
    var loPart = (f - hiPart) - hfsq + rr;
    var valHi = hiPart * IVLN2HI;
    var valLo = (loPart + hiPart) * IVLN2LO + loPart * IVLN2HI;
    var w = y + valHi;
    valLo += (y - w) + valHi;
    valHi = w;
    return valLo + valHi;
  }

  // log10 as fdlibm 5.3 writes it (V8 keeps that version): y log10(2) + log(x') / ln(10), x = 2^y x'.
  var IVLN10 = 4.34294481903251816668e-01, LOG10_2HI = 3.01029995663611771306e-01,
      LOG10_2LO = 3.69423907715893078616e-13;
  function log10(x) {
    x = +x;
    var hx = hi(x), lx = lo(x), k = 0, i, y, z;
    if (hx < 0x00100000) {
      if (((hx & 0x7fffffff) | lx) === 0) return -Infinity;
      if (hx < 0) return NaN;
      k -= 54; x *= TWO54; hx = hi(x);
    }
    if (hx >= 0x7ff00000) return x + x;
    k += (hx >> 20) - 1023;
    i = (k >>> 31) & 1;
    hx = (hx & 0x000fffff) | ((0x3ff - i) << 20);
    y = k + i;
    x = withHi(x, hx);
    z = y * LOG10_2LO + IVLN10 * log(x);
    return z + y * LOG10_2HI;
  }

  // pow(x, y) = 2^(y log2 x), log2 x in extra precision (fdlibm e_pow).
  var BP = [1.0, 1.5], DP_H = [0.0, 5.84962487220764160156e-01], DP_L = [0.0, 1.35003920212974897128e-08];
  var TWO53 = 9007199254740992.0;
  var L1 = 5.99999999999994648725e-01, L2 = 4.28571428578550184252e-01, L3 = 3.33333329818377432918e-01,
      L4 = 2.72728123808534006489e-01, L5 = 2.30660745775561754067e-01, L6 = 2.06975017800338417784e-01;
  var LG2 = 6.93147180559945286227e-01, LG2_H = 6.93147182464599609375e-01, LG2_L = -1.90465429995776804525e-09;
  var OVT = 8.0085662595372944372e-17;
  var CP = 9.61796693925975554329e-01, CP_H = 9.61796700954437255859e-01, CP_L = -7.02846165095275826516e-09;
  var IVLN2 = 1.44269504088896338700e+00, IVLN2_H = 1.44269502162933349609e+00, IVLN2_L = 1.92596299112661746887e-08;

  function pow2(n) { return fromWords((0x3ff + n) << 20, 0); } // 2^n, -1022 <= n <= 1023
  function scalbn(x, n) { // x * 2^n rounded once (a subnormal 2^n is exact: 2^(n+54) * 2^-54)
    if (n > 1023) return x * pow2(1023) * pow2(n - 1023);
    if (n < -1022) return x * (pow2(n + 54) * pow2(-54));
    return x * pow2(n);
  }

  function pow(x, y) {
    x = +x; y = +y;
    var z, ax, zH, zL, pH, pL, y1, t1, t2, r, s, t, u, v, w, i, j, k, yisint, n;
    var hx = hi(x), lx = lo(x) >>> 0, hy = hi(y), ly = lo(y) >>> 0;
    var ix = hx & 0x7fffffff, iy = hy & 0x7fffffff;

    if ((iy | ly) === 0) return 1.0;
    if (ix > 0x7ff00000 || (ix === 0x7ff00000 && lx !== 0) || iy > 0x7ff00000 || (iy === 0x7ff00000 && ly !== 0))
      return x + y;

    // yisint: 0 y not an integer, 1 an odd integer, 2 an even one (only needed for x < 0)
    yisint = 0;
    if (hx < 0) {
      if (iy >= 0x43400000) yisint = 2;
      else if (iy >= 0x3ff00000) {
        k = (iy >> 20) - 0x3ff;
        if (k > 20) {
          j = ly >>> (52 - k);
          if (((j << (52 - k)) >>> 0) === ly) yisint = 2 - (j & 1);
        } else if (ly === 0) {
          j = iy >> (20 - k);
          if ((j << (20 - k)) === iy) yisint = 2 - (j & 1);
        }
      }
    }

    if (ly === 0) {
      if (iy === 0x7ff00000) {
        if (((ix - 0x3ff00000) | lx) === 0) return y - y;
        if (ix >= 0x3ff00000) return hy >= 0 ? y : 0.0;
        return hy < 0 ? -y : 0.0;
      }
      if (iy === 0x3ff00000) return hy < 0 ? 1.0 / x : x;
      if (hy === 0x40000000) return x * x;
      if (hy === 0x3fe00000 && hx >= 0) return sqrt(x);
    }

    ax = Math.abs(x);
    if (lx === 0 && (ix === 0x7ff00000 || ix === 0 || ix === 0x3ff00000)) {
      z = ax;
      if (hy < 0) z = 1.0 / z;
      if (hx < 0) {
        if (((ix - 0x3ff00000) | yisint) === 0) z = (z - z) / (z - z);
        else if (yisint === 1) z = -z;
      }
      return z;
    }

    n = (hx >>> 31) === 1 ? 0 : 1; // (hx >> 31) + 1 in C
    if ((n | yisint) === 0) return (x - x) / (x - x);
    s = 1.0;
    if ((n | (yisint - 1)) === 0) s = -1.0;

    if (iy > 0x41e00000) {
      if (iy > 0x43f00000) {
        if (ix <= 0x3fefffff) return hy < 0 ? HUGE * HUGE : TINY * TINY;
        if (ix >= 0x3ff00000) return hy > 0 ? HUGE * HUGE : TINY * TINY;
      }
      if (ix < 0x3fefffff) return hy < 0 ? s * HUGE * HUGE : s * TINY * TINY;
      if (ix > 0x3ff00000) return hy > 0 ? s * HUGE * HUGE : s * TINY * TINY;
      t = ax - 1.0;
      w = (t * t) * (0.5 - t * (0.3333333333333333333333 - t * 0.25));
      u = IVLN2_H * t;
      v = t * IVLN2_L - w * IVLN2;
      t1 = withLo(u + v, 0);
      t2 = v - (t1 - u);
    } else {
      var ss, s2, sH, sL, tH, tL;
      n = 0;
      if (ix < 0x00100000) { ax *= TWO53; n -= 53; ix = hi(ax); }
      n += (ix >> 20) - 0x3ff;
      j = ix & 0x000fffff;
      ix = j | 0x3ff00000;
      if (j <= 0x3988E) k = 0;
      else if (j < 0xBB67A) k = 1;
      else { k = 0; n += 1; ix -= 0x00100000; }
      ax = withHi(ax, ix);

      u = ax - BP[k];
      v = 1.0 / (ax + BP[k]);
      ss = u * v;
      sH = withLo(ss, 0);
      tH = fromWords(((ix >> 1) | 0x20000000) + 0x00080000 + (k << 18), 0);
      tL = ax - (tH - BP[k]);
      sL = v * ((u - sH * tH) - sH * tL);
      s2 = ss * ss;
      r = s2 * s2 * (L1 + s2 * (L2 + s2 * (L3 + s2 * (L4 + s2 * (L5 + s2 * L6)))));
      r += sL * (sH + ss);
      s2 = sH * sH;
      tH = withLo(3.0 + s2 + r, 0);
      tL = r - ((tH - 3.0) - s2);
      u = sH * tH;
      v = sL * tH + tL * ss;
      pH = withLo(u + v, 0);
      pL = v - (pH - u);
      zH = CP_H * pH;
      zL = CP_L * pH + pL * CP + DP_L[k];
      t = n;
      t1 = withLo(((zH + zL) + DP_H[k]) + t, 0);
      t2 = zL - (((t1 - t) - DP_H[k]) - zH);
    }

    y1 = withLo(y, 0);
    pL = (y - y1) * t1 + y * t2;
    pH = y1 * t1;
    z = pL + pH;
    j = hi(z);
    i = lo(z);
    if (j >= 0x40900000) {
      if (((j - 0x40900000) | i) !== 0) return s * HUGE * HUGE;
      if (pL + OVT > z - pH) return s * HUGE * HUGE;
    } else if ((j & 0x7fffffff) >= 0x4090cc00) {
      if (((j - 0xc090cc00) | i) !== 0) return s * TINY * TINY;
      if (pL <= z - pH) return s * TINY * TINY;
    }
    i = j & 0x7fffffff;
    k = (i >> 20) - 0x3ff;
    n = 0;
    if (i > 0x3fe00000) {
      n = (j + (0x00100000 >> (k + 1))) | 0;
      k = ((n & 0x7fffffff) >> 20) - 0x3ff;
      t = fromWords(n & ~(0x000fffff >> k), 0);
      n = ((n & 0x000fffff) | 0x00100000) >> (20 - k);
      if (j < 0) n = -n;
      pH -= t;
    }
    t = withLo(pL + pH, 0);
    u = t * LG2_H;
    v = (pL - (t - pH)) * LG2 + t * LG2_L;
    z = u + v;
    w = v - (z - u);
    t = z * z;
    t1 = z - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
    // fdlibm writes (z t1) / (t1 - 2) - (w + z w); V8 (node) divides by ((t1 - 2) - (w + z w)), which is
    // what makes its Math.pow(10, -5) 0.000009999999999999999: node's answer is the one to give.
    r = (z * t1) / ((t1 - 2.0) - (w + z * w));
    z = 1.0 - (r - z);
    j = (hi(z) + (n << 20)) | 0;
    if ((j >> 20) <= 0) z = scalbn(z, n);
    else z = withHi(z, j);
    return s * z;
  }

  function define(name, fn, length) {
    Object.defineProperty(fn, 'name', { value: name });
    Object.defineProperty(fn, 'length', { value: length });
    Object.defineProperty(Math, name, { value: fn, writable: true, configurable: true });
  }
  define('exp', function exp_(x) { return exp(x); }, 1);
  define('log', function log_(x) { return log(x); }, 1);
  define('log2', function log2_(x) { return log2(x); }, 1);
  define('log10', function log10_(x) { return log10(x); }, 1);
  define('pow', function pow_(x, y) { return pow(x, y); }, 2);
})();
