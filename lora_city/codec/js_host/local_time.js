// Local time as node computes it, evaluated in every context before the codec.
//
// QuickJS turns local date fields into a time value with the offset at the wrong side of a daylight-saving
// change: new Date(2024, 2, 31, 2, 30) with TZ=Europe/Berlin gave 01:30 local where node (ES2024 21.4.1.26)
// gives 03:30 CEST. The Date constructor, the local setters and Date.parse of local date-times are replaced when
// the process's zone is not UTC. Everything else of the locale (Intl, toLocale*String, the zone's name in
// String(date)) is in intl.js, compiled on first use: it would cost every context ~10 ms for what most codecs
// never call.
(function (config, intlText, indirectEval) {
  'use strict';
  var g = globalThis, NativeDate = Date;
  var dateProto = NativeDate.prototype;
  var getTime = dateProto.getTime, setTime = dateProto.setTime, tzOffset = dateProto.getTimezoneOffset;
  var nativeParse = NativeDate.parse, nativeUTC = NativeDate.UTC;
  var DAY = 86400000, MINUTE = 60000;
  var UTC_NAMES = { 'utc': 'UTC', 'etc/utc': 'UTC', 'gmt': 'UTC', 'etc/gmt': 'UTC', 'etc/universal': 'UTC',
                    'etc/zulu': 'UTC', 'universal': 'UTC', 'zulu': 'UTC', 'etc/uct': 'UTC', 'uct': 'UTC',
                    'etc/gmt0': 'UTC', 'etc/gmt+0': 'UTC', 'etc/gmt-0': 'UTC', 'gmt0': 'UTC' };
  var LOCAL = typeof config.timeZone === 'string' && config.timeZone ? config.timeZone : 'UTC';
  if (UTC_NAMES[LOCAL.toLowerCase()] !== undefined) LOCAL = 'UTC'; // node shows every UTC alias as "UTC"
  var LOCAL_IS_UTC = LOCAL === 'UTC';
  // What intl.js needs from before any replacement (and out of the codec's reach: not globals).
  var host = { nativeDate: NativeDate, nativeToString: dateProto.toString, nativeToTimeString: dateProto.toTimeString,
               local: LOCAL, utcNames: UTC_NAMES };

  // Minutes east of UTC in the process's own zone at UTC time t (the C library, as node uses ICU's tz data).
  function localOffset(t) { return -tzOffset.call(new NativeDate(t)); }

  // --- local time resolved as ES2024 says ------------------------------------------------------------------
  // t: the local date-time as if it were UTC. The earlier instant when the time occurs twice (autumn), the
  // offset before the change when it does not occur (spring). QuickJS took the offset at t read as UTC.
  function utcFromLocal(t) {
    if (t !== t) return NaN;
    var before = localOffset(t - DAY) * MINUTE, after = localOffset(t + DAY) * MINUTE;
    if (before === after) return t - before;
    var u1 = t - before, u2 = t - after;
    var ok1 = localOffset(u1) * MINUTE === before, ok2 = localOffset(u2) * MINUTE === after;
    if (ok1 && ok2) return u1 < u2 ? u1 : u2;
    if (ok1) return u1;
    if (ok2) return u2;
    return u1;
  }
  function timeClip(t) {
    if (!isFinite(t) || Math.abs(t) > 8.64e15) return NaN;
    return Math.trunc(t) + 0;
  }

  // A local date-time string (no Z, no offset, not an ISO date alone): QuickJS parsed it with the wrong offset
  // near a change. The same text read as UTC gives its local fields, which are then resolved as above.
  var UTC_FORM = /(?:^[+-]?\d{4,6}(?:-\d\d(?:-\d\d)?)?$)|(?:(?:Z|GMT|UTC|UT|[+-]\d\d:?\d\d)(?:\s*\([^)]*\))?$)/i;
  var ISO_LOCAL = /^[+-]?\d{4,6}-\d\d-\d\dT/;
  function parse(text) {
    var s = String(text), t = nativeParse(s);
    if (t !== t || LOCAL_IS_UTC) return t;
    var trimmed = s.trim();
    if (UTC_FORM.test(trimmed)) return t;
    var fields = nativeParse(ISO_LOCAL.test(trimmed) ? trimmed + 'Z' : trimmed + ' UTC');
    return fields !== fields ? t : timeClip(utcFromLocal(fields));
  }

  if (!LOCAL_IS_UTC) {
    var LocalDate = function Date(year, month, day, hours, minutes, seconds, ms) {
      if (new.target === undefined) return NativeDate();
      var n = arguments.length, time;
      if (n === 0) return Reflect.construct(NativeDate, [], new.target);
      if (n === 1) {
        var v = year;
        if (typeof v === 'string') time = parse(v);
        else return Reflect.construct(NativeDate, [v], new.target);
      } else {
        var y = Number(year), m = Number(month);
        var d = n > 2 ? Number(day) : 1, h = n > 3 ? Number(hours) : 0, mi = n > 4 ? Number(minutes) : 0;
        var s = n > 5 ? Number(seconds) : 0, x = n > 6 ? Number(ms) : 0;
        time = timeClip(utcFromLocal(nativeUTC(y, m, d, h, mi, s, x)));
      }
      return Reflect.construct(NativeDate, [time], new.target);
    };
    LocalDate.prototype = dateProto;
    Object.defineProperty(dateProto, 'constructor', { value: LocalDate, writable: true, configurable: true });
    LocalDate.UTC = nativeUTC;
    LocalDate.now = NativeDate.now;
    LocalDate.parse = function parse_(s) { return parse(s); };
    Object.defineProperty(LocalDate, 'length', { value: 7 });
    g.Date = LocalDate;

    // The local setters: the new local fields resolved as above. Arguments are converted in order, as the
    // specification's ToNumber calls are, before a NaN date makes the result NaN.
    var FIELDS = ['FullYear', 'Month', 'Date', 'Hours', 'Minutes', 'Seconds', 'Milliseconds'];
    var localSetter = function (first, count) {
      return function () {
        var t = getTime.call(this), values = [], i;
        for (i = 0; i < count && i < Math.max(arguments.length, 1); i++) values.push(Number(arguments[i]));
        if (t !== t) {
          if (first !== 0) return NaN;
          t = 0 - localOffset(0) * MINUTE; // setFullYear on an invalid date starts from +0 local
        }
        var d = new NativeDate(t);
        var fields = [d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds(),
                      d.getMilliseconds()];
        for (i = 0; i < values.length; i++) fields[first + i] = values[i];
        var u = timeClip(utcFromLocal(nativeUTC(fields[0], fields[1], fields[2], fields[3], fields[4], fields[5],
                                                fields[6])));
        return setTime.call(this, u);
      };
    };
    var counts = [3, 2, 1, 4, 3, 2, 1];
    for (var f = 0; f < FIELDS.length; f++) {
      Object.defineProperty(dateProto, 'set' + FIELDS[f],
                            { value: localSetter(f, counts[f]), writable: true, configurable: true });
    }
    if (typeof dateProto.setYear === 'function') {
      var setFullYear = dateProto.setFullYear;
      Object.defineProperty(dateProto, 'setYear', { value: function setYear(year) {
        var y = Number(year);
        if (y === y) { var i = Math.trunc(y); if (i >= 0 && i <= 99) y = 1900 + i; }
        return setFullYear.call(this, y);
      }, writable: true, configurable: true });
    }
  }

  function define(proto, name, fn) { Object.defineProperty(proto, name, { value: fn, writable: true, configurable: true }); }
  var loaded = false;
  function load() {
    if (!loaded) { loaded = true; indirectEval(intlText)(config, host); }
  }
  function lazy(proto, name) {
    var stub = function () {
      load();
      if (proto[name] === stub) throw new TypeError(name + ' could not be loaded');
      return proto[name].apply(this, arguments);
    };
    define(proto, name, stub);
  }
  lazy(dateProto, 'toString');
  lazy(dateProto, 'toTimeString');
  lazy(dateProto, 'toLocaleString');
  lazy(dateProto, 'toLocaleDateString');
  lazy(dateProto, 'toLocaleTimeString');
  lazy(Number.prototype, 'toLocaleString');
  if (typeof BigInt === 'function') lazy(BigInt.prototype, 'toLocaleString');
  Object.defineProperty(g, 'Intl', { configurable: true, enumerable: false,
                                     get: function () { load(); return g.Intl; },
                                     set: function (v) { define(g, 'Intl', v); } });
})(__lc_config, __lc_intl_text, eval);
delete globalThis.__lc_intl_text; // kept in the closure above only
