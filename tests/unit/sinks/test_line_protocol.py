import re
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from lora_city.sinks.line_protocol import (
    escape_key,
    format_uplink,
    measurement_for,
    timestamp_ns,
)
from tests.unit.sinks.factories import device, uplink


def test_escaping_follows_the_line_protocol_reference() -> None:
    assert escape_key("a b,c=d") == "a\\ b\\,c\\=d"
    assert escape_key("back\\slash") == "back\\\\slash"
    assert escape_key("two\nlines") == "two lines"


def test_timestamp_is_exact_nanoseconds() -> None:
    t = datetime(2026, 11, 22, 1, 2, 3, 999999, tzinfo=UTC)
    assert timestamp_ns(t) == 1_795_309_323_999_999_000
    assert timestamp_ns(datetime(1970, 1, 1, tzinfo=UTC)) == 0


def test_uplink_line_has_family_tags_measurements_and_radio_fields() -> None:
    line = format_uplink(uplink(7))
    head, fields, ts = line.split(" ")
    assert head == "water,application=app-1,codec=netvox-r718h,dev_eui=70b3d57ed0000001,family=water,tenant=tenant-a"
    assert fields.split(",") == [
        "volume=19.5", "leak=false", "rssi=-97.0", "snr=4.5", "spreading_factor=9i", "gateway_count=2i", "f_cnt=7i",
    ]
    assert int(ts) == timestamp_ns(uplink(7).time)


def test_unknown_family_goes_to_other_and_empty_tags_are_left_out() -> None:
    assert measurement_for(None) == "other"
    assert measurement_for("gas") == "other"
    line = format_uplink(uplink(1, device(family=None, application_id=None)))
    assert line.startswith("other,codec=netvox-r718h,dev_eui=")
    assert "application=" not in line


def test_integer_measurements_are_written_as_floats_and_non_finite_left_out() -> None:
    line = format_uplink(uplink(1, measurements={"count": (3, None), "bad": (float("inf"), None)}))
    assert " count=3," in line  # no "i" suffix: line protocol reads it as a float
    assert "bad=" not in line


def test_measurement_named_like_a_radio_field_wins_and_no_gateway_is_fine() -> None:
    line = format_uplink(uplink(1, measurements={"rssi": (-50.0, "dBm")}))
    assert line.split(" ")[1] == "rssi=-50.0,snr=4.5,spreading_factor=9i,gateway_count=2i,f_cnt=1i"
    bare = uplink(2)
    line = format_uplink(type(bare)(**{**{f: getattr(bare, f) for f in bare.__slots__}, "rx": []}))
    assert line.split(" ")[1] == "volume=14.5,leak=false,spreading_factor=9i,gateway_count=0i,f_cnt=2i"


def test_timestamp_of_naive_and_aware_times_agree() -> None:
    t = datetime(2026, 11, 22, 1, 2, 3, 999999)
    assert timestamp_ns(t) == timestamp_ns(t.replace(tzinfo=UTC))


def test_same_uplink_formats_identically_for_idempotent_replays() -> None:
    assert format_uplink(uplink(5)) == format_uplink(uplink(5))


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r")))
def test_escaped_keys_round_trip_and_hide_every_delimiter(text: str) -> None:
    escaped = escape_key(text)
    assert _unescape(escaped) == text
    # with escape pairs removed, no delimiter is left to split the line
    assert not set(re.sub(r"\\.", "", escaped)) & {",", "=", " "}
