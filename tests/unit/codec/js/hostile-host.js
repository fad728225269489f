// Hostile: reaches for host objects a Node or QuickJS-with-std codec could use to touch the machine.
function decodeUplink(input) {
  var probes = {
    1: function () { return require("fs").readFileSync("/etc/passwd", "utf8"); },
    2: function () { return process.env; },
    3: function () { return std.loadFile("/etc/passwd"); },
    4: function () { return os.exec(["/bin/true"]); },
    5: function () { return fetch("http://127.0.0.1/"); },
    6: function () { return import("fs"); }
  };
  var probe = probes[input.fPort];
  if (probe) return { data: { leaked: probe() } };
  var globals = Object.getOwnPropertyNames(globalThis).filter(function (n) {
    return ["require", "process", "std", "os", "fetch", "XMLHttpRequest", "setTimeout", "print"].indexOf(n) >= 0;
  });
  return { data: { host_globals: globals } };
}
