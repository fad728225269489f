"""Text of a PDF as printed: the text operands of every (deflated) content stream. Enough to find what an
invoice says; independent of the library that wrote it."""

from __future__ import annotations

import zlib


def pdf_text(pdf: bytes) -> str:
    chunks = []
    start = 0
    while (i := pdf.find(b"stream\n", start)) != -1:
        end = pdf.find(b"endstream", i)
        body = pdf[i + 7:end]
        try:
            chunks.append(zlib.decompress(body).decode("latin-1"))
        except zlib.error:
            chunks.append(body.decode("latin-1"))
        start = end
    raw = "".join(chunks)
    return raw.replace("\\(", "(").replace("\\)", ")")
