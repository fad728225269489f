// Recursive decoders: a TLV walker that recurses once per record (depth from the payload), and a plain
// recursion whose depth is the payload's first two bytes.
function walk(bytes, at, out) {
  if (at >= bytes.length) return out;
  var type = bytes[at], len = bytes[at + 1] || 0;
  out.push({ type: type, value: bytes.slice(at + 2, at + 2 + len) });
  return walk(bytes, at + 2 + len, out);
}
function depth(n) { return n === 0 ? 0 : 1 + depth(n - 1); }
function fat(n, a, b, c, d, e, f, g, h) {
  var x1 = n + 1, x2 = x1 * 2, x3 = x2 - 1, x4 = [x1, x2, x3];
  return n === 0 ? x4.length : fat(n - 1, x1, x2, x3, x4, a, b, c, d) + 0;
}
function decodeUplink(input) {
  var b = input.bytes, n = (b[0] << 8) | b[1];
  if (input.fPort === 1) return { data: { records: walk(b, 0, []).length } };
  if (input.fPort === 2) return { data: { depth: depth(n) } };
  if (input.fPort === 3) return { data: { fat: fat(n) } };
  return { errors: ["unknown fPort"] };
}
