// Dates and numbers formatted for people, as vendor codecs do (toLocaleString and friends, Intl). The payload is
// a list of 8-byte big-endian float64 values: times in ms for fPort 1-3, numbers for fPort 4-5. Every option set
// of the tables below is applied to every value; the answer lists the texts (or the error each gave).
function values(bytes) {
  var out = [], view = new DataView(new Uint8Array(bytes).buffer);
  for (var i = 0; i + 8 <= bytes.length; i += 8) out.push(view.getFloat64(i));
  return out;
}
function attempt(fn) { try { return fn(); } catch (e) { return "! " + e.name; } }

var DATE_OPTIONS = [
  undefined, {}, { year: "numeric" }, { month: "numeric" }, { day: "numeric" }, { month: "long" }, { month: "short" },
  { month: "narrow" }, { weekday: "long" }, { weekday: "short" }, { weekday: "narrow" },
  { year: "numeric", month: "numeric" }, { year: "numeric", month: "2-digit" }, { year: "2-digit", month: "numeric" },
  { month: "numeric", day: "numeric" }, { month: "2-digit", day: "2-digit" },
  { year: "2-digit", month: "2-digit", day: "2-digit" }, { year: "numeric", month: "2-digit", day: "2-digit" },
  { year: "numeric", month: "short", day: "numeric" }, { year: "numeric", month: "long", day: "numeric" },
  { year: "numeric", month: "long", day: "2-digit" }, { weekday: "long", year: "numeric", month: "long", day: "numeric" },
  { weekday: "short", year: "numeric", month: "short", day: "numeric" }, { weekday: "short", month: "numeric", day: "numeric" },
  { weekday: "long", month: "long", day: "numeric" }, { weekday: "short", day: "numeric" }, { month: "long", year: "numeric" },
  { month: "short", day: "numeric" }, { month: "long", day: "numeric" }, { month: "short", year: "numeric" },
  { month: "narrow", day: "numeric" }, { era: "short", year: "numeric" }, { era: "long", year: "numeric", month: "numeric", day: "numeric" },
  { hour: "numeric" }, { hour: "2-digit" }, { minute: "2-digit" }, { minute: "numeric" }, { second: "numeric" }, { second: "2-digit" },
  { hour: "numeric", minute: "2-digit" }, { hour: "2-digit", minute: "2-digit" }, { hour: "numeric", minute: "2-digit", second: "2-digit" },
  { hour: "numeric", minute: "numeric", second: "numeric" }, { hour: "2-digit", minute: "2-digit", second: "2-digit" },
  { hour: "numeric", hour12: false }, { hour: "2-digit", minute: "2-digit", hour12: false },
  { hour: "numeric", minute: "2-digit", second: "2-digit", hour12: false }, { hour: "numeric", minute: "2-digit", hour12: true },
  { hour: "numeric", minute: "2-digit", hourCycle: "h23" }, { hour: "numeric", minute: "2-digit", hourCycle: "h24" },
  { hour: "numeric", minute: "2-digit", hourCycle: "h11" }, { hour: "numeric", minute: "2-digit", hourCycle: "h12" },
  { minute: "2-digit", second: "2-digit" },
  { year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "2-digit" },
  { year: "numeric", month: "short", day: "numeric", hour: "numeric", minute: "2-digit" },
  { year: "numeric", month: "long", day: "numeric", hour: "numeric", minute: "2-digit", second: "2-digit" },
  { weekday: "long", year: "numeric", month: "long", day: "numeric", hour: "numeric", minute: "2-digit" },
  { weekday: "short", month: "short", day: "numeric", hour: "numeric", minute: "2-digit" },
  { month: "long", day: "numeric", hour: "numeric", minute: "2-digit" },
  { weekday: "long", month: "numeric", day: "numeric", year: "numeric", hour: "numeric", minute: "2-digit" },
  { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false },
  { dateStyle: "full" }, { dateStyle: "long" }, { dateStyle: "medium" }, { dateStyle: "short" },
  { timeStyle: "full" }, { timeStyle: "long" }, { timeStyle: "medium" }, { timeStyle: "short" },
  { dateStyle: "full", timeStyle: "short" }, { dateStyle: "long", timeStyle: "medium" },
  { dateStyle: "medium", timeStyle: "short" }, { dateStyle: "short", timeStyle: "long" }, { dateStyle: "short", hour12: false, timeStyle: "short" },
  { hour: "numeric", timeZoneName: "short" }, { hour: "numeric", minute: "2-digit", timeZoneName: "long" },
  { year: "numeric", timeZoneName: "short" }, { second: "numeric", fractionalSecondDigits: 3 },
  { hour: "numeric", minute: "2-digit", second: "2-digit", fractionalSecondDigits: 2 },
  { timeZone: "UTC" }, { timeZone: "Etc/UTC", hour: "numeric", timeZoneName: "short" },
  { timeZone: "Europe/Paris" }, { timeZone: "Europe/Paris", hour: "numeric", minute: "2-digit", timeZoneName: "short" },
  { timeZone: "Europe/Paris", timeStyle: "full" }, { timeZone: "Europe/Berlin", dateStyle: "medium", timeStyle: "long" },
  { timeZone: "Europe/London", hour: "numeric", timeZoneName: "short" }, { timeZone: "Europe/London", timeZoneName: "long", hour: "numeric" },
  { timeZone: "Europe/Helsinki", hour: "2-digit", minute: "2-digit", hour12: false, timeZoneName: "short" },
  { timeZone: "Europe/Lisbon", timeStyle: "full" }, { timeZone: "Mars/Olympus" }, { month: "huge" }, { dateStyle: "full", month: "long" },
];
var LOCALES = [undefined, "en-US", "en", ["en-US", "fr-FR"]];

