// A realistic vendor decoder in the style of sensor-table protocols (a version byte, a device id, a flags word
// saying which sensors follow, each sensor a run of 16-bit words turned into named values with units), written
// for the benchmark and the parity tests. Answers are objects of {displayName, unit, value}.
var PROTOCOL_VERSION = 2;
var SENSORS = [
  { length: 3, values: [
      { name: "air_temperature", displayName: "Air temperature", unit: "\u00b0C",
        convert: function (x) { return 175.72 * x[0] / 65536 - 46.85; } },
      { name: "air_humidity", displayName: "Air humidity", unit: "%",
        convert: function (x) { return 125 * x[1] / 65536 - 6; } },
      { name: "barometric_pressure", displayName: "Barometric pressure", unit: "Pa",
        convert: function (x) { return x[2] * 2; } } ] },
  { length: 2, values: [
      { name: "distance", displayName: "Distance", unit: "mm", convert: function (x) { return x[0]; } },
      { name: "valid_samples", displayName: "Number of valid samples", convert: function (x) { return x[1]; } } ] },
  { length: 2, values: [
      { name: "pressure", displayName: "Pressure", unit: "bar",
        convert: function (x) { return (x[0] - 16384) / 32768 * 10; } },
      { name: "temperature", displayName: "Temperature", unit: "\u00b0C",
        convert: function (x) { return (x[1] - 384) * 0.003125 - 50; } } ] },
  { length: 1, values: [
      { name: "battery_voltage", displayName: "Battery voltage", unit: "V",
        convert: function (x) { return x[0] / 1000; } } ] }
];

function readInt(bytes, pos) { return (bytes[pos] << 8) + bytes[pos + 1]; }

function decode(bytes) {
  if (bytes.length < 5) throw new Error("payload too short: " + bytes.length + " bytes");
  var version = bytes[0];
  if (version !== PROTOCOL_VERSION) return { error: "protocol version " + version + " doesn't match v2" };
  var deviceId = readInt(bytes, 1), flags = readInt(bytes, 3);
  var result = { protocol_version: version, device_id: deviceId };
  var pos = 5;
  for (var i = 0; i < SENSORS.length; i++, flags >>= 1) {
    if ((flags & 1) !== 1) continue;
    var sensor = SENSORS[i], x = [];
    for (var j = 0; j < sensor.length; j++) {
      if (pos + 1 >= bytes.length) throw new Error("sensor " + i + " cut short at byte " + pos);
      x.push(readInt(bytes, pos));
      pos += 2;
    }
    for (var k = 0; k < sensor.values.length; k++) {
      var v = sensor.values[k];
      var entry = { displayName: v.displayName, value: v.convert(x) };
      if (v.unit) entry.unit = v.unit;
      result[v.name] = entry;
    }
  }
  return result;
}

function decodeUplink(input) {
  var res = decode(input.bytes);
  if (res.error) return { errors: [res.error] };
  return { data: res };
}
