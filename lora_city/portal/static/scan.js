// Optional camera scanning of the device's QR label, where the browser has the Shape Detection API
// (BarcodeDetector: Chrome on Android, for one). Elsewhere the button stays hidden and the text field is the way.
(function () {
  "use strict";
  var button = document.getElementById("scan-camera");
  var field = document.getElementById("qr");
  var video = document.getElementById("scan-video");
  if (!button || !field || !video || !("BarcodeDetector" in window) || !navigator.mediaDevices) { return; }
  button.hidden = false;
  var stream = null;

  function stop() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
    video.hidden = true;
  }

  button.addEventListener("click", function () {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (s) {
      stream = s;
      video.srcObject = s;
      video.hidden = false;
      return video.play();
    }).then(function look() {
      if (!stream) { return; }
      detector.detect(video).then(function (codes) {
        if (codes.length) {
          field.value = codes[0].rawValue;
          stop();
          field.form.submit();
        } else {
          requestAnimationFrame(look);
        }
      }, function () { requestAnimationFrame(look); });
    }).catch(function () { stop(); field.focus(); });
  });
})();
