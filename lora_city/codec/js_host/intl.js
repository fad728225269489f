// The Intl subset and the zone names, as node (V8 with ICU, en-US) answers them; compiled on first use (local_time.js). QuickJS has no Intl, formats
// toLocaleString() as "08/23/2028, 10:03:56 PM" where node writes "8/23/2028, 10:03:56 PM", converts local date
// fields to time values with the offset of the wrong side of a daylight-saving change, and writes String(date)
// without the zone's name. Vendor codecs call all of these.
//
// Supported (compared with node in tests/unit/codec/test_js_locale.py):
// - Date: new Date(y, m, ...), the local setters and Date.parse of local date-times resolve a local time the
//   way ES2024 21.4.1.26 says (ambiguous: the earlier instant; in a gap: the offset before the change);
//   toString/toTimeString end with the zone's long name.
// - Date.prototype.toLocaleString / toLocaleDateString / toLocaleTimeString, Intl.DateTimeFormat (format,
//   formatToParts, resolvedOptions): the components weekday, era, year, month, day, hour, minute, second,
//   fractionalSecondDigits, timeZoneName in the combinations CLDR's en-US skeletons cover, dateStyle/timeStyle,
//   hour12/hourCycle; time zones: the process's own (TZ), UTC, and the European zones (rules since 1996).
// - Number/BigInt toLocaleString and Intl.NumberFormat: decimal, percent, currency (symbol or code), the units
//   below; fraction, integer and significant digits, grouping; halfExpand rounding of the shortest decimal.
// Every locale is formatted as en-US (as a node built with small-icu does). Options outside the subset throw a
// RangeError that names them, so a codec gets a clear error instead of a silently different text.
(function (config, host) {
  'use strict';
  var g = globalThis, NativeDate = host.nativeDate, isArray = Array.isArray;
  var dateProto = NativeDate.prototype;
  var getTime = dateProto.getTime, tzOffset = dateProto.getTimezoneOffset;
  var nativeUTC = NativeDate.UTC;
  var numberToString = Number.prototype.toString;
  var DAY = 86400000, HOUR = 3600000, MINUTE = 60000;

  function unsupported(what) {
    throw new RangeError('lora_city Intl subset: ' + what + ' is not supported');
  }
  function timeClip(t) {
    if (!isFinite(t) || Math.abs(t) > 8.64e15) return NaN;
    return Math.trunc(t) + 0;
  }

  // --- time zones -------------------------------------------------------------------------------------------
  var CET = ['Central European Standard Time', 'Central European Summer Time'];
  var EET = ['Eastern European Standard Time', 'Eastern European Summer Time'];
  var WET = ['Western European Standard Time', 'Western European Summer Time'];
  var ZONES = {}; // name -> {std: minutes east of UTC, eu: EU daylight-saving rule, long: [standard, summer], short}
  function zones(names, std, long, eu, shortNames) {
    for (var i = 0; i < names.length; i++) ZONES[names[i]] = { std: std, long: long, eu: eu, short: shortNames || null };
  }
  zones(['Europe/Amsterdam', 'Europe/Andorra', 'Europe/Belgrade', 'Europe/Berlin', 'Europe/Bratislava',
         'Europe/Brussels', 'Europe/Budapest', 'Europe/Copenhagen', 'Europe/Gibraltar', 'Europe/Ljubljana',
         'Europe/Luxembourg', 'Europe/Madrid', 'Europe/Malta', 'Europe/Monaco', 'Europe/Oslo', 'Europe/Paris',
         'Europe/Prague', 'Europe/Rome', 'Europe/San_Marino', 'Europe/Sarajevo', 'Europe/Skopje',
         'Europe/Stockholm', 'Europe/Tirane', 'Europe/Vaduz', 'Europe/Vatican', 'Europe/Vienna', 'Europe/Warsaw',
         'Europe/Zagreb', 'Europe/Zurich', 'Europe/Busingen', 'Europe/Podgorica', 'Africa/Ceuta',
         'Arctic/Longyearbyen', 'CET'], 60, CET, true);
  zones(['Europe/Athens', 'Europe/Bucharest', 'Europe/Helsinki', 'Europe/Riga', 'Europe/Sofia', 'Europe/Tallinn',
         'Europe/Vilnius', 'Europe/Kyiv', 'Europe/Kiev', 'Europe/Mariehamn', 'Asia/Nicosia', 'EET'], 120, EET, true);
  zones(['Europe/Lisbon', 'Atlantic/Canary', 'Atlantic/Madeira', 'Atlantic/Faroe', 'WET'], 0, WET, true);
  zones(['Europe/London', 'Europe/Guernsey', 'Europe/Jersey', 'Europe/Isle_of_Man'], 0,
        ['Greenwich Mean Time', 'British Summer Time'], true, ['GMT', 'GMT+1']);
  zones(['Europe/Dublin'], 0, ['Greenwich Mean Time', 'Irish Standard Time'], true, ['GMT', 'GMT+1']);
  zones(['UTC', 'Etc/UTC', 'Etc/GMT', 'GMT', 'Etc/Universal', 'Etc/Zulu', 'Universal', 'Zulu', 'Etc/UCT', 'UCT'], 0,
        ['Coordinated Universal Time', 'Coordinated Universal Time'], false, ['UTC', 'UTC']);
  // Names only (offsets from the C library when such a zone is the process's own).
  zones(['America/New_York', 'America/Detroit', 'America/Toronto'], -300, ['Eastern Standard Time', 'Eastern Daylight Time'], false, ['EST', 'EDT']);
  zones(['America/Chicago'], -360, ['Central Standard Time', 'Central Daylight Time'], false, ['CST', 'CDT']);
  zones(['America/Denver'], -420, ['Mountain Standard Time', 'Mountain Daylight Time'], false, ['MST', 'MDT']);
  zones(['America/Los_Angeles'], -480, ['Pacific Standard Time', 'Pacific Daylight Time'], false, ['PST', 'PDT']);

  var UTC_NAMES = host.utcNames, LOCAL = host.local;

  function localOffset(t) { return -tzOffset.call(new NativeDate(t)); }

  function lastSunday(year, month) { // the UTC day (ms) of the month's last Sunday
    var last = nativeUTC(year, month + 1, 0);
    return last - new NativeDate(last).getUTCDay() * DAY;
  }
  // EU summer time (Directive 2000/84/EC, the same dates since 1996): from the last Sunday of March 01:00 UTC
  // to the last Sunday of October 01:00 UTC. Earlier years get the same rule (the countries' own histories
  // differ: a date before 1996 in a European zone other than the process's own may differ from node's).
  function euSummer(t) {
    var year = new NativeDate(t).getUTCFullYear();
    return t >= lastSunday(year, 2) + HOUR && t < lastSunday(year, 9) + HOUR;
  }

  // A resolved zone: offset(t) in minutes east of UTC, and its names at t.
  function zoneNamed(name) {
    if (name === undefined) return resolvedZone(LOCAL, true);
    var text = String(name);
    var canonical = UTC_NAMES[text.toLowerCase()];
    if (canonical !== undefined) return resolvedZone('UTC', false);
    if (text === LOCAL) return resolvedZone(LOCAL, true);
    var known = ZONES[text];
    if (known !== undefined && known.eu) return resolvedZone(text, false);
    if (/^[A-Za-z_]+(\/[A-Za-z_+\-0-9]+)*$/.test(text)) unsupported('time zone ' + text + ' (only UTC, the process zone ' +
                                                                      LOCAL + ' and European zones)');
    throw new RangeError('Invalid time zone specified: ' + text);
  }
  function resolvedZone(name, local) {
    var info = ZONES[name];
    var offset;
    if (local) offset = localOffset;
    else if (name === 'UTC') offset = function () { return 0; };
    else offset = function (t) { return info.std + (euSummer(t) ? 60 : 0); };
    return { name: name, offset: offset, info: info, local: local };
  }
  function standardOffset(zone, t) {
    if (zone.info !== undefined) return zone.info.std;
    var year = new NativeDate(t).getUTCFullYear();
    return Math.min(zone.offset(nativeUTC(year, 0, 1)), zone.offset(nativeUTC(year, 6, 1)));
  }
  function gmt(minutes, long) {
    if (minutes === 0) return 'GMT';
    var sign = minutes < 0 ? '-' : '+', m = Math.abs(minutes), h = Math.floor(m / 60), r = m % 60;
    if (long) return 'GMT' + sign + pad2(h) + ':' + pad2(r);
    return 'GMT' + sign + h + (r ? ':' + pad2(r) : '');
  }
  function zoneName(zone, t, style, always) {
    var offset = zone.offset(t), info = zone.info;
    // ICU's zone-to-name table (metaZones) starts in 1970: Intl shows earlier instants in the GMT form
    // (String(date) names the zone whatever the date: `always`).
    if (t < 0 && zone.name !== 'UTC' && !always) return gmt(offset, style === 'long');
    var summer = info !== undefined ? offset !== info.std : offset !== standardOffset(zone, t);
    if (style === 'long') return info !== undefined ? info.long[summer ? 1 : 0] : gmt(offset, true);
    if (info !== undefined && info.short !== null) return info.short[summer ? 1 : 0];
    return gmt(offset, false);
  }

  // toString and toTimeString end with the zone's long name, as node writes them.
  var nativeToString = host.nativeToString, nativeToTimeString = host.nativeToTimeString;
  var LOCAL_ZONE = resolvedZone(LOCAL, true);
  function withZoneName(fn) {
    return function () {
      var text = fn.call(this), t = getTime.call(this);
      return t === t ? text + ' (' + zoneName(LOCAL_ZONE, t, 'long', true) + ')' : text;
    };
  }
  Object.defineProperty(dateProto, 'toString', { value: withZoneName(nativeToString), writable: true, configurable: true });
  Object.defineProperty(dateProto, 'toTimeString', { value: withZoneName(nativeToTimeString), writable: true, configurable: true });

  // --- numbers ------------------------------------------------------------------------------------------------
  function pad2(n) { return n < 10 ? '0' + n : '' + n; }

  // A finite number as its shortest decimal digits and exponent (value = 0.d1d2... x 10^point), the digits ICU
  // rounds: (1.005).toLocaleString('en-US', {maximumFractionDigits: 2}) is "1.01", not toFixed's "1.00".
  function decimal(abs) {
    var text = typeof abs === 'bigint' ? abs.toString() : numberToString.call(abs);
    var e = text.indexOf('e'), exp = 0;
    if (e >= 0) { exp = Number(text.slice(e + 1)); text = text.slice(0, e); }
    var dot = text.indexOf('.'), point;
    if (dot >= 0) { point = dot; text = text.slice(0, dot) + text.slice(dot + 1); } else point = text.length;
    var lead = 0;
    while (lead < text.length - 1 && text.charAt(lead) === '0') lead++;
    text = text.slice(lead); point -= lead;
    var end = text.length;
    while (end > 1 && text.charAt(end - 1) === '0') end--;
    text = text.slice(0, end);
    if (text === '0') return { digits: '0', point: 1, zero: true };
    return { digits: text, point: point + exp, zero: false };
  }
  // Keep `keep` digits (may be <= 0), rounding half away from zero.
  function roundDigits(dec, keep) {
    var digits = dec.digits, point = dec.point;
    if (keep >= digits.length) return dec;
    if (keep < 0) return { digits: '0', point: 1, zero: true };
    var up = digits.charAt(keep) >= '5';
    var kept = digits.slice(0, keep);
    if (up) {
      var chars = kept.split(''), i = chars.length - 1;
      while (i >= 0 && chars[i] === '9') { chars[i] = '0'; i--; }
      if (i < 0) { chars.unshift('1'); point++; } else chars[i] = String.fromCharCode(chars[i].charCodeAt(0) + 1);
      kept = chars.join('');
    }
    var end = kept.length;
    while (end > 0 && kept.charAt(end - 1) === '0') end--;
    kept = kept.slice(0, end);
    if (kept === '') return { digits: '0', point: 1, zero: true };
    return { digits: kept, point: point, zero: false };
  }
  function repeat(c, n) { var s = ''; while (n-- > 0) s += c; return s; }
  function plain(dec) { // integer and fraction digit strings
    var digits = dec.digits, point = dec.point;
    if (dec.zero) return ['0', ''];
    if (point <= 0) return ['0', repeat('0', -point) + digits];
    if (point >= digits.length) return [digits + repeat('0', point - digits.length), ''];
    return [digits.slice(0, point), digits.slice(point)];
  }

  var CURRENCY_DIGITS = { JPY: 0, KRW: 0, ISK: 0, CLP: 0, VND: 0, HUF: 2, BHD: 3, KWD: 3, JOD: 3, OMR: 3, TND: 3 };
  var CURRENCY_SYMBOLS = { USD: '$', EUR: '\u20ac', GBP: '\u00a3', JPY: '\u00a5', CAD: 'CA$', AUD: 'A$', CNY: 'CN\u00a5',
                           INR: '\u20b9', KRW: '\u20a9', BRL: 'R$', MXN: 'MX$', NZD: 'NZ$', HKD: 'HK$', ILS: '\u20aa',
                           TWD: 'NT$', VND: '\u20ab', XAF: 'FCFA', XOF: 'F\u202fCFA', PHP: '\u20b1' };
  // en-US short unit forms: [text, space before it]
  var UNITS = { celsius: ['\u00b0C', false], fahrenheit: ['\u00b0F', false], percent: ['%', false],
                degree: ['deg', true], meter: ['m', true], kilometer: ['km', true], centimeter: ['cm', true],
                millimeter: ['mm', true], liter: ['L', true], milliliter: ['mL', true], kilogram: ['kg', true],
                gram: ['g', true], second: ['sec', true], minute: ['min', true], hour: ['hr', true], day: ['day', true],
                'kilometer-per-hour': ['km/h', true], 'meter-per-second': ['m/s', true], kilobyte: ['kB', true],
                byte: ['byte', true], 'liter-per-kilometer': ['L/km', true] };

  function option(options, name, allowed, fallback) {
    var v = options[name];
    if (v === undefined) return fallback;
    v = String(v);
    if (allowed !== null && allowed.indexOf(v) < 0)
      throw new RangeError('Value ' + v + ' out of range for Intl.NumberFormat options property ' + name);
    return v;
  }
  function digitsOption(options, name, min, max, fallback) {
    var v = options[name];
    if (v === undefined) return fallback;
    v = Number(v);
    if (v !== v || v < min || v > max) throw new RangeError(name + ' value is out of range.');
    return Math.floor(v);
  }
  function locales(value) { // every locale is formatted as en-US; bad tags still throw, as they do in node
    if (value === undefined) return;
    var list = isArray(value) ? value : [value];
    for (var i = 0; i < list.length; i++) {
      if (typeof list[i] !== 'string' && (typeof list[i] !== 'object' || list[i] === null))
        throw new TypeError('Language ID should be string or object.');
      if (typeof list[i] === 'string' && !/^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(list[i]))
        throw new RangeError('Incorrect locale information provided');
    }
  }

  function NumberFormat(locale, options) {
    if (!(this instanceof NumberFormat)) return new NumberFormat(locale, options);
    locales(locale);
    var o = options === undefined ? {} : Object(options);
    if (o.notation !== undefined && String(o.notation) !== 'standard') unsupported('notation ' + o.notation);
    if (o.signDisplay !== undefined && String(o.signDisplay) !== 'auto') unsupported('signDisplay ' + o.signDisplay);
    if (o.compactDisplay !== undefined || o.roundingIncrement !== undefined || o.roundingMode !== undefined
        || o.roundingPriority !== undefined || o.trailingZeroDisplay !== undefined)
      unsupported('rounding options other than the digit counts');
    var style = option(o, 'style', ['decimal', 'percent', 'currency', 'unit'], 'decimal');
    var currency = o.currency === undefined ? undefined : String(o.currency).toUpperCase();
    if (style === 'currency' && currency === undefined) throw new TypeError('Currency code is required with currency style.');
    if (currency !== undefined && !/^[A-Z]{3}$/.test(currency)) throw new RangeError('Invalid currency code : ' + o.currency);
    var currencyDisplay = option(o, 'currencyDisplay', ['symbol', 'narrowSymbol', 'code', 'name'], 'symbol');
    if (currencyDisplay === 'name') unsupported('currencyDisplay name');
    var unit = o.unit === undefined ? undefined : String(o.unit);
    if (style === 'unit') {
      if (unit === undefined) throw new TypeError('Unit is required with unit style.');
      if (!UNITS.hasOwnProperty(unit)) unsupported('unit ' + unit);
      if (o.unitDisplay !== undefined && String(o.unitDisplay) !== 'short') unsupported('unitDisplay ' + o.unitDisplay);
    }
    var cDigits = style === 'currency' ? (CURRENCY_DIGITS.hasOwnProperty(currency) ? CURRENCY_DIGITS[currency] : 2) : 0;
    var mnfdDefault = style === 'currency' ? cDigits : 0;
    var mxfdDefault = style === 'currency' ? cDigits : style === 'percent' ? 0 : 3;
    var minInt = digitsOption(o, 'minimumIntegerDigits', 1, 21, 1);
    var mnsd = o.minimumSignificantDigits, mxsd = o.maximumSignificantDigits;
    var mnfd = o.minimumFractionDigits, mxfd = o.maximumFractionDigits;
    var r = { locale: 'en-US', numberingSystem: 'latn', style: style };
    if (style === 'currency') { r.currency = currency; r.currencyDisplay = currencyDisplay; r.currencySign = 'standard'; }
    if (style === 'unit') { r.unit = unit; r.unitDisplay = 'short'; }
    r.minimumIntegerDigits = minInt;
    if (mnsd !== undefined || mxsd !== undefined) {
      mnsd = digitsOption(o, 'minimumSignificantDigits', 1, 21, 1);
      mxsd = digitsOption(o, 'maximumSignificantDigits', mnsd, 21, 21);
      r.minimumSignificantDigits = mnsd; r.maximumSignificantDigits = mxsd;
    } else {
      mnfd = digitsOption(o, 'minimumFractionDigits', 0, 100, undefined);
      mxfd = digitsOption(o, 'maximumFractionDigits', 0, 100, undefined);
      if (mnfd === undefined) mnfd = Math.min(mnfdDefault, mxfd === undefined ? mnfdDefault : mxfd);
      if (mxfd === undefined) mxfd = Math.max(mxfdDefault, mnfd);
      else if (mnfd > mxfd) throw new RangeError('maximumFractionDigits value is out of range.');
      r.minimumFractionDigits = mnfd; r.maximumFractionDigits = mxfd;
    }
    var grouping = o.useGrouping === undefined ? 'auto' : (o.useGrouping === false || o.useGrouping === 'false' ? false
                                                           : o.useGrouping === true ? 'always' : String(o.useGrouping));
    r.useGrouping = grouping;
    r.notation = 'standard'; r.signDisplay = 'auto'; r.roundingMode = 'halfExpand'; r.roundingIncrement = 1;
    r.trailingZeroDisplay = 'auto'; r.roundingPriority = 'auto';
    this._r = r;
  }
  NumberFormat.prototype.resolvedOptions = function () {
    var out = {}, r = this._r;
    for (var k in r) if (r.hasOwnProperty(k)) out[k] = r[k];
    return out;
  };
  NumberFormat.prototype.formatToParts = function (value) { return numberParts(this._r, value); };
  NumberFormat.prototype.format = function (value) {
    var parts = numberParts(this._r, value), out = '';
    for (var i = 0; i < parts.length; i++) out += parts[i].value;
    return out;
  };
  NumberFormat.supportedLocalesOf = function (l) { locales(l); return l === undefined ? [] : ['en-US']; };

  function numberParts(r, value) {
    var x = typeof value === 'bigint' ? value : Number(value);
    var negative, body = [];
    if (typeof x === 'bigint') negative = x < 0n;
    else negative = x < 0 || (x === 0 && 1 / x < 0);
    var abs = typeof x === 'bigint' ? (negative ? -x : x) : Math.abs(x);
    if (typeof x !== 'bigint' && x !== x) body.push({ type: 'nan', value: 'NaN' });
    else if (typeof x !== 'bigint' && !isFinite(x)) body.push({ type: 'infinity', value: '\u221e' });
    else {
      var dec = decimal(abs);
      if (r.style === 'percent' && !dec.zero) dec = { digits: dec.digits, point: dec.point + 2, zero: false };
      var ip, fp;
      if (r.minimumSignificantDigits !== undefined) {
        dec = roundDigits(dec, r.maximumSignificantDigits);
        var p = plain(dec); ip = p[0]; fp = p[1];
        // as many fraction digits as it takes to show minimumSignificantDigits (zero counts one before the point)
        var need = r.minimumSignificantDigits - (dec.zero ? 1 : dec.point);
        if (fp.length < need) fp += repeat('0', need - fp.length);
      } else {
        dec = roundDigits(dec, dec.point + r.maximumFractionDigits);
        var q = plain(dec); ip = q[0]; fp = q[1];
        if (fp.length < r.minimumFractionDigits) fp += repeat('0', r.minimumFractionDigits - fp.length);
      }
      if (ip.length < r.minimumIntegerDigits) ip = repeat('0', r.minimumIntegerDigits - ip.length) + ip;
      var groups = [];
      if (r.useGrouping !== false && !(r.useGrouping === 'min2' && ip.length < 5)) {
        var first = ip.length % 3 || 3;
        groups.push(ip.slice(0, first));
        for (var i = first; i < ip.length; i += 3) groups.push(ip.slice(i, i + 3));
      } else groups.push(ip);
      for (var j = 0; j < groups.length; j++) {
        if (j > 0) body.push({ type: 'group', value: ',' });
        body.push({ type: 'integer', value: groups[j] });
      }
      if (fp.length) { body.push({ type: 'decimal', value: '.' }); body.push({ type: 'fraction', value: fp }); }
    }
    var parts = [];
    if (negative) parts.push({ type: 'minusSign', value: '-' });
    if (r.style === 'currency') {
      var symbol = r.currencyDisplay === 'code' ? null : CURRENCY_SYMBOLS[r.currency];
      if (r.currencyDisplay === 'narrowSymbol' && symbol !== undefined && symbol !== null)
        symbol = symbol.replace(/^[A-Z]+/, '');
      if (symbol !== undefined && symbol !== null) parts.push({ type: 'currency', value: symbol });
      else {
        parts.push({ type: 'currency', value: r.currency });
        if (body[0].type === 'integer') parts.push({ type: 'literal', value: '\u00a0' });
      }
    }
    for (var k = 0; k < body.length; k++) parts.push(body[k]);
    if (r.style === 'percent') parts.push({ type: 'percentSign', value: '%' });
    if (r.style === 'unit') {
      var u = UNITS[r.unit];
      if (u[1]) parts.push({ type: 'literal', value: ' ' });
      parts.push({ type: 'unit', value: u[0] });
    }
    return parts;
  }

  // --- dates --------------------------------------------------------------------------------------------------
  var MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October',
                'November', 'December'];
  var DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
  var DATE_KEYS = ['weekday', 'era', 'year', 'month', 'day'];
  var TIME_KEYS = ['dayPeriod', 'hour', 'minute', 'second', 'fractionalSecondDigits'];
  var STYLES = {
    weekday: ['narrow', 'short', 'long'], era: ['narrow', 'short', 'long'], year: ['2-digit', 'numeric'],
    month: ['2-digit', 'numeric', 'narrow', 'short', 'long'], day: ['2-digit', 'numeric'],
    hour: ['2-digit', 'numeric'], minute: ['2-digit', 'numeric'], second: ['2-digit', 'numeric'],
    timeZoneName: ['short', 'long', 'shortOffset', 'longOffset', 'shortGeneric', 'longGeneric'],
  };
  var DATE_STYLES = {
    full: { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' },
    long: { year: 'numeric', month: 'long', day: 'numeric' },
    medium: { year: 'numeric', month: 'short', day: 'numeric' },
    short: { year: '2-digit', month: 'numeric', day: 'numeric' },
  };
  var TIME_STYLES = { full: 'long', long: 'short', medium: null, short: null }; // the zone name each adds

  function dateOption(o, name, allowed) {
    var v = o[name];
    if (v === undefined) return undefined;
    v = String(v);
    if (allowed.indexOf(v) < 0) throw new RangeError('Value ' + v + ' out of range for Intl.DateTimeFormat options property ' + name);
    return v;
  }

  // required/defaults: ES2023 ToDateTimeOptions ('any'/'date'/'time', 'date'/'time'/'all').
  function DateTimeFormat(locale, options, required, defaults) {
    if (!(this instanceof DateTimeFormat)) return new DateTimeFormat(locale, options);
    locales(locale);
    var o = options === undefined ? {} : Object(options);
    required = required || 'any'; defaults = defaults || 'date';
    var r = { locale: 'en-US', calendar: 'gregory', numberingSystem: 'latn' };
    if (o.calendar !== undefined && String(o.calendar) !== 'gregory') unsupported('calendar ' + o.calendar);
    if (o.numberingSystem !== undefined && String(o.numberingSystem) !== 'latn') unsupported('numberingSystem ' + o.numberingSystem);
    var zone = zoneNamed(o.timeZone);
    r.timeZone = zone.name;
    var hour12 = o.hour12 === undefined ? undefined : Boolean(o.hour12);
    var hourCycle = dateOption(o, 'hourCycle', ['h11', 'h12', 'h23', 'h24']);
    var f = {}, k;
    for (k in STYLES) if (STYLES.hasOwnProperty(k)) f[k] = dateOption(o, k, STYLES[k]);
    if (o.dayPeriod !== undefined) unsupported('dayPeriod');
    if (o.formatMatcher !== undefined && String(o.formatMatcher) !== 'best fit' && String(o.formatMatcher) !== 'basic')
      throw new RangeError('Value ' + o.formatMatcher + ' out of range for Intl.DateTimeFormat options property formatMatcher');
    var fsd = o.fractionalSecondDigits;
    if (fsd !== undefined) {
      fsd = Number(fsd);
      if (!(fsd >= 1 && fsd <= 3)) throw new RangeError('fractionalSecondDigits value is out of range.');
      f.fractionalSecondDigits = Math.floor(fsd);
    }
    if (f.timeZoneName !== undefined && f.timeZoneName !== 'short' && f.timeZoneName !== 'long')
      unsupported('timeZoneName ' + f.timeZoneName);
    var dateStyle = dateOption(o, 'dateStyle', ['full', 'long', 'medium', 'short']);
    var timeStyle = dateOption(o, 'timeStyle', ['full', 'long', 'medium', 'short']);
    var styled = dateStyle !== undefined || timeStyle !== undefined;
    if (styled) {
      for (k in f) if (f.hasOwnProperty(k) && f[k] !== undefined)
        throw new TypeError("Can't set option " + k + ' when ' + (dateStyle !== undefined ? 'dateStyle' : 'timeStyle') + ' is used');
      if (required === 'date' && dateStyle === undefined) throw new TypeError('Invalid option : timeStyle');
      if (required === 'time' && timeStyle === undefined) throw new TypeError('Invalid option : dateStyle');
      if (dateStyle !== undefined) { var ds = DATE_STYLES[dateStyle]; for (k in ds) f[k] = ds[k]; }
      if (timeStyle !== undefined) {
        f.hour = 'numeric'; f.minute = '2-digit';
        if (timeStyle !== 'short') f.second = '2-digit';
        if (TIME_STYLES[timeStyle] !== null) f.timeZoneName = TIME_STYLES[timeStyle];
      }
    } else {
      var needDefaults = true, i;
      if (required === 'date' || required === 'any') for (i = 0; i < DATE_KEYS.length; i++) if (f[DATE_KEYS[i]] !== undefined && DATE_KEYS[i] !== 'era') needDefaults = false;
      if (required === 'time' || required === 'any') for (i = 0; i < TIME_KEYS.length; i++) if (f[TIME_KEYS[i]] !== undefined) needDefaults = false;
      if (needDefaults && (defaults === 'date' || defaults === 'all')) { f.year = f.year || 'numeric'; f.month = 'numeric'; f.day = 'numeric'; }
      if (needDefaults && (defaults === 'time' || defaults === 'all')) { f.hour = 'numeric'; f.minute = 'numeric'; f.second = 'numeric'; }
    }
    // en-US prefers h12; hour12 decides over hourCycle, as ECMA-402 (2022) and node 20 say: hour12 false
    // picks h24 when the locale's default is h12.
    var hc = null;
    if (f.hour !== undefined) {
      if (hour12 !== undefined) hc = hour12 ? 'h12' : 'h24';
      else hc = hourCycle || 'h12';
    }
    this._zone = zone;
    this._f = f;
    this._hc = hc;
    this._dateStyle = dateStyle;
    this._timeStyle = timeStyle;
    // resolvedOptions: components as the pattern shows them
    if (hc !== null) { r.hourCycle = hc; r.hour12 = hc === 'h11' || hc === 'h12'; }
    var shown = {};
    for (k in f) if (f.hasOwnProperty(k) && f[k] !== undefined) shown[k] = f[k];
    if (f.hour !== undefined && (hc === 'h23' || hc === 'h24')) shown.hour = '2-digit';
    if (f.minute !== undefined && (f.hour !== undefined || f.second !== undefined)) shown.minute = '2-digit';
    if (f.second !== undefined && (f.minute !== undefined || f.hour !== undefined)) shown.second = '2-digit';
    if (f.minute !== undefined && f.hour === undefined && f.second === undefined) shown.minute = 'numeric';
    if (f.second !== undefined && f.hour === undefined && f.minute === undefined) shown.second = 'numeric';
    var order = ['weekday', 'era', 'year', 'month', 'day', 'hour', 'minute', 'second', 'fractionalSecondDigits', 'timeZoneName'];
    if (styled) {
      if (dateStyle !== undefined) r.dateStyle = dateStyle;
      if (timeStyle !== undefined) r.timeStyle = timeStyle;
    } else {
      for (i = 0; i < order.length; i++) if (shown[order[i]] !== undefined) r[order[i]] = shown[order[i]];
    }
    this._r = r;
  }
  DateTimeFormat.prototype.resolvedOptions = function () {
    var out = {}, r = this._r;
    for (var k in r) if (r.hasOwnProperty(k)) out[k] = r[k];
    return out;
  };
  DateTimeFormat.prototype.formatToParts = function (date) { return dateParts(this, toTime(date)); };
  DateTimeFormat.prototype.format = function (date) {
    var parts = dateParts(this, toTime(date)), out = '';
    for (var i = 0; i < parts.length; i++) out += parts[i].value === '\u202f' ? ' ' : parts[i].value;
    return out;
  };
  DateTimeFormat.supportedLocalesOf = NumberFormat.supportedLocalesOf;

  function toTime(date) {
    var t = date === undefined ? NativeDate.now() : Number(date instanceof NativeDate ? getTime.call(date) : date);
    t = timeClip(t);
    if (t !== t) throw new RangeError('Invalid time value');
    return t;
  }

  function fieldsAt(zone, t) {
    var offset = zone.offset(t), d = new NativeDate(t + offset * MINUTE);
    return { year: d.getUTCFullYear(), month: d.getUTCMonth(), day: d.getUTCDate(), weekday: d.getUTCDay(),
             hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(), ms: d.getUTCMilliseconds() };
  }

  function dateParts(fmt, t) {
    var f = fmt._f, v = fieldsAt(fmt._zone, t), parts = [];
    function lit(s) { parts.push({ type: 'literal', value: s }); }
    function part(type, value) { parts.push({ type: type, value: value }); }
    var yearText;
    if (f.year !== undefined) {
      var y = v.year <= 0 ? 1 - v.year : v.year;
      yearText = f.year === '2-digit' ? pad2(y % 100) : String(y);
    }
    var eraText = f.era === undefined ? undefined
      : (v.year <= 0 ? { narrow: 'B', short: 'BC', long: 'Before Christ' } : { narrow: 'A', short: 'AD', long: 'Anno Domini' })[f.era];
    var textMonth = f.month === 'narrow' || f.month === 'short' || f.month === 'long';
    var monthText;
    if (f.month !== undefined) {
      if (f.month === 'long') monthText = MONTHS[v.month];
      else if (f.month === 'short') monthText = MONTHS[v.month].slice(0, 3);
      else if (f.month === 'narrow') monthText = MONTHS[v.month].charAt(0);
      else monthText = f.month === '2-digit' ? pad2(v.month + 1) : String(v.month + 1);
    }
    var dayText = f.day === undefined ? undefined : (f.day === '2-digit' ? pad2(v.day) : String(v.day));
    var weekdayText = f.weekday === undefined ? undefined
      : (f.weekday === 'long' ? DAYS[v.weekday] : f.weekday === 'short' ? DAYS[v.weekday].slice(0, 3) : DAYS[v.weekday].charAt(0));
    var hasDate = f.year !== undefined || f.month !== undefined || f.day !== undefined || f.weekday !== undefined || f.era !== undefined;
    var hasTime = f.hour !== undefined || f.minute !== undefined || f.second !== undefined || f.fractionalSecondDigits !== undefined;

    // the date, as CLDR en-US availableFormats write each skeleton
    if (hasDate) {
      var core = f.year !== undefined || f.month !== undefined || f.day !== undefined;
      if (weekdayText !== undefined) {
        if (!core) part('weekday', weekdayText);
        else if (f.day !== undefined && f.month === undefined && f.year === undefined) {
          part('day', dayText); lit(' '); part('weekday', weekdayText);
        } else { part('weekday', weekdayText); lit(', '); }
      }
      if (core && !(weekdayText !== undefined && f.day !== undefined && f.month === undefined && f.year === undefined)) {
        if (textMonth) {
          if (f.month !== undefined) part('month', monthText);
          if (f.day !== undefined) { lit(' '); part('day', dayText); }
          if (f.year !== undefined) { lit(f.day !== undefined ? ', ' : ' '); part('year', yearText); }
        } else if (f.month !== undefined) {
          part('month', monthText);
          if (f.day !== undefined) { lit('/'); part('day', dayText); }
          if (f.year !== undefined) { lit('/'); part('year', yearText); }
        } else {
          if (f.day !== undefined && f.year !== undefined) unsupported('a day and a year without a month');
          if (f.day !== undefined) part('day', dayText);
          if (f.year !== undefined) part('year', yearText);
        }
      }
      if (eraText !== undefined) { lit(' '); part('era', eraText); }
    }
    if (hasDate && hasTime) {
      var at = f.month === 'long' || fmt._dateStyle === 'full' || fmt._dateStyle === 'long';
      if (!at && weekdayText !== undefined && f.year === undefined && f.month === undefined && f.day === undefined) lit(' ');
      else lit(at ? ' at ' : ', ');
    }
    if (hasTime) {
      var hc = fmt._hc;
      if (f.hour !== undefined) {
        var h = v.hour, hourText;
        if (hc === 'h12') { h = h % 12; if (h === 0) h = 12; }
        else if (hc === 'h11') h = h % 12;
        else if (hc === 'h24') { if (h === 0) h = 24; }
        hourText = (hc === 'h23' || hc === 'h24' || f.hour === '2-digit') ? pad2(h) : String(h);
        part('hour', hourText);
        if (f.minute !== undefined || f.second !== undefined) { lit(':'); part('minute', pad2(v.minute)); }
        if (f.second !== undefined) { lit(':'); part('second', pad2(v.second)); }
        if (f.fractionalSecondDigits !== undefined) {
          if (f.second === undefined) unsupported('fractionalSecondDigits without second');
          lit('.'); part('fractionalSecond', String(1000 + v.ms).slice(1, 1 + f.fractionalSecondDigits));
        }
        // CLDR 42+ puts U+202F before AM/PM; V8 hands it to formatToParts and writes a plain space in format().
        if (hc === 'h12' || hc === 'h11') { lit('\u202f'); part('dayPeriod', v.hour < 12 ? 'AM' : 'PM'); }
      } else if (f.minute !== undefined) {
        if (f.second !== undefined) { part('minute', pad2(v.minute)); lit(':'); part('second', pad2(v.second)); }
        else part('minute', String(v.minute));
        if (f.fractionalSecondDigits !== undefined) {
          if (f.second === undefined) unsupported('fractionalSecondDigits without second');
          lit('.'); part('fractionalSecond', String(1000 + v.ms).slice(1, 1 + f.fractionalSecondDigits));
        }
      } else if (f.second !== undefined) {
        part('second', String(v.second));
        if (f.fractionalSecondDigits !== undefined) {
          lit('.'); part('fractionalSecond', String(1000 + v.ms).slice(1, 1 + f.fractionalSecondDigits));
        }
      } else unsupported('fractionalSecondDigits without second');
    }
    if (f.timeZoneName !== undefined) {
      lit(hasTime ? ' ' : ', ');
      part('timeZoneName', zoneName(fmt._zone, t, f.timeZoneName));
    }
    return parts;
  }

  function localeString(required, defaults) {
    return function (locale, options) {
      var t = getTime.call(this);
      if (t !== t) return 'Invalid Date';
      return new DateTimeFormat(locale, options, required, defaults).format(t);
    };
  }
  function define(proto, name, fn) { Object.defineProperty(proto, name, { value: fn, writable: true, configurable: true }); }
  define(dateProto, 'toLocaleString', localeString('any', 'all'));
  define(dateProto, 'toLocaleDateString', localeString('date', 'date'));
  define(dateProto, 'toLocaleTimeString', localeString('time', 'time'));
  define(Number.prototype, 'toLocaleString', function toLocaleString(locale, options) {
    return new NumberFormat(locale, options).format(Number.prototype.valueOf.call(this));
  });
  if (typeof BigInt === 'function') {
    define(BigInt.prototype, 'toLocaleString', function toLocaleString(locale, options) {
      return new NumberFormat(locale, options).format(BigInt.prototype.valueOf.call(this));
    });
  }

  var Intl = {};
  define(Intl, 'DateTimeFormat', DateTimeFormat);
  define(Intl, 'NumberFormat', NumberFormat);
  define(Intl, 'getCanonicalLocales', function (l) { locales(l); return l === undefined ? [] : (isArray(l) ? l : [l]).map(String); });
  Object.defineProperty(Intl, Symbol.toStringTag, { value: 'Intl', configurable: true });
  define(g, 'Intl', Intl);
})