function dates(times, fPort) {
  var out = [];
  times.forEach(function (t) {
    var d = new Date(t);
    out.push(String(d.getTime()));
    if (fPort === 1) {
      DATE_OPTIONS.forEach(function (o) {
        // European zones other than the process's own follow the EU rules of 1996 on (documented subset)
        if (o && o.timeZone && o.timeZone.indexOf("Europe/") === 0 && d.getUTCFullYear() < 1996) out.push("skip");
        else out.push(attempt(function () { return new Intl.DateTimeFormat("en-US", o).format(d); }));
      });
    } else if (fPort === 2) {
      LOCALES.forEach(function (l) {
        out.push(attempt(function () { return d.toLocaleString(l); }), attempt(function () { return d.toLocaleDateString(l); }),
                 attempt(function () { return d.toLocaleTimeString(l); }));
      });
      out.push(attempt(function () { return d.toLocaleDateString("en-US", { hour: "numeric" }); }),
               attempt(function () { return d.toLocaleTimeString("en-US", { month: "long" }); }),
               attempt(function () { return d.toLocaleDateString("en-US", { timeStyle: "short" }); }),
               attempt(function () { return JSON.stringify(new Intl.DateTimeFormat("en-US", { hour: "numeric", minute: "2-digit", timeZoneName: "short" }).formatToParts(d)); }),
               attempt(function () { return JSON.stringify(new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeStyle: "medium" }).formatToParts(d)); }),
               attempt(function () { return JSON.stringify(new Intl.DateTimeFormat("en-US", { hour: "numeric", minute: "numeric" }).resolvedOptions()); }),
               attempt(function () { return JSON.stringify(new Intl.DateTimeFormat().resolvedOptions()); }),
               attempt(function () { return JSON.stringify(new Intl.DateTimeFormat("en-US", { dateStyle: "long" }).resolvedOptions()); }));
    } else {
      out.push(String(d), d.toString(), d.toTimeString(), d.toDateString(), d.toISOString ? attempt(function () { return d.toISOString(); }) : "",
               String(d.getHours()), String(d.getTimezoneOffset()), [1234.5, "a", d].toLocaleString());
    }
  });
  return out;
}

var NUMBER_OPTIONS = [
  undefined, { maximumFractionDigits: 2 }, { minimumFractionDigits: 2 }, { minimumFractionDigits: 2, maximumFractionDigits: 2 },
  { maximumFractionDigits: 0 }, { minimumFractionDigits: 1, maximumFractionDigits: 4 }, { useGrouping: false }, { minimumIntegerDigits: 3 },
  { maximumSignificantDigits: 3 }, { minimumSignificantDigits: 5 }, { minimumSignificantDigits: 2, maximumSignificantDigits: 4 },
  { style: "percent" }, { style: "percent", maximumFractionDigits: 1 }, { style: "currency", currency: "USD" },
  { style: "currency", currency: "EUR" }, { style: "currency", currency: "JPY" }, { style: "currency", currency: "CHF" },
  { style: "currency", currency: "EUR", currencyDisplay: "code" }, { style: "currency", currency: "eur", minimumFractionDigits: 0 },
  { style: "unit", unit: "celsius" }, { style: "unit", unit: "meter" }, { style: "unit", unit: "kilometer-per-hour" },
  { style: "unit", unit: "liter", maximumFractionDigits: 1 }, { style: "unit", unit: "percent" },
  { maximumFractionDigits: 1, minimumFractionDigits: 3 }, { style: "currency" }, { style: "unit", unit: "furlong" },
];

function numbers(xs, fPort) {
  var out = [];
  xs.forEach(function (x) {
    out.push(String(x));
    if (fPort === 4) {
      NUMBER_OPTIONS.forEach(function (o) {
        out.push(attempt(function () { return x.toLocaleString("en-US", o); }));
      });
    } else {
      out.push(attempt(function () { return x.toLocaleString(); }), attempt(function () { return x.toLocaleString("en"); }),
               attempt(function () { return new Intl.NumberFormat().format(x); }),
               attempt(function () { return JSON.stringify(new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).formatToParts(x)); }),
               attempt(function () { return BigInt(Math.trunc(x)).toLocaleString(); }),
               attempt(function () { return BigInt(Math.trunc(x)).toLocaleString("en-US", { minimumFractionDigits: 2 }); }));
    }
  });
  return out;
}

function decodeUplink(input) {
  var xs = values(input.bytes);
  if (input.fPort <= 3) return { data: { texts: dates(xs, input.fPort) } };
  return { data: { texts: numbers(xs, input.fPort) } };
}
