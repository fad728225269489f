// Writes that survive a lost network (the technician on a pole or in a manhole). Every form marked
// data-offline is sent by fetch with an Idempotency-Key. Without network the write is kept in the phone
// (IndexedDB, files included) and sent again, with the same key, when the network returns (the "online" event,
// each page load, every 30 s): the server runs it once whatever the number of attempts (services/idempotency).
(function () {
  "use strict";
  var DB_NAME = "lora-city-outbox", STORE = "writes";
  var box = document.getElementById("outbox");
  var memory = [];  // when IndexedDB is unavailable (private browsing on old Safari): kept while the page lives
  var flushing = false;

  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
  }

  function say(kind, text, link) {
    if (!box) { return; }
    box.hidden = false;
    box.className = "outbox outbox-" + kind;
    box.dataset.state = kind;
    box.textContent = text;
    if (link) {
      var a = document.createElement("a");
      a.href = link;
      a.textContent = box.dataset.msgOpen;
      box.appendChild(document.createTextNode(" "));
      box.appendChild(a);
    }
  }

  function msg(name, n) { return (box ? box.dataset[name] || "" : "").replace("{n}", String(n)); }

  function openDb() {
    return new Promise(function (resolve, reject) {
      if (!window.indexedDB) { reject(new Error("no IndexedDB")); return; }
      var req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "key" }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function tx(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode);
        var result = work(t.objectStore(STORE));
        t.oncomplete = function () { db.close(); resolve(result && result.result !== undefined ? result.result : result); };
        t.onerror = function () { db.close(); reject(t.error); };
      });
    });
  }

  function keep(item) {
    return tx("readwrite", function (s) { return s.put(item); }).catch(function () {
      memory = memory.filter(function (m) { return m.key !== item.key; }).concat([item]);
    });
  }

  function forget(item) {
    memory = memory.filter(function (m) { return m.key !== item.key; });
    return tx("readwrite", function (s) { return s.delete(item.key); }).catch(function () {});
  }

  function pending() {
    return tx("readonly", function (s) { return s.getAll(); }).then(function (all) {
      return (all || []).concat(memory);
    }, function () { return memory.slice(); });
  }

  function entriesOf(form, submitter) {
    var entries = [];
    var data = new FormData(form);
    data.forEach(function (value, name) { entries.push([name, value]); });
    if (submitter && submitter.name) { entries.push([submitter.name, submitter.value]); }
    return entries;
  }

  function send(item) {
    var body = new FormData();
    item.entries.forEach(function (e) {
      if (e[1] instanceof Blob) { body.append(e[0], e[1], e[1].name || "file"); } else { body.append(e[0], e[1]); }
    });
    return fetch(item.url, {
      method: "POST", body: body, credentials: "same-origin", redirect: "follow",
      headers: { "Idempotency-Key": item.key, Accept: "text/html" },
    });
  }

  function loggedOut(response) {
    return response.redirected && /\/login$/.test(new URL(response.url).pathname);
  }

  function showDocument(response) {
    return response.text().then(function (html) {
      document.open();
      document.write(html);
      document.close();
    });
  }

  function countPending() {
    return pending().then(function (all) {
      if (all.length) { say("queued", msg("msgQueued", all.length)); }
      return all.length;
    });
  }

  // Sent now, with the technician on the page: go where the server says (or show its form errors).
  function submitNow(item) {
    say("sending", msg("msgSending", 1));
    if (navigator.onLine === false) { keep(item).then(countPending); return; }
    send(item).then(function (r) {
      if (loggedOut(r) || r.status >= 500) { return keep(item).then(countPending); }
      if (r.redirected) { window.location.assign(r.url); return null; }
      return showDocument(r);
    }, function () {
      keep(item).then(countPending);
    });
  }

  // Sent later, from whatever page is open: say what became of each write.
  function flush() {
    if (flushing || navigator.onLine === false) { return Promise.resolve(); }
    flushing = true;
    return pending().then(function (all) {
      var chain = Promise.resolve();
      all.sort(function (a, b) { return a.created - b.created; }).forEach(function (item) {
        chain = chain.then(function () {
          return send(item).then(function (r) {
            if (loggedOut(r)) { say("login", msg("msgLogin", all.length)); throw new Error("login"); }
            if (r.status >= 500) { throw new Error(String(r.status)); }
            return forget(item).then(function () {
              if (r.ok) { say("sent", msg("msgSent", 1) + " " + item.label, r.url); }
              else { say("failed", msg("msgFailed", 1) + " " + item.label, item.page); }
            });
          });
        });
      });
      return chain;
    }).catch(function () { return countPending(); }).finally(function () { flushing = false; });
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-offline") || !window.fetch) { return; }
    ev.preventDefault();
    var item = {
      key: newKey(), url: form.action, entries: entriesOf(form, ev.submitter), created: Date.now(),
      label: form.dataset.label || document.title, page: window.location.href,
    };
    submitNow(item);
  });

  window.addEventListener("online", flush);
  setInterval(function () { countPending().then(function (n) { if (n) { flush(); } }); }, 30000);
  flush();
  window.loraCityOutbox = { flush: flush, pending: pending };
})();
