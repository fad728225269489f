// The outside reference for lora_city's QuickJS runtime: runs TS013 codec scripts in node's `vm`, the way a
// node-based LoRaWAN host does, and prints each call's answer as one JSON line.
//
// stdin: {"scripts": {"<id>": "<source>"}, "calls": [{"script", "op", "fPort", "bytes", "data", "recvTimeMs"}]}
// stdout, one line per call: {"answer": <TS013 answer>} or {"thrown": "<message>"}
//
// Host rules (TS013 §4, and what lora_city documents in lora_city/codec/js_host/prelude.js):
// - one warm context per script, calls in the given order (a script's globals persist between calls);
// - warnings and errors are lists of strings: a single value is a list of one, a non-string is its JSON text;
// - console.warn/console.error add "console.<level>: <args joined by a space>" (first 500 characters) to the
//   answer's warnings (decoders; appended after the script's own), console.log/info/debug are dropped;
// - a thrown Error is "<name>: <message>" (String(e)), any other thrown value its JSON text;
// - legacy entry points: Decoder(bytes, fPort), Decode(fPort, bytes, {}), Encoder(data, fPort), Encode(fPort, data, {}).
"use strict";
const vm = require("vm");

function text(value) {
  if (typeof value === "string") return value;
  try {
    const t = JSON.stringify(value);
    if (t !== undefined) return t;
  } catch (e) { /* fall through */ }
  try { return String(value); } catch (e) { return Object.prototype.toString.call(value); }
}
function texts(list) {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) return [text(list)];
  return list.map(text);
}

function makeContext(source) {
  const logs = [];
  const keep = (level) => (...args) => {
    if (logs.length < 20) logs.push(`console.${level}: ` + args.map(text).join(" ").slice(0, 500));
  };
  const drop = () => {};
  const sandbox = { console: { log: drop, info: drop, debug: drop, trace: drop, warn: keep("warn"), error: keep("error") } };
  const context = vm.createContext(sandbox);
  vm.runInContext(source, context, { timeout: 5000 });
  // let/const/class declarations are not properties of the global object: look them up by name.
  const lookup = (name) => vm.runInContext(`typeof ${name} === "function" ? ${name} : undefined`, context);
  return { context, logs, lookup, ErrorType: vm.runInContext("Error", context) };
}

function call(ctx, c) {
  const fn = (name) => ctx.lookup(name);
  ctx.logs.length = 0;
  let answer;
  try {
    if (c.op === "decode_uplink" || c.op === "decode_downlink") {
      const bytes = c.bytes.slice();
      const ts013 = c.op === "decode_uplink" ? fn("decodeUplink") : fn("decodeDownlink");
      if (ts013) {
        const input = { bytes, fPort: c.fPort };
        if (c.op === "decode_uplink") input.recvTime = new (vm.runInContext("Date", ctx.context))(c.recvTimeMs);
        const r = ts013(input);
        answer = (r === null || typeof r !== "object") ? (r === undefined ? null : r)
          : { data: r.data, warnings: texts(r.warnings).concat(ctx.logs), errors: texts(r.errors) };
      } else if (c.op === "decode_uplink" && fn("Decoder")) {
        answer = { data: fn("Decoder")(bytes, c.fPort), warnings: ctx.logs.slice() };
      } else if (c.op === "decode_uplink" && fn("Decode")) {
        answer = { data: fn("Decode")(c.fPort, bytes, {}), warnings: ctx.logs.slice() };
      } else {
        answer = { errors: ["missing"] };
      }
    } else {
      const data = JSON.parse(JSON.stringify(c.data));
      if (fn("encodeDownlink")) {
        const r = fn("encodeDownlink")({ data });
        answer = (r === null || typeof r !== "object") ? (r === undefined ? null : r)
          : { bytes: ArrayBuffer.isView(r.bytes) ? Array.from(r.bytes) : r.bytes, fPort: r.fPort,
              warnings: texts(r.warnings).concat(ctx.logs), errors: texts(r.errors) };
      } else if (fn("Encoder")) {
        const b = fn("Encoder")(data, c.fPort);
        answer = { bytes: ArrayBuffer.isView(b) ? Array.from(b) : b, fPort: c.fPort, warnings: ctx.logs.slice() };
      } else if (fn("Encode")) {
        const b = fn("Encode")(c.fPort, data, {});
        answer = { bytes: ArrayBuffer.isView(b) ? Array.from(b) : b, fPort: c.fPort, warnings: ctx.logs.slice() };
      } else {
        answer = { errors: ["missing"] };
      }
    }
  } catch (e) {
    const isError = e instanceof ctx.ErrorType || e instanceof Error;
    return { thrown: isError ? String(e) : text(e) };
  }
  // JSON text as the host hands it on: undefined members dropped, NaN as null, Dates as ISO strings.
  const json = JSON.stringify(answer === undefined ? null : answer);
  return { answer: json === undefined ? null : JSON.parse(json) };
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const job = JSON.parse(input);
  const contexts = {};
  const out = [];
  for (const c of job.calls) {
    let ctx = contexts[c.script];
    if (ctx === undefined) {
      try { ctx = contexts[c.script] = makeContext(job.scripts[c.script]); }
      catch (e) { out.push(JSON.stringify({ thrown: "load: " + String(e) })); continue; }
    }
    out.push(JSON.stringify(call(ctx, c)));
  }
  process.stdout.write(out.join("\n") + "\n");
});
