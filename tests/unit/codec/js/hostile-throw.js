// Hostile: throws on fPort 1, recurses without end on fPort 2, returns what JSON cannot carry on fPort 3.
function deeper(n) { return deeper(n + 1) + 1; }
function decodeUplink(input) {
  if (input.fPort === 1) throw new Error("vendor codec gave up");
  if (input.fPort === 2) return { data: { depth: deeper(0) } };
  if (input.fPort === 3) { var o = {}; o.self = o; return { data: o }; }
  return { data: { length: input.bytes.length } };
}
// fPort 4: a function where an object belongs (JSON has no functions).
var previous = decodeUplink;
decodeUplink = function (input) { return input.fPort === 4 ? function () {} : previous(input); };
