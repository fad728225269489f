// A device's or a gateway's live frame log: server-sent events, each message one entry's HTML (rendered by the
// server in the page's language), newest on top. The browser's EventSource reconnects by itself and sends the
// last cursor back (Last-Event-ID): nothing is missed or shown twice across a reconnection.
(function () {
  "use strict";
  var list = document.getElementById("live-log");
  if (!list || typeof EventSource === "undefined") { return; }
  var status = document.getElementById("live-status");
  var pause = document.getElementById("live-pause");
  var MAX = 200;  // entries kept on the page
  var source = null;

  function say(text) { if (status) { status.textContent = text; } }

  function add(ev) {
    var holder = document.createElement("ol");
    holder.innerHTML = ev.data;
    var item = holder.firstElementChild;
    if (!item || (item.id && document.getElementById(item.id))) { return; }
    list.insertBefore(item, list.firstChild);
    while (list.children.length > MAX) { list.removeChild(list.lastChild); }
    list.dataset.count = String(list.children.length);
  }

  function open() {
    source = new EventSource(list.dataset.url, { withCredentials: true });
    source.addEventListener("entry", add);
    source.addEventListener("open", function () { say(list.dataset.connected); list.dataset.state = "open"; });
    source.addEventListener("error", function () { say(list.dataset.connecting); list.dataset.state = "retrying"; });
  }

  if (pause) {
    pause.addEventListener("click", function () {
      if (source) {
        source.close();
        source = null;
        pause.textContent = pause.dataset.resume;
        say(list.dataset.paused);
      } else {
        open();
        pause.textContent = pause.dataset.pause;
      }
    });
  }
  open();
})();
