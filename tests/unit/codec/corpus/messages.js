// Warnings, errors and thrown values of every JSON type: a host must hand them on as JSON text, not as the
// engine's String() of them (["a"] not a, {"code":1} not [object Object]).
function decodeUplink(input) {
  var b = input.bytes;
  switch (input.fPort) {
    case 1: return { data: { ok: true }, warnings: ["plain", ["a", 1], { code: 7, at: [1, 2] }, 1.5e-7, 1e21, -0, true, null] };
    case 2: return { data: null, errors: [["nested", ["deeper"]], { reason: "bad \"quote\"", byte: b[0] }] };
    case 3: return { errors: "a single string, not a list" };
    case 4: return { errors: { code: 3 } };
    case 5: throw { code: 42, detail: [b[0]] };
    case 6: throw "a thrown string";
    case 7: throw new RangeError("value " + b[0] + " out of range");
    case 8: throw ["thrown", "list"];
    case 9: throw 12.5;
    case 10: var e = new TypeError("custom"); e.name = "VendorError"; throw e;
    case 11: console.warn("odd", { v: b[0] }, [1, "two"], null); console.error("bad", 3); console.log("dropped");
             return { data: { logged: true }, warnings: ["own"] };
    case 12: return { data: { undef: undefined, nan: NaN, inf: -Infinity, date: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)) } };
    case 13: return { data: { big: 123456789012345680000, small: 5e-324, neg: -1.7976931348623157e308, third: 1 / 3 } };
    case 14: return { data: { typed: new Uint8Array([1, 2, 3]), map: new Map([["a", 1]]) } };
  }
  return { data: { port: input.fPort, n: b.length } };
}

function encodeDownlink(input) {
  if (input.data.fail) return { errors: [{ field: "fail" }], warnings: [["w"]] };
  if (input.data.typed) return { bytes: new Uint8Array([9, 8, 7]), fPort: 3 };
  return { bytes: [input.data.level | 0, 1], fPort: 2, warnings: [input.data.note || "no note"] };
}
