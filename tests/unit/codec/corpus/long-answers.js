// Answers from 1 kB to 1 MB (the QuickJS rope defect lost every answer over ~512 characters).
// The size in bytes is the payload's first three bytes (big-endian); fPort picks the shape of the answer.
function size(bytes) { return bytes[0] * 65536 + bytes[1] * 256 + bytes[2]; }

function decodeUplink(input) {
  var n = size(input.bytes);
  switch (input.fPort) {
    case 1: // one long string built by concatenation (a rope inside QuickJS)
      var chunk = "0123456789abcdef", s = "";
      while (s.length < n) s = s + chunk;
      return { data: { text: s.slice(0, n) } };
    case 2: // many small keys, as a Decentlab-style decoder gives
      var data = {};
      for (var i = 0; i * 60 < n; i++) data["sensor_" + i] = { displayName: "Sensor " + i, unit: "V", value: i / 8 };
      return { data: data };
    case 3: // a long array of numbers
      var list = [];
      for (var j = 0; list.length * 6 < n; j++) list.push(j * 1.25);
      return { data: { series: list } };
    case 4: // long warnings next to the data (the 't' path)
      return { data: { n: n }, warnings: ["w".repeat(n / 2) + "!", "x" + "y".repeat(n / 2)] };
    case 5: // a long error
      return { errors: ["e".repeat(n) + " end"] };
    case 6: // a long thrown message
      throw new Error("t".repeat(n));
    case 7: // long console output (kept to its first 500 characters, as the host does)
      console.warn("c".repeat(n) + "tail");
      return { data: { logged: n } };
  }
  return { errors: ["unknown fPort"] };
}
