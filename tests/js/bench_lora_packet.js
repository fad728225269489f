// Benchmark helper for bench/frames.py: parse + MIC check + decrypt with lora-packet, on one core.
// Input (stdin): JSON {"frames": [{"phy","nwk_s_key","app_s_key"}...], "seconds": s}. Output: one JSON line.
"use strict";
const lp = require("lora-packet");

const spec = JSON.parse(require("fs").readFileSync(0, "utf8"));
const frames = spec.frames.map((f) => ({
  phy: Buffer.from(f.phy, "hex"),
  nwk: Buffer.from(f.nwk_s_key, "hex"),
  app: Buffer.from(f.app_s_key, "hex"),
}));

function once(f) {
  const p = lp.fromWire(f.phy);
  if (!lp.verifyMIC(p, f.nwk)) throw new Error("MIC mismatch");
  return lp.decrypt(p, f.app, f.nwk);
}

for (let i = 0; i < 2000; i++) once(frames[i % frames.length]); // warm-up (JIT)
let n = 0;
const start = process.hrtime.bigint();
const limit = BigInt(Math.round(spec.seconds * 1e9));
let elapsed = 0n;
while (elapsed < limit) {
  for (let i = 0; i < 500; i++) once(frames[(n + i) % frames.length]);
  n += 500;
  elapsed = process.hrtime.bigint() - start;
}
const seconds = Number(elapsed) / 1e9;
process.stdout.write(JSON.stringify({ frames: n, seconds, frames_per_s: n / seconds, us_per_frame: (seconds / n) * 1e6 }) + "\n");
