// Hostile: allocates without bound on fPort 1 (kept alive in a global so nothing can be collected).
var hoard = [];
function decodeUplink(input) {
  if (input.fPort === 1) { while (true) { hoard.push(new Array(100000).fill(input.fPort)); } }
  return { data: { length: input.bytes.length, hoarded: hoard.length } };
}
