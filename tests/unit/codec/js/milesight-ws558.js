// Milesight WS558 written to TS013 for this project's tests: the JavaScript twin of codecs/milesight-ws558,
// from the WS558 payload table (records of channel id, channel type, little-endian value on fPort 85).
function u16(b, i) { return b[i] | (b[i + 1] << 8); }
function u32(b, i) { return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16)) + b[i + 3] * 16777216; }
function hex(b, i, n) { var s = ""; for (var k = 0; k < n; k++) s += (b[i + k] < 16 ? "0" : "") + b[i + k].toString(16); return s; }

var RECORDS = {
  "255,1": [1, function (b, i) { return { ipso_version: "v" + (b[i] >> 4) + "." + (b[i] & 15) }; }],
  "255,9": [2, function (b, i) { return { hardware_version: "v" + b[i].toString(16) + "." + (b[i + 1] >> 4) }; }],
  "255,10": [2, function (b, i) { return { firmware_version: "v" + b[i].toString(16) + "." + b[i + 1].toString(16) }; }],
  "255,255": [2, function (b, i) { return { tsl_version: "v" + b[i] + "." + b[i + 1] }; }],
  "255,22": [8, function (b, i) { return { sn: hex(b, i, 8) }; }],
  "255,15": [1, function (b, i) {
    var c = ["Class A", "Class B", "Class C", "Class CtoB"][b[i]];
    return { lorawan_class: c === undefined ? "unknown" : c };
  }],
  "255,254": [1, function () { return { reset_event: "reset" }; }],
  "255,11": [1, function () { return { device_status: "on" }; }],
  "3,116": [2, function (b, i) { return { voltage: u16(b, i) / 10 }; }],
  "4,128": [4, function (b, i) { return { active_power: u32(b, i) }; }],
  "5,129": [1, function (b, i) { return { power_factor: b[i] }; }],
  "6,131": [4, function (b, i) { return { power_consumption: u32(b, i) }; }],
  "7,201": [2, function (b, i) { return { total_current: u16(b, i) }; }],
  "8,49": [2, function (b, i) {
    var out = {};
    for (var k = 0; k < 8; k++) out["switch_" + (k + 1)] = (b[i + 1] >> k) & 1 ? "on" : "off";
    return out;
  }]
};

function decodeUplink(input) {
  var b = input.bytes, data = {}, warnings = [], pos = 0;
  if (input.fPort !== 85) return { errors: ["unknown FPort"] };
  if (b.length === 0) return { errors: ["empty payload"] };
  while (pos < b.length) {
    if (pos + 2 > b.length) return { errors: ["truncated record header"] };
    var rec = RECORDS[b[pos] + "," + b[pos + 1]];
    if (!rec) {
      warnings.push("unknown channel 0x" + hex(b, pos, 1) + " type 0x" + hex(b, pos + 1, 1) + " at offset " + pos +
        "; rest of payload ignored");
      break;
    }
    if (pos + 2 + rec[0] > b.length) return { errors: ["record truncated"] };
    var fields = rec[1](b, pos + 2);
    for (var key in fields) data[key] = fields[key];
    pos += 2 + rec[0];
  }
  return { data: data, warnings: warnings, errors: [] };
}

function encodeDownlink(input) {
  var mask = 0, status = 0;
  for (var k = 0; k < 8; k++) {
    var v = input.data["switch_" + (k + 1)];
    if (v === undefined) continue;
    if (v !== "on" && v !== "off") return { errors: ["switch_" + (k + 1) + " must be on or off"] };
    mask |= 1 << k;
    if (v === "on") status |= 1 << k;
  }
  if (!mask) return { errors: ["nothing to encode"] };
  return { bytes: [8, mask, status], fPort: 85, warnings: [], errors: [] };
}
