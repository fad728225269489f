"""HTTP headers of every portal page."""

from __future__ import annotations

from urllib.parse import urlsplit

from lora_city.portal.context import PortalContext


def security_headers(ctx: PortalContext) -> dict[str, str]:
    """Scripts only from the portal itself (no inline script: injected markup cannot run), no framing
    (clickjacking), map tiles only from the configured server. Inline styles stay allowed: uPlot, Leaflet and
    the traffic bars position elements with them."""
    img = "'self' data: blob:"  # blob: the photo's preview before it is sent
    if ctx.settings.map_tile_url:
        parts = urlsplit(ctx.settings.map_tile_url.replace("{s}", "*"))
        img += f" {parts.scheme}://{parts.netloc}"
    return {
        "Cache-Control": "no-store",
        "Content-Security-Policy": (
            f"default-src 'self'; img-src {img}; style-src 'self' 'unsafe-inline'; script-src 'self'; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
