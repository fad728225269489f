"""Virtual LoRaWAN 1.0.3 OTAA end-devices with real keys and real crypto, for the simulator, tests and the bench.

A ``VirtualDevice`` builds join-requests, opens the join-accept with its AppKey (checking the MIC and deriving
the session keys as a real device does, LoRaWAN 1.0.4 §6.2.5), sends data uplinks with a 32-bit FCnt and a valid
MIC, and reads downlinks addressed to it (MIC checked, FRMPayload decrypted, MAC commands parsed), answering
DevStatusReq and LinkADRReq on its next uplink like firmware would.

Payloads are valid for the city's three families, in the vendors' documented formats:
streetlight ``milesight-ws558`` (FPort 85 channel records), water ``milesight-em300-di`` (FPort 85, battery and
pulse count), flood ``dragino-ldds75`` (FPort 2: battery mV, distance mm, interrupt, temperature, sensor flag).
"""

from __future__ import annotations

import os
import random
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lora_city.lorawan.crypto import (
    data_mic_10,
    decrypt_join_accept,
    encrypt_frm_payload,
    join_accept_mic_10,
    join_request_mic,
)
from lora_city.lorawan.errors import LoRaWANError
from lora_city.lorawan.frames import (
    DataFrame,
    FCtrl,
    JoinRequest,
    MType,
    parse_join_accept,
    parse_phy_payload,
)
from lora_city.lorawan.keys import derive_session_keys_10
from lora_city.lorawan.mac import MacCommand, encode_mac_commands, parse_mac_commands
from lora_city.simulate.readings import PayloadSource

CODECS = ("milesight-ws558", "milesight-em300-di", "dragino-ldds75")


def streetlight_payload(rng: random.Random) -> tuple[int, bytes]:
    """Milesight WS558 periodic report: voltage, active power, power factor, energy, current, switches."""
    voltage = rng.randint(2250, 2350)  # 0.1 V
    power = rng.randint(0, 400)  # W
    energy = rng.randint(1_000, 900_000)  # Wh
    current = rng.randint(0, 1800)  # mA
    switches = rng.randint(0, 0xFF)
    body = (
        b"\x03\x74" + struct.pack("<H", voltage) + b"\x04\x80" + struct.pack("<I", power)
        + b"\x05\x81" + bytes((rng.randint(80, 100),)) + b"\x06\x83" + struct.pack("<I", energy)
        + b"\x07\xc9" + struct.pack("<H", current) + b"\x08\x31\x00" + bytes((switches,))
    )
    return 85, body


def water_payload(rng: random.Random, pulses: int | None = None) -> tuple[int, bytes]:
    """Milesight EM300-DI: battery (%) then the pulse counter (u32 LE)."""
    count = pulses if pulses is not None else rng.randint(0, 1_000_000)
    return 85, b"\x01\x75" + bytes((rng.randint(20, 100),)) + b"\x05\xc8" + struct.pack("<I", count)


def flood_payload(rng: random.Random) -> tuple[int, bytes]:
    """Dragino LDDS75: battery mV, distance mm, interrupt flag, DS18B20 temperature (0.1 °C), sensor flag."""
    return 2, struct.pack(">HHBhB", rng.randint(3000, 3600), rng.randint(280, 7500), 0, rng.randint(-100, 300), 1)


PAYLOADS = {"milesight-ws558": streetlight_payload, "milesight-em300-di": water_payload,
            "dragino-ldds75": flood_payload}


@dataclass(frozen=True, slots=True)
class ReceivedDownlink:
    f_cnt: int
    f_port: int | None
    payload: bytes  # decrypted FRMPayload
    ack: bool
    confirmed: bool
    f_pending: bool
    mac_commands: list[MacCommand]


