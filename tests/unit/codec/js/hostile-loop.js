// Hostile: loops forever on fPort 1, decodes normally otherwise (so the next call can prove the context works).
function decodeUplink(input) {
  if (input.fPort === 1) { while (true) {} }
  return { data: { length: input.bytes.length } };
}
