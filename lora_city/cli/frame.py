"""``lora-city frame decode|encode``: inspect and build LoRaWAN frames from the command line.

With an argument, one frame: JSON (decode) or hex (encode) on stdout; bad input exits 2 with one line on stderr.
Without, one frame per stdin line, one answer per stdout line, and an ``{"error": "..."}`` line for a bad frame, so
a tool can check thousands of frames in one process. A decode line is either hex or a JSON object
``{"phy_payload": "<hex>", <any option, e.g. "nwk_s_key": "<hex>">}`` overriding the command-line options.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from lora_city.lorawan.compose import compose_phy_payload
from lora_city.lorawan.describe import DecodeOptions, describe_phy_payload
from lora_city.lorawan.errors import LoRaWANError, parse_hex

frame_app = typer.Typer(help="Decode and encode LoRaWAN PHYPayloads (JSON <-> hex).", no_args_is_help=True)

KeyOpt = Annotated[str | None, typer.Option(help="16-byte AES key, hex")]


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _decode_line(line: str, base: DecodeOptions) -> dict[str, Any]:
    if line.startswith("{"):
        obj = json.loads(line)
        if not isinstance(obj, dict) or not isinstance(obj.get("phy_payload"), str):
            raise LoRaWANError("phy_payload", "a JSON line needs a phy_payload hex string")
        phy = parse_hex(obj.pop("phy_payload"), "phy_payload")
        return describe_phy_payload(phy, DecodeOptions.from_mapping(obj, base))
    return describe_phy_payload(parse_hex(line, "phy_payload"), base)


def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


@frame_app.command()
def decode(
    phy_hex: Annotated[
        str | None, typer.Argument(metavar="[HEX]", help="PHYPayload hex; omit to read stdin lines")
    ] = None,
    nwk_s_key: KeyOpt = None,
    app_s_key: KeyOpt = None,
    app_key: KeyOpt = None,
    lorawan: Annotated[str, typer.Option(help="1.0 or 1.1")] = "1.0",
    nwk_key: KeyOpt = None,
    f_nwk_s_int_key: KeyOpt = None,
    s_nwk_s_int_key: KeyOpt = None,
    nwk_s_enc_key: KeyOpt = None,
    last_f_cnt: Annotated[int | None, typer.Option(help="last 32-bit FCnt, to extend the wire FCnt")] = None,
    conf_f_cnt: Annotated[int, typer.Option(help="1.1 MIC: FCnt acknowledged by ACK")] = 0,
    tx_dr: Annotated[int, typer.Option(help="1.1 uplink MIC: data rate")] = 0,
    tx_ch: Annotated[int, typer.Option(help="1.1 uplink MIC: channel index")] = 0,
    dev_nonce: Annotated[
        int | None, typer.Option(help="join-accept: DevNonce, to derive session keys")
    ] = None,
    join_eui: Annotated[str | None, typer.Option(help="join-accept 1.1: JoinEUI")] = None,
    dev_eui: Annotated[str | None, typer.Option(help="join-accept 1.1: DevEUI (for JSIntKey)")] = None,
) -> None:
    """Print a frame as JSON: fields, MAC commands, decrypted payload and MIC check when keys are given."""
    raw = {
        "lorawan": lorawan, "nwk_s_key": nwk_s_key, "app_s_key": app_s_key, "app_key": app_key, "nwk_key": nwk_key,
        "f_nwk_s_int_key": f_nwk_s_int_key, "s_nwk_s_int_key": s_nwk_s_int_key, "nwk_s_enc_key": nwk_s_enc_key,
        "last_f_cnt": last_f_cnt, "conf_f_cnt": conf_f_cnt, "tx_dr": tx_dr, "tx_ch": tx_ch, "dev_nonce": dev_nonce,
        "join_eui": join_eui, "dev_eui": dev_eui,
    }  # fmt: skip
    try:
        options = DecodeOptions.from_mapping(raw)
    except LoRaWANError as exc:
        _fail(str(exc))
    if phy_hex is not None:
        try:
            result = _decode_line(phy_hex.strip(), options)
        except (LoRaWANError, ValueError) as exc:
            _fail(str(exc))
        _emit(result)
        return
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            _emit(_decode_line(line, options))
        except (LoRaWANError, ValueError) as exc:  # json.JSONDecodeError is a ValueError
            _emit({"error": str(exc)})


def _encode_line(text: str) -> str:
    obj = json.loads(text)
    return compose_phy_payload(obj).hex()


@frame_app.command()
def encode(
    frame_json: Annotated[
        str | None, typer.Argument(metavar="[JSON]", help="frame JSON; omit to read stdin lines")
    ] = None,
) -> None:
    """Build a PHYPayload from JSON (the shape `decode` prints, plus keys such as "nwk_s_key") and print its hex."""
    if frame_json is not None:
        try:
            result = _encode_line(frame_json)
        except (LoRaWANError, ValueError) as exc:
            _fail(str(exc))
        typer.echo(result)
        return
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            sys.stdout.write(_encode_line(line) + "\n")
        except (LoRaWANError, ValueError) as exc:
            _emit({"error": str(exc)})
            continue
        sys.stdout.flush()
