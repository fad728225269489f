// Strings a codec builds from raw bytes: lone surrogates (not Unicode), NUL, line and paragraph separators, a
// byte-order mark, emoji (surrogate pairs), control characters, and odd keys.
function decodeUplink(input) {
  var b = input.bytes, s = "";
  for (var i = 0; i < b.length; i += 2) s += String.fromCharCode((b[i] << 8) | (b[i + 1] || 0));
  switch (input.fPort) {
    case 1: return { data: { text: s } };                           // whatever UTF-16 the bytes make
    case 2: return { data: { lone: "x\ud800y", low: "\udc00", pair: "\ud83d\ude00" } };
    case 3: var o = {}; o["k\udfff"] = 1; o["\u0000"] = "nul"; o[""] = "empty"; return { data: o };
    case 4: return { data: { seps: "a\u2028b\u2029c", bom: "\ufeffz", ctl: "\u0001\u001f\u007f", tab: "\t\n\r" } };
    case 5: return { data: { ok: 1 }, warnings: ["w\ud800"], errors: [] };
    case 6: throw new Error("broken \udc01 text");
    case 7: console.warn("log \ud800"); return { data: { ok: 2 } };
    case 8: return "just a string";
    case 9: return { data: "a string where the object goes" };
  }
  return { data: { length: s.length } };
}
