// Camera scanning of QR codes on every current mobile browser. The camera comes from getUserMedia (Safari on
// iPhone, Chrome and Firefox on Android, desktop browsers); the decoding from the Shape Detection API's
// BarcodeDetector where the browser has it (Chrome on Android: fast, native), else from the vendored jsQR
// decoder reading video frames through a canvas. Without a camera (or permission) the typed field stays the way.
//
// Each ".camera" block names its target field (data-scan-target) and its mode (data-scan-mode):
//   device: a LoRaWAN QR label (TR005 "LW:D0:…" or the older URN forms); the form is sent once read.
//   key:    a vendor's key sheet; the 32 hex digits of the AppKey go into the field (spaces/colons dropped).
(function () {
  "use strict";
  var FRAME_MS = 120;  // jsQR on a phone: ~8 frames a second is quick enough and spares the battery
  var MAX_SIDE = 640;  // larger frames only slow jsQR down; a label fills a good part of the picture

  function deviceCode(text) {
    var t = String(text || "").trim();
    return /^(LW:D0:|URN:LW:DP:|URN:DEV:LW:)/i.test(t) ? t : null;
  }

  function keyCode(text) {
    var t = String(text || "").trim();
    if (deviceCode(t)) { return null; }  // the device's own label, not its key sheet
    var hex = t.replace(/[\s:\-]/g, "");
    var m = hex.match(/[0-9a-fA-F]{32}/);
    // A sheet may carry "AppKey: …" or the key alone; exactly one 32-digit run is the key.
    return m && hex.replace(m[0], "").match(/[0-9a-fA-F]{32}/) === null ? m[0].toUpperCase() : null;
  }

  function Scanner(box) {
    this.box = box;
    this.field = document.getElementById(box.dataset.scanTarget);
    this.mode = box.dataset.scanMode || "device";
    this.start = box.querySelector(".scan-start");
    this.view = box.querySelector(".scan-view");
    this.video = box.querySelector("video");
    this.status = box.querySelector(".scan-status");
    this.stream = null;
    this.detector = null;
    this.canvas = document.createElement("canvas");
  }

  Scanner.prototype.say = function (message) { this.status.textContent = message || ""; };

  Scanner.prototype.stop = function () {
    if (this.stream) { this.stream.getTracks().forEach(function (t) { t.stop(); }); }
    this.stream = null;
    this.view.hidden = true;
    this.start.hidden = false;
  };

  Scanner.prototype.found = function (raw) {
    var value = this.mode === "key" ? keyCode(raw) : deviceCode(raw);
    if (!value) {
      this.say(this.mode === "key" ? this.box.dataset.msgNotKey : this.box.dataset.msgNotDevice);
      return false;
    }
    this.stop();
    this.field.value = value;
    this.field.dispatchEvent(new Event("input", { bubbles: true }));
    this.say(this.box.dataset.msgRead);
    this.box.dataset.scanned = value;
    if (this.mode === "device" && this.field.form) {
      if (typeof this.field.form.requestSubmit === "function") { this.field.form.requestSubmit(); }
      else { this.field.form.submit(); }
    } else {
      this.field.focus();
    }
    return true;
  };

  Scanner.prototype.detectNative = function () {
    return this.detector.detect(this.video).then(function (codes) {
      return codes.length ? codes[0].rawValue : null;
    });
  };

  Scanner.prototype.detectJs = function () {
    var v = this.video;
    var w = v.videoWidth, h = v.videoHeight;
    if (!w || !h || typeof jsQR !== "function") { return Promise.resolve(null); }
    var scale = Math.min(1, MAX_SIDE / Math.max(w, h));
    var cw = Math.round(w * scale), ch = Math.round(h * scale);
    this.canvas.width = cw;
    this.canvas.height = ch;
    var ctx = this.canvas.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(v, 0, 0, cw, ch);
    var image = ctx.getImageData(0, 0, cw, ch);
    var code = jsQR(image.data, cw, ch, { inversionAttempts: "attemptBoth" });
    return Promise.resolve(code && code.data ? code.data : null);
  };

  Scanner.prototype.loop = function () {
    var self = this;
    if (!this.stream) { return; }
    if (this.video.readyState < 2) { setTimeout(function () { self.loop(); }, FRAME_MS); return; }
    var attempt = this.detector ? this.detectNative() : this.detectJs();
    attempt.then(function (raw) {
      if (raw && self.found(raw)) { return; }
      setTimeout(function () { self.loop(); }, FRAME_MS);
    }, function () {
      self.detector = null;  // the native detector failed on this browser: jsQR from now on
      setTimeout(function () { self.loop(); }, FRAME_MS);
    });
  };

  Scanner.prototype.open = function () {
    var self = this;
    this.say(this.box.dataset.msgAim);
    var native = "BarcodeDetector" in window
      ? window.BarcodeDetector.getSupportedFormats().then(function (f) { return f.indexOf("qr_code") >= 0; },
                                                         function () { return false; })
      : Promise.resolve(false);
    native.then(function (ok) {
      self.detector = ok ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
      self.box.dataset.decoder = ok ? "native" : "jsqr";
      return navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false });
    }).then(function (stream) {
      self.stream = stream;
      self.video.srcObject = stream;
      self.view.hidden = false;
      self.start.hidden = true;
      var played = self.video.play();
      if (played && played.catch) { played.catch(function () {}); }
      self.loop();
    }).catch(function (err) {
      self.stop();
      self.say(err && err.name === "NotAllowedError" ? self.box.dataset.msgDenied : self.box.dataset.msgUnavailable);
      self.field.focus();
    });
  };

  function init(box) {
    var s = new Scanner(box);
    if (!s.field || !s.start) { return; }
    if (!navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== "function") {
      return;  // no camera API (plain HTTP, old browser): the typed field is the way, no dead button
    }
    s.start.hidden = false;
    s.start.addEventListener("click", function () { s.open(); });
    box.querySelector(".scan-stop").addEventListener("click", function () { s.stop(); s.say(""); });
  }

  Array.prototype.forEach.call(document.querySelectorAll(".camera[data-scan-target]"), init);
  window.loraCityQr = { deviceCode: deviceCode, keyCode: keyCode };
})();
