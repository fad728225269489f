// Differential-test helper: reads one JSON object per stdin line, answers one JSON object per stdout line,
// computed by lora-packet (an independent LoRaWAN implementation). Used by tests/unit/lorawan/test_differential.py.
//
// Line kinds:
//   {"kind":"data10","phy","nwk_s_key","app_s_key","fcnt_msb"}            -> mic, payload, fields
//   {"kind":"data11","phy","f_int","s_int","enc","app_s_key","fcnt_msb","conf","tx_dr","tx_ch"}
//                                                                         -> mic, payload, fopts, fields
//   {"kind":"join_request","phy","key"}                                   -> mic, fields
//   {"kind":"rejoin","phy","key"}                                         -> mic, dev_eui
//   {"kind":"join_accept","phy","key"}                                    -> plain, mic
//   {"kind":"build10","mtype","dev_addr","fctrl":{...},"fcnt","fopts","fport","payload","nwk_s_key","app_s_key"}
//                                                                         -> phy
// fcnt_msb is the upper 16 bits of the 32-bit FCnt as a number; conf the ConfFCnt number.
"use strict";
const lp = require("lora-packet");
const readline = require("readline");

const hex = (s) => Buffer.from(s || "", "hex");
const msbBuf = (n) => { const b = Buffer.alloc(2); b.writeUInt16LE(n || 0); return b; };

function fields(p) {
  return {
    dev_addr: p.DevAddr.toString("hex"),
    fcnt: p.getFCnt(),
    fport: p.getFPort(),
    fctrl: p.FCtrl.toString("hex"),
    fopts_wire: (p.FOpts || Buffer.alloc(0)).toString("hex"),
    frm_payload: (p.FRMPayload || Buffer.alloc(0)).toString("hex"),
  };
}

function handle(req) {
  if (req.kind === "data10") {
    const p = lp.fromWire(hex(req.phy));
    const msb = msbBuf(req.fcnt_msb);
    const out = fields(p);
    out.mic = lp.calculateMIC(p, hex(req.nwk_s_key), undefined, msb).toString("hex");
    out.payload = p.FRMPayload && p.FRMPayload.length ? lp.decrypt(p, hex(req.app_s_key), hex(req.nwk_s_key), msb).toString("hex") : "";
    return out;
  }
  if (req.kind === "data11") {
    const p = lp.fromWire(hex(req.phy));
    const msb = msbBuf(req.fcnt_msb);
    const out = fields(p);
    if (p.getDir() === "up") {
      // lora-packet takes ConfFCnt big-endian here and writes it little-endian into B1.
      const b1 = Buffer.alloc(4);
      b1.writeUInt16BE(req.conf || 0, 0);
      b1[2] = req.tx_dr || 0;
      b1[3] = req.tx_ch || 0;
      out.mic = lp.calculateMIC(p, hex(req.f_int), hex(req.s_int), msb, b1).toString("hex");
    } else {
      const conf = Buffer.alloc(2);
      conf.writeUInt16LE(req.conf || 0, 0);
      out.mic = lp.calculateMIC(p, undefined, hex(req.s_int), msb, conf).toString("hex");
    }
    out.payload = p.FRMPayload && p.FRMPayload.length ? lp.decrypt(p, hex(req.app_s_key), hex(req.enc), msb).toString("hex") : "";
    out.fopts = p.FOpts && p.FOpts.length ? p.decryptFOpts(hex(req.enc), undefined, msb).toString("hex") : "";
    return out;
  }
  if (req.kind === "join_request") {
    const p = lp.fromWire(hex(req.phy));
    return {
      mic: lp.calculateMIC(p, undefined, hex(req.key)).toString("hex"),
      join_eui: p.AppEUI.toString("hex"),
      dev_eui: p.DevEUI.toString("hex"),
      dev_nonce: p.DevNonce.toString("hex"),
    };
  }
  if (req.kind === "rejoin") {
    // lora-packet: SNwkSIntKey (types 0, 2) as the NwkSKey argument, JSIntKey (type 1) as the AppKey argument.
    const p = lp.fromWire(hex(req.phy));
    return { mic: lp.calculateMIC(p, hex(req.key), hex(req.key)).toString("hex"), dev_eui: p.DevEUI.toString("hex") };
  }
  if (req.kind === "join_accept") {
    const plain = lp.decryptJoinAccept(lp.fromWire(hex(req.phy)), hex(req.key));
    const p = lp.fromWire(plain);
    return { plain: plain.toString("hex"), mic: lp.calculateMIC(p, undefined, hex(req.key)).toString("hex") };
  }
  if (req.kind === "build10") {
    const f = {
      MType: req.mtype,
      DevAddr: hex(req.dev_addr),
      FCtrl: req.fctrl,
      FCnt: req.fcnt,
      FOpts: hex(req.fopts),
      payload: hex(req.payload),
    };
    if (req.fport !== null && req.fport !== undefined) f.FPort = req.fport;
    const p = lp.fromFields(f, hex(req.app_s_key), hex(req.nwk_s_key));
    return { phy: p.getPHYPayload().toString("hex") };
  }
  throw new Error("unknown kind " + req.kind);
}

const rl = readline.createInterface({ input: process.stdin, terminal: false });
const out = [];
rl.on("line", (line) => {
  if (!line.trim()) return;
  try {
    out.push(JSON.stringify(handle(JSON.parse(line))));
  } catch (e) {
    out.push(JSON.stringify({ error: String(e && e.message ? e.message : e) }));
  }
});
rl.on("close", () => { process.stdout.write(out.join("\n") + (out.length ? "\n" : "")); });
