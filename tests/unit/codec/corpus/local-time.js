// Local time as decoders use it: dates built from local fields (new Date(y, m, d, h, mi)), moved with the local
// setters, parsed from local date-time strings, and read back. The payload is 6-byte groups: year-2000, month,
// day, hour, minute, second; fPort picks how the date is made.
function decodeUplink(input) {
  var b = input.bytes, out = [];
  for (var i = 0; i + 6 <= b.length; i += 6) {
    var y = 2000 + b[i], mo = b[i + 1], d = b[i + 2], h = b[i + 3], mi = b[i + 4], s = b[i + 5], t;
    switch (input.fPort) {
      case 1: t = new Date(y, mo, d, h, mi, s); break;
      case 2: t = new Date(y, mo, d, 12, 0, 0); t.setHours(h, mi, s); break;
      case 3: t = new Date(y, mo, 1, h, mi, s); t.setDate(d); break;
      case 4: t = new Date(Date.UTC(y, 0, 1)); t.setFullYear(y, mo, d); t.setMinutes(mi); t.setHours(h); break;
      case 5: t = new Date(y + "-" + pad(mo + 1) + "-" + pad(d) + "T" + pad(h) + ":" + pad(mi) + ":" + pad(s)); break;
      case 6: t = new Date(Date.parse(y + "/" + (mo + 1) + "/" + d + " " + pad(h) + ":" + pad(mi))); break;
      case 7: t = new Date(Date.UTC(y, mo, d, h, mi, s)); break;
    }
    out.push([t.getTime(), t.getFullYear(), t.getMonth(), t.getDate(), t.getHours(), t.getMinutes(),
              t.getTimezoneOffset(), String(t), t.toLocaleString(), t.toLocaleTimeString("en-US", { timeZoneName: "short" })]);
  }
  return { data: { dates: out } };
}
function pad(n) { return n < 10 ? "0" + n : "" + n; }
