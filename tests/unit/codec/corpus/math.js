// Math as decoders use it: scaling by powers of ten, dew points and thermistors (log, exp), decibels (log10).
// The payload is float64 values (big-endian); fPort 1 applies exp, log, log2, log10 to each, fPort 2 takes
// pairs (x, y) for Math.pow. Results are the doubles' bits in hex: a last-bit difference shows.
function values(bytes) {
  var out = [], view = new DataView(new Uint8Array(bytes).buffer);
  for (var i = 0; i + 8 <= bytes.length; i += 8) out.push(view.getFloat64(i));
  return out;
}
function bits(x) {
  if (x !== x) return "NaN"; // which NaN (node hands out signalling ones) is not observable as a number
  var view = new DataView(new ArrayBuffer(8)), s = "";
  view.setFloat64(0, x);
  for (var i = 0; i < 8; i++) s += (256 + view.getUint8(i)).toString(16).slice(1);
  return s;
}
function decodeUplink(input) {
  var xs = values(input.bytes), out = [];
  if (input.fPort === 1) {
    xs.forEach(function (x) { out.push(bits(Math.exp(x)), bits(Math.log(x)), bits(Math.log2(x)), bits(Math.log10(x))); });
  } else {
    for (var i = 0; i + 1 < xs.length; i += 2) out.push(bits(Math.pow(xs[i], xs[i + 1])));
  }
  return { data: { bits: out } };
}
