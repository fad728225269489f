"""QR codes as a phone camera would show them, for the browser tests of the technician's scanner.

``qr_y4m`` writes a YUV4MPEG2 video of a QR code (made with segno) for Chromium's fake camera
(``--use-file-for-fake-video-capture``): the page's real getUserMedia → <video> → canvas → jsQR path reads it.
``canvas_camera_script`` is an init script that answers getUserMedia on chosen pages with a canvas stream
showing another QR code (a key sheet), for a second code in the same browser.
"""

from __future__ import annotations

import json
from pathlib import Path

import segno

WHITE, BLACK = 235, 16  # studio-range luma (ITU-R BT.601): a printed label under daylight, not pure 0/255


def qr_y4m(text: str, path: Path, *, width: int = 640, height: int = 480, frames: int = 3) -> Path:
    qr = segno.make(text, error="m")
    border = 4
    modules = qr.symbol_size(scale=1, border=border)[0]
    scale = max(2, int(min(width, height) * 0.8) // modules)
    side = modules * scale
    left, top = (width - side) // 2, (height - side) // 2
    luma = bytearray([WHITE]) * (width * height)
    for y, row in enumerate(qr.matrix_iter(scale=scale, border=border)):
        start = (top + y) * width + left
        luma[start:start + side] = bytes(BLACK if dark else WHITE for dark in row)
    chroma = bytes([128]) * ((width // 2) * (height // 2))  # grey: no colour
    header = f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode()
    frame = b"FRAME\n" + bytes(luma) + chroma + chroma
    path.write_bytes(header + frame * frames)
    return path


def qr_data_uri(text: str) -> str:
    return str(segno.make(text, error="m").png_data_uri(scale=8, border=4))


def canvas_camera_script(path_suffix: str, text: str) -> str:
    """getUserMedia on pages whose path ends with ``path_suffix`` films a canvas showing ``text``'s QR code;
    elsewhere the browser's own (fake) camera answers."""
    head = f"const suffix = {json.dumps(path_suffix)}, src = {json.dumps(qr_data_uri(text))};"
    return "(() => {\n  " + head + """
  if (!navigator.mediaDevices) { return; }
  const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    if (!location.pathname.endsWith(suffix)) { return original(constraints); }
    const img = new Image();
    img.src = src;
    await img.decode();
    const canvas = document.createElement("canvas");
    canvas.width = 640; canvas.height = 480;
    const ctx = canvas.getContext("2d");
    const draw = () => { ctx.fillStyle = "#eee"; ctx.fillRect(0, 0, 640, 480); ctx.drawImage(img, 150, 70, 340, 340); };
    draw();
    setInterval(draw, 100);
    return canvas.captureStream(10);
  };
})();
"""
