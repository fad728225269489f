// ChirpStack v3 style codec: Decode(fPort, bytes, variables); declared with const, not as a global function.
const Decode = (fPort, bytes, variables) => ({ sum: bytes.reduce((a, b) => a + b, 0), port: fPort });
