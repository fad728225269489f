// Cayenne LPP written to TS013 for this project's tests: the JavaScript twin of codecs/cayenne-lpp/codec.py,
// written independently from the myDevices LPP type table. The twin test feeds both the same payloads.
var TYPES = {
  0: ["digital_in", 1, 1, false], 1: ["digital_out", 1, 1, false], 2: ["analog_in", 2, 100, true],
  3: ["analog_out", 2, 100, true], 100: ["generic", 4, 1, false], 101: ["luminosity", 2, 1, false],
  102: ["presence", 1, 1, false], 103: ["temperature", 2, 10, true], 104: ["relative_humidity", 1, 2, false],
  113: ["accelerometer", 2, 1000, true, ["x", "y", "z"]], 115: ["barometric_pressure", 2, 10, false],
  116: ["voltage", 2, 100, false], 117: ["current", 2, 1000, false], 118: ["frequency", 4, 1, false],
  120: ["percentage", 1, 1, false], 121: ["altitude", 2, 1, true], 125: ["concentration", 2, 1, false],
  128: ["power", 2, 1, false], 130: ["distance", 4, 1000, false], 131: ["energy", 4, 1000, false],
  132: ["direction", 2, 1, false], 133: ["unixtime", 4, 1, false],
  134: ["gyrometer", 2, 100, true, ["x", "y", "z"]], 135: ["colour", 1, 1, false, ["r", "g", "b"]],
  142: ["switch", 1, 1, false]
};

function readInt(bytes, pos, size, signed) {
  var value = 0;
  for (var i = 0; i < size; i++) value = value * 256 + bytes[pos + i];
  var half = Math.pow(2, 8 * size - 1);
  if (signed && value >= half) value -= 2 * half;
  return value;
}

function scaled(raw, scale) { return scale === 1 ? raw : raw / scale; }

function decodeUplink(input) {
  var bytes = input.bytes, data = {}, pos = 0;
  if (bytes.length === 0) return { errors: ["empty payload"] };
  while (pos < bytes.length) {
    if (pos + 2 > bytes.length) return { errors: ["truncated channel/type at offset " + pos] };
    var channel = bytes[pos], code = bytes[pos + 1];
    pos += 2;
    if (code === 136) {
      if (pos + 9 > bytes.length) return { errors: ["gps truncated"] };
      data["gps_" + channel] = {
        latitude: readInt(bytes, pos, 3, true) / 10000,
        longitude: readInt(bytes, pos + 3, 3, true) / 10000,
        altitude: readInt(bytes, pos + 6, 3, true) / 100
      };
      pos += 9;
      continue;
    }
    var t = TYPES[code];
    if (!t) return { errors: ["unknown LPP type " + code] };
    var parts = t[4], width = t[1] * (parts ? parts.length : 1);
    if (pos + width > bytes.length) return { errors: [t[0] + " truncated"] };
    if (parts) {
      var obj = {};
      for (var i = 0; i < parts.length; i++) obj[parts[i]] = scaled(readInt(bytes, pos + t[1] * i, t[1], t[3]), t[2]);
      data[t[0] + "_" + channel] = obj;
    } else {
      data[t[0] + "_" + channel] = scaled(readInt(bytes, pos, t[1], t[3]), t[2]);
    }
    pos += width;
  }
  return { data: data, warnings: [], errors: [] };
}
