"""The pure parts: Accept-Language negotiation, the catalogue's completeness, the session cookie's signature and
age checks."""

from __future__ import annotations

import pytest

from lora_city.portal import i18n
from lora_city.portal.cookies import PortalSession, SessionSigner


@pytest.mark.parametrize(("header", "expected"), [
    ("en-US,en;q=0.9,fr;q=0.8", "en"), ("fr-FR,fr;q=0.9,en;q=0.8", "fr"), ("de-DE, en;q=0.3", "en"),
    ("en;q=0.2, fr;q=0.7", "fr"), ("de, it", None), ("", None), (None, None), ("en;q=abc, fr", "fr"),
    ("en;q=0", None),
])
def test_accept_language(header: str | None, expected: str | None) -> None:
    assert i18n.from_accept_language(header) == expected


def test_choice_order_user_then_switch_then_browser_then_french() -> None:
    assert i18n.choose("en", "fr", "fr") == "en"
    assert i18n.choose(None, "en", "fr") == "en"
    assert i18n.choose(None, None, "en") == "en"
    assert i18n.choose(None, None, "de") == "fr"
    assert i18n.choose("xx", None, None) == "fr"


def test_both_catalogues_have_the_same_keys_and_placeholders() -> None:
    fr, en = i18n.catalogue("fr"), i18n.catalogue("en")
    assert fr.keys() == en.keys()
    for key in fr:
        assert sorted(_fields(fr[key])) == sorted(_fields(en[key])), key
    assert i18n.translate("en", "error.title", status=404) == "Error 404"
    assert i18n.translate("en", "no.such.key") == "no.such.key"


def _fields(text: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


def test_cookie_round_trip_and_rejections() -> None:
    signer = SessionSigner("secret-a", max_age_s=3600)
    session = PortalSession.anonymous(1000.0).logged_in("user-1", 1000.0).with_language("en")
    cookie = signer.dumps(session)
    assert signer.loads(cookie, 1000.0 + 3599) == session
    assert signer.loads(cookie, 1000.0 + 3601) is None  # expired
    assert signer.loads(cookie, 1000.0 - 3600) is None  # issued in the future (clock games)
    assert SessionSigner("secret-b", 3600).loads(cookie, 1000.0) is None  # another key
    payload, sig = cookie.rsplit(".", 1)
    assert signer.loads(payload + "x." + sig, 1000.0) is None
    assert signer.loads("garbage", 1000.0) is None and signer.loads(None, 1000.0) is None


def test_login_rotates_the_csrf_token() -> None:
    before = PortalSession.anonymous(0.0)
    after = before.logged_in("u", 1.0)
    assert after.csrf != before.csrf and after.user_id == "u"


def test_csp_lets_map_tiles_come_only_from_the_configured_server() -> None:
    from types import SimpleNamespace

    from lora_city.portal.headers import security_headers
    from lora_city.settings import Settings

    plain = security_headers(SimpleNamespace(settings=Settings()))  # type: ignore[arg-type]
    assert "img-src 'self' data: blob:;" in plain["Content-Security-Policy"]
    osm = Settings(map_tile_url="https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png")
    tiles = security_headers(SimpleNamespace(settings=osm))  # type: ignore[arg-type]
    assert "img-src 'self' data: blob: https://*.tile.openstreetmap.org;" in tiles["Content-Security-Policy"]
