"""``lora-city frame decode|encode`` through the real Typer app (and once through the installed console script)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lora_city.cli.main import app
from tests.unit.lorawan.vectors import load_vectors

runner = CliRunner()
NWK = "44024241ed4ce9a68c6a8bc055233fd3"
APP = "ec925802ae430ca77fd3dd73cb2cc588"
UPLINK = "40f17dbe4900020001954378762b11ff0d"


def _vector(name: str) -> dict[str, Any]:
    return next(v for v in load_vectors() if v["name"] == name)


def test_decode_uplink_with_keys() -> None:
    result = runner.invoke(app, ["frame", "decode", UPLINK, "--nwk-s-key", NWK, "--app-s-key", APP])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["mtype"] == "UnconfirmedDataUp"
    assert (out["dev_addr"], out["f_cnt"], out["f_port"], out["f_opts"]) == ("49be7df1", 2, 1, "")
    assert out["f_ctrl"] == {
        "adr": False,
        "adr_ack_req": False,
        "ack": False,
        "class_b": False,
        "f_opts_len": 0,
    }
    assert (out["frm_payload"], out["mic"], out["mic_valid"]) == ("74657374", "2b11ff0d", True)


def test_decode_without_keys_and_with_wrong_key() -> None:
    out = json.loads(runner.invoke(app, ["frame", "decode", UPLINK]).stdout)
    assert (out["frm_payload"], out["mic_valid"]) == ("95437876", None)
    out = json.loads(runner.invoke(app, ["frame", "decode", UPLINK, "--nwk-s-key", APP]).stdout)
    assert out["mic_valid"] is False


def test_decode_mac_commands_in_fopts_and_fport0() -> None:
    v = _vector("brocaar_confirmed_up_fopts_devstatusans")
    out = json.loads(runner.invoke(app, ["frame", "decode", v["phy_hex"]]).stdout)
    assert out["mac_commands"] == [{"cid": 6, "name": "DevStatusAns", "battery": 115, "margin": 7}]
    v = _vector("brocaar_up_fport0_macs")
    out = json.loads(
        runner.invoke(app, ["frame", "decode", v["phy_hex"], "--nwk-s-key", v["keys"]["NwkSKey"]]).stdout
    )
    assert [c["name"] for c in out["mac_commands"]] == ["LinkCheckReq", "LinkADRAns"]
    assert out["mic_valid"] is True


def test_decode_1_1_downlink_decrypts_fopts() -> None:
    v = _vector("brocaar_1_1_downlink_encrypted_fopts_nfcnt")
    args = ["frame", "decode", v["phy_hex"], "--lorawan", "1.1", "--conf-f-cnt", "1"]
    args += ["--s-nwk-s-int-key", v["keys"]["SNwkSIntKey"], "--nwk-s-enc-key", v["keys"]["NwkSEncKey"]]
    out = json.loads(runner.invoke(app, args).stdout)
    assert out["f_opts"] == "020701" and out["mic_valid"] is True
    assert out["mac_commands"] == [{"cid": 2, "name": "LinkCheckAns", "margin": 7, "gw_cnt": 1}]


def test_decode_join_request_and_accept() -> None:
    req = _vector("ttn_join_request_cc85")
    out = json.loads(
        runner.invoke(app, ["frame", "decode", req["phy_hex"], "--app-key", req["keys"]["AppKey"]]).stdout
    )
    assert (out["join_eui"], out["dev_eui"], out["dev_nonce"], out["mic_valid"]) == (
        "70b3d57ed00000dc",
        "00afee7cf5ed6f1e",
        52357,
        True,
    )
    acc = _vector("ttn_join_accept_cflist")
    args = ["frame", "decode", acc["phy_hex"], "--app-key", acc["keys"]["AppKey"], "--dev-nonce", "52357"]
    out = json.loads(runner.invoke(app, args).stdout)
    exp = acc["expected"]
    assert (out["net_id"], out["dev_addr"], out["join_nonce"], out["mic_valid"]) == (
        exp["net_id"],
        exp["dev_addr"],
        exp["app_nonce"],
        True,
    )
    assert out["cf_list_frequencies"] == exp["cflist_freqs_hz"]
    assert out["session_keys"] == {"nwk_s_key": exp["derived_NwkSKey"], "app_s_key": exp["derived_AppSKey"]}


@pytest.mark.parametrize("bad", ["40f17dbe49", "zz", "00", "", "20" + "00" * 10, "41" + "00" * 20])
def test_decode_bad_input_exits_2_with_one_stderr_line(bad: str) -> None:
    result = runner.invoke(app, ["frame", "decode", bad])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


def test_decode_line_mode_carries_on_after_a_bad_line() -> None:
    join = _vector("brocaar_join_accept_5704647")
    lines = [
        UPLINK,
        "not hex",
        json.dumps({"phy_payload": join["phy_hex"], "app_key": join["keys"]["AppKey"]}),
        "",
        "40f17dbe49",
        '{"phy_payload": 5}',
        UPLINK,
    ]
    result = runner.invoke(app, ["frame", "decode", "--nwk-s-key", NWK], input="\n".join(lines) + "\n")
    assert result.exit_code == 0
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 6
    assert out[0]["mic_valid"] is True and out[5]["mic_valid"] is True
    assert "phy_payload" in out[1]["error"]
    assert out[2]["dev_addr"] == join["expected"]["dev_addr"] and out[2]["mic_valid"] is True
    assert "truncated" in out[3]["error"] and "byte 5" in out[3]["error"]
    assert "phy_payload" in out[4]["error"]


def test_encode_is_the_inverse_of_decode() -> None:
    frame = {
        "mtype": "ConfirmedDataDown", "dev_addr": "26011767", "f_cnt": 11, "f_ctrl": {"adr": True, "ack": True},
        "f_port": 5, "frm_payload": "cafe", "mac_commands": [{"name": "DevStatusReq"}, {"name": "DutyCycleReq",
        "max_duty_cycle": 3}], "nwk_s_key": NWK, "app_s_key": APP,
    }  # fmt: skip
    result = runner.invoke(app, ["frame", "encode", json.dumps(frame)])
    assert result.exit_code == 0, result.output
    phy = result.stdout.strip()
    out = json.loads(
        runner.invoke(app, ["frame", "decode", phy, "--nwk-s-key", NWK, "--app-s-key", APP]).stdout
    )
    assert out["mtype"] == "ConfirmedDataDown" and out["mic_valid"] is True
    assert (out["f_cnt"], out["f_port"], out["frm_payload"]) == (11, 5, "cafe")
    assert out["f_ctrl"]["adr"] and out["f_ctrl"]["ack"] and not out["f_ctrl"]["f_pending"]
    assert [c["name"] for c in out["mac_commands"]] == ["DevStatusReq", "DutyCycleReq"]


def test_encode_reproduces_vectors() -> None:
    v = _vector("lp_uplink_unconfirmed_test")
    frame = {"mtype": "UnconfirmedDataUp", "dev_addr": "49be7df1", "f_cnt": 2, "f_port": 1, "frm_payload": "74657374",
             "nwk_s_key": NWK, "app_s_key": APP}  # fmt: skip
    assert runner.invoke(app, ["frame", "encode", json.dumps(frame)]).stdout.strip() == v["phy_hex"]
    req = _vector("brocaar_join_request_4141")
    e = req["expected"]
    frame = {"mtype": "JoinRequest", "join_eui": e["join_eui"], "dev_eui": e["dev_eui"], "dev_nonce": e["dev_nonce"],
             "app_key": req["keys"]["AppKey"]}  # fmt: skip
    assert runner.invoke(app, ["frame", "encode", json.dumps(frame)]).stdout.strip() == req["phy_hex"]
    acc = _vector("ttn_join_accept_cflist")
    e = acc["expected"]
    frame = {"mtype": "JoinAccept", "join_nonce": e["app_nonce"], "net_id": e["net_id"], "dev_addr": e["dev_addr"],
             "dl_settings": {"rx2_dr": 3}, "rx_delay": 1, "cf_list_frequencies": e["cflist_freqs_hz"],
             "app_key": acc["keys"]["AppKey"]}  # fmt: skip
    assert runner.invoke(app, ["frame", "encode", json.dumps(frame)]).stdout.strip() == acc["phy_hex"]


def test_encode_errors() -> None:
    result = runner.invoke(app, ["frame", "encode", '{"mtype": "UnconfirmedDataUp"}'])
    assert result.exit_code == 2 and "dev_addr" in result.stderr
    lines = '{"mtype":"Nope"}\n{"mtype":"UnconfirmedDataUp","dev_addr":"01020304","f_cnt":70000}\n[1]\n'
    lines += '{"mtype":"UnconfirmedDataUp","dev_addr":"01020304"}\n'
    result = runner.invoke(app, ["frame", "encode"], input=lines)
    out = result.stdout.splitlines()
    assert result.exit_code == 0 and len(out) == 4
    assert "MType" in json.loads(out[0])["error"] and "FCnt" in json.loads(out[1])["error"]
    assert "error" in json.loads(out[2])
    assert out[3] == "400403020100000000000000"


def test_console_script_exit_status() -> None:
    # The console script that scripts/install.sh puts beside the interpreter running the tests (the venv's bin).
    script = str(Path(sys.executable).parent / "lora-city")
    ok = subprocess.run([script, "frame", "decode", UPLINK], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and json.loads(ok.stdout)["dev_addr"] == "49be7df1"
    bad = subprocess.run([script, "frame", "decode", "00"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stdout == "" and len(bad.stderr.splitlines()) == 1
