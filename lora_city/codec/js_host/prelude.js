// The host side of a TS013 codec in QuickJS: evaluated before the vendor's script, in every context.
//
// What crosses back to Python is ONE string per call, always built by Array.prototype.join or JSON.stringify.
// Why: QuickJS keeps a concatenation longer than ~512 characters as a rope (JS_TAG_STRING_ROPE), and the
// quickjs-ng Python binding converts only flat strings ("TypeError: Unknown quickjs tag: -6"). join and stringify
// write into a string buffer and always give a flat string, whatever their parts were.
//
// The string is a kind letter and JSON text:
//   d  a clean TS013 decode answer, sent as its data object alone (no warnings, errors or console messages)
//   t  a TS013 answer {data|bytes, fPort, warnings, errors}, with warnings and errors made lists of strings
//   l  a legacy answer (TTN v2 Decoder/Encoder, ChirpStack v3 Decode/Encode): the value itself
//   m  the script has no such function
//   e  the script threw: the JSON text of the message
//   x  a limit was hit inside the script (out of memory): the JSON text of the message; Python rebuilds the context
// Upper case when console messages wait in __lc_console (read with a second call only then).
(function (config) {
  var g = globalThis, stringify = JSON.stringify, parse = JSON.parse, isArray = Array.isArray;
  var isView = ArrayBuffer.isView, slice = Array.prototype.slice, NativeDate = Date;
  var msgs = [], limit = config.maxConsole, pair = ['', ''];
  var InternalErrorType = typeof InternalError === 'function' ? InternalError : null;

  function flat(kind, text) {
    var k = msgs.length ? kind.toUpperCase() : kind;
    if (typeof text !== 'string') text = ''; // JSON.stringify of a function: undefined, which Python refuses
    // Concatenations up to 512 characters are flat in QuickJS (JS_STRING_ROPE_SHORT_LEN): the common short
    // answer takes the cheap path; tests cover 511, 512, 513 and up to 1 MB.
    if (text.length < 500) return k + text;
    pair[0] = k;
    pair[1] = text;
    var s = pair.join('');
    pair[1] = '';
    return s;
  }

  // A value that is not a string, shown the way JSON.stringify writes it (node's answer serialised as JSON):
  // ["a"] not the engine's String(["a"]) = "a", {"code":1} not "[object Object]".
  function text(value) {
    if (typeof value === 'string') return value;
    try {
      var t = stringify(value);
      if (t !== undefined) return t;
    } catch (e) { /* BigInt, cycles: fall back to String() */ }
    try { return String(value); } catch (e) { return Object.prototype.toString.call(value); }
  }

  // TS013 warnings and errors are lists of strings; a single value is a list of one.
  function texts(list) {
    if (list === undefined || list === null) return [];
    if (!isArray(list)) return [text(list)];
    var out = [];
    for (var i = 0; i < list.length; i++) out.push(text(list[i]));
    return out;
  }

  function fmt(args) {
    var out = [];
    for (var i = 0; i < args.length; i++) out.push(text(args[i]));
    return out.join(' ').slice(0, 500);
  }
  function keep(level) {
    return function () { if (msgs.length < limit) msgs.push('console.' + level + ': ' + fmt(arguments)); };
  }
  function drop() {}
  // warn/error become warnings of the answer; log/info/debug are vendor debug noise.
  g.console = { log: drop, info: drop, debug: drop, trace: drop, warn: keep('warn'), error: keep('error') };
  g.__lc_console = function () { var logs = msgs; msgs = []; return stringify(logs); };

  // A thrown value as node shows it: an Error as "Name: message" (String(e)), anything else as JSON text.
  function thrown(e) {
    var message;
    if (e instanceof Error) {
      try { message = String(e); } catch (x) { message = 'Error'; }
    } else {
      message = text(e);
    }
    var oom = InternalErrorType !== null && e instanceof InternalErrorType && /out of memory/.test(message);
    return flat(oom ? 'x' : 'e', stringify(message));
  }

  function none(list) { return list === undefined || (isArray(list) && list.length === 0); }

  function decoded(value) {
    if (!msgs.length && value !== null && typeof value === 'object' && typeof value.data === 'object'
        && value.data !== null && none(value.warnings) && none(value.errors))
      return flat('d', stringify(value.data));
    if (value === null || typeof value !== 'object') return flat('t', stringify(value === undefined ? null : value));
    return flat('t', stringify({ data: value.data, warnings: texts(value.warnings), errors: texts(value.errors) }));
  }

  function byteList(bytes) {
    // A Uint8Array (or any typed array) is sent as the plain list node's Array.from would give.
    return isView(bytes) ? slice.call(bytes) : bytes;
  }

  function encoded(value) {
    if (value === null || typeof value !== 'object') return flat('t', stringify(value === undefined ? null : value));
    return flat('t', stringify({ bytes: byteList(value.bytes), fPort: value.fPort, warnings: texts(value.warnings),
                                 errors: texts(value.errors) }));
  }

  function legacy(value) { return flat('l', stringify(value === undefined ? null : byteList(value))); }

  g.__lc_decode_uplink = function (bytesJson, fPort, recvTimeMs) {
    try {
      var bytes = parse(bytesJson);
      if (typeof g.decodeUplink === 'function')
        return decoded(g.decodeUplink({ bytes: bytes, fPort: fPort, recvTime: new NativeDate(recvTimeMs) }));
      if (typeof g.Decoder === 'function') return legacy(g.Decoder(bytes, fPort));
      if (typeof g.Decode === 'function') return legacy(g.Decode(fPort, bytes, {}));
      return flat('m', 'null');
    } catch (e) { return thrown(e); }
  };
  g.__lc_decode_downlink = function (bytesJson, fPort) {
    try {
      if (typeof g.decodeDownlink !== 'function') return flat('m', 'null');
      return decoded(g.decodeDownlink({ bytes: parse(bytesJson), fPort: fPort }));
    } catch (e) { return thrown(e); }
  };
  g.__lc_encode_downlink = function (dataJson, fPort) {
    try {
      var data = parse(dataJson);
      if (typeof g.encodeDownlink === 'function') return encoded(g.encodeDownlink({ data: data }));
      if (typeof g.Encoder === 'function') return legacy(g.Encoder(data, fPort));
      if (typeof g.Encode === 'function') return legacy(g.Encode(fPort, data, {}));
      return flat('m', 'null');
    } catch (e) { return thrown(e); }
  };
})(__lc_config);