@dataclass(slots=True)
class VirtualDevice:
    dev_eui: str
    join_eui: str
    app_key: bytes
    codec: str = "milesight-em300-di"
    device_class: str = "A"
    dev_nonce: int = field(default_factory=lambda: random.getrandbits(15))
    dev_addr: str | None = None
    nwk_s_key: bytes = b""
    app_s_key: bytes = b""
    f_cnt_up: int = 0
    last_f_cnt_down: int | None = None
    rx_delay: int = 0
    rx2_dr: int = 0
    cf_list: bytes = b""
    dr: int = 5
    tx_power_index: int = 0
    nb_trans: int = 1
    pending_answers: list[MacCommand] = field(default_factory=list)
    ack_next: bool = False  # set when a confirmed downlink arrived: the next uplink carries ACK
    # Believable readings as a function of time (lora_city.simulate.readings); None: random codec-valid payloads
    source: PayloadSource | None = None

    @classmethod
    def generate(cls, codec: str = "milesight-em300-di", device_class: str = "A",
               rng: random.Random | None = None) -> VirtualDevice:
        r = rng or random.Random(int.from_bytes(os.urandom(8), "big"))
        return cls(f"{r.getrandbits(64):016x}", f"{r.getrandbits(64):016x}", r.getrandbits(128).to_bytes(16, "big"),
                   codec=codec, device_class=device_class, dev_nonce=r.getrandbits(15))

    @property
    def joined(self) -> bool:
        return self.dev_addr is not None

    # --- join ------------------------------------------------------------------------------------------

    def join_request(self) -> bytes:
        self.dev_nonce = (self.dev_nonce + 1) & 0xFFFF  # 1.0.4 §6.2.4: a counter, never reused
        req = JoinRequest(self.join_eui, self.dev_eui, self.dev_nonce)
        msg = req.to_bytes()[:-4]
        return msg + join_request_mic(self.app_key, msg)

    def accept(self, phy: bytes) -> bool:
        """Open a join-accept; True (and joined) when it is ours: MIC valid under our AppKey."""
        try:
            plain = decrypt_join_accept(self.app_key, phy)
            ja = parse_join_accept(plain)
        except LoRaWANError:
            return False
        if join_accept_mic_10(self.app_key, plain[:-4]) != plain[-4:]:
            return False
        keys = derive_session_keys_10(self.app_key, ja.join_nonce, ja.net_id, self.dev_nonce)
        self.dev_addr, self.nwk_s_key, self.app_s_key = ja.dev_addr, keys.nwk_s_key, keys.app_s_key
        self.f_cnt_up, self.last_f_cnt_down = 0, None
        self.rx_delay, self.rx2_dr, self.cf_list = ja.rx_delay, ja.dl_settings.rx2_dr, ja.cf_list
        return True

    # --- data ------------------------------------------------------------------------------------------

    def uplink(self, f_port: int | None = None, payload: bytes | None = None, *, confirmed: bool = False,
               f_cnt: int | None = None, adr: bool = True, rng: random.Random | None = None,
               when: datetime | None = None) -> bytes:
        """The next data uplink (payload from the device's source, else a random one of its codec, unless given).
        Consumes one FCnt."""
        assert self.dev_addr is not None, "join first"
        if payload is None and self.source is not None:
            f_port, payload = self.source.payload(when or datetime.now(UTC))
        elif payload is None:
            f_port, payload = PAYLOADS[self.codec](rng or random.Random())
        count = self.f_cnt_up if f_cnt is None else f_cnt
        if f_cnt is None:
            self.f_cnt_up += 1
        f_opts = encode_mac_commands(self.pending_answers)[:15] if self.pending_answers else b""
        self.pending_answers = []
        frm = encrypt_frm_payload(self.app_s_key, self.dev_addr, count, True, payload) if payload else b""
        frame = DataFrame(
            MType.CONFIRMED_DATA_UP if confirmed else MType.UNCONFIRMED_DATA_UP, self.dev_addr,
            FCtrl(adr=adr, ack=self.ack_next), count & 0xFFFF, f_opts, f_port if payload else None, frm,
        )
        self.ack_next = False
        msg = frame.mic_input()
        return msg + data_mic_10(self.nwk_s_key, msg, self.dev_addr, count, True)

    def receive(self, phy: bytes) -> ReceivedDownlink | None:
        """A downlink addressed to us with a valid MIC, decrypted; None otherwise (another device's)."""
        if self.dev_addr is None:
            return None
        try:
            frame = parse_phy_payload(phy)
        except LoRaWANError:
            return None
        if not isinstance(frame, DataFrame) or frame.uplink or frame.dev_addr != self.dev_addr:
            return None
        base = (self.last_f_cnt_down or 0) & 0xFFFF0000
        f_cnt = base | frame.f_cnt
        if data_mic_10(self.nwk_s_key, phy[:-4], self.dev_addr, f_cnt, False) != frame.mic:
            return None
        self.last_f_cnt_down = f_cnt
        payload = b""
        if frame.frm_payload:
            key = self.nwk_s_key if frame.f_port == 0 else self.app_s_key
            payload = encrypt_frm_payload(key, self.dev_addr, f_cnt, False, frame.frm_payload)
        raw = payload if frame.f_port == 0 else frame.f_opts
        commands = parse_mac_commands(raw, uplink=False) if raw else []
        self._answer(commands)
        if frame.confirmed:
            self.ack_next = True
        return ReceivedDownlink(f_cnt, frame.f_port, payload if frame.f_port else b"", frame.f_ctrl.ack,
                                frame.confirmed, frame.f_ctrl.f_pending, commands)

    def _answer(self, commands: list[MacCommand]) -> None:
        for cmd in commands:
            if cmd.name == "DevStatusReq":
                self.pending_answers.append(MacCommand("DevStatusAns", {"battery": 200, "margin": 9}))
            elif cmd.name == "LinkADRReq":
                self.dr = int(cmd.fields.get("data_rate", self.dr))
                self.tx_power_index = int(cmd.fields.get("tx_power", self.tx_power_index))
                self.nb_trans = int(cmd.fields.get("nb_trans", 1)) or 1
                self.pending_answers.append(MacCommand("LinkADRAns", {
                    "channel_mask_ack": 1, "data_rate_ack": 1, "power_ack": 1}))
