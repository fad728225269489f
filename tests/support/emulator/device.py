"""An emulated LoRaWAN end-device (class A, optionally C) following TS001-1.0.4 / TS001-1.1 and RP002-1.0.4 EU868.

It keeps the state a real device keeps (counters, keys, channels, RX parameters, pending and "sticky" MAC
answers), builds every uplink itself and accepts a downlink only as firmware would: right DevAddr, valid MIC,
counter that moved forward, FRMPayload and (1.1) FOpts decrypted, MAC commands parsed and answered on the next
uplink. Nothing here comes from ``lora_city``; when this device and the server talk, two readings of the
specification agree.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from tests.support.emulator import crypto as c
from tests.support.emulator import mac
from tests.support.emulator.mac import Command

# RP002-1.0.4 §2.4.2, §2.4.3, §2.4.6, §2.4.7: EU863-870 as a device knows it.
DEFAULT_CHANNELS = (868_100_000, 868_300_000, 868_500_000)
DATA_RATES = {0: (12, 125_000), 1: (11, 125_000), 2: (10, 125_000), 3: (9, 125_000), 4: (8, 125_000),
              5: (7, 125_000), 6: (7, 250_000)}
MAX_MAC_PAYLOAD = {0: 59, 1: 59, 2: 59, 3: 123, 4: 250, 5: 250, 6: 250, 7: 250}  # M, not repeater compatible
RX2_FREQUENCY, RX2_DR = 869_525_000, 0
RECEIVE_DELAY1, JOIN_ACCEPT_DELAY1 = 1, 5  # RP002 §3: RECEIVE_DELAY2 and JOIN_ACCEPT_DELAY2 are one second more
ADR_ACK_LIMIT, ADR_ACK_DELAY = 64, 32  # RP002 §3
BAND = (863_000_000, 870_000_000)

UNCONFIRMED_UP, CONFIRMED_UP, UNCONFIRMED_DOWN, CONFIRMED_DOWN = 2, 4, 3, 5
JOIN_REQUEST, JOIN_ACCEPT, REJOIN_REQUEST = 0, 1, 6
# 1.0.4 §5.5, §5.7 (5.8), §5.10 (5.9), and §13.2 PingSlotChannelAns (class B)
STICKY = ("RXParamSetupAns", "RXTimingSetupAns", "DlChannelAns", "PingSlotChannelAns")


@dataclass(frozen=True, slots=True)
class Uplink:
    """A frame the device puts on the air, with the radio parameters it used."""

    phy: bytes
    frequency: int
    dr: int
    f_cnt: int | None = None  # data frames
    tx_ch: int = 0

    @property
    def sf_bw(self) -> tuple[int, int]:
        return DATA_RATES[self.dr]


@dataclass(frozen=True, slots=True)
class Downlink:
    """A data downlink the device accepted."""

    f_cnt: int
    f_port: int | None
    payload: bytes  # decrypted FRMPayload (application data; MAC commands on FPort 0 are in ``commands``)
    ack: bool
    confirmed: bool
    f_pending: bool
    commands: list[Command]
    mac_payload_size: int  # FHDR + FPort + FRMPayload: what RP002's M limits
    f_opts_size: int


@dataclass(frozen=True, slots=True)
class ForcedRejoin:
    """What a ForceRejoinReq asks for (1.1 §5.13): the rejoin-request type to send (RejoinType 0 and 1 both mean
    type 0; 2 means type 2), its data rate, how many retries after the first and the retry period exponent."""

    rejoin_type: int
    dr: int
    max_retries: int
    period: int

    @property
    def transmissions(self) -> int:
        return self.max_retries + 1

    def delay_range_s(self) -> tuple[int, int]:
        """Between two transmissions: 32 s x 2^Period, plus a random delay of 0 to 32 s."""
        base = 32 * (1 << self.period)
        return base, base + 32


@dataclass
class Channel:
    frequency: int
    min_dr: int = 0
    max_dr: int = 5
    dl_frequency: int | None = None  # DlChannelReq (1.0.4 §5.10)


@dataclass
class Device:
    dev_eui: str
    join_eui: str
    app_key: bytes
    nwk_key: bytes | None = None  # LoRaWAN 1.1 only
    mac_version: str = "1.0.4"  # "1.0.3" | "1.0.4" | "1.1"
    rng: random.Random = field(default_factory=random.Random)
    device_class: str = "A"
    # join state
    dev_nonce: int = 0  # last used (1.0.4 / 1.1: a counter from 0; 1.0.3: random)
    used_dev_nonces: set[int] = field(default_factory=set)
    last_join_nonce: int | None = None
    rj_count0: int = 0
    rj_count1: int = 0
    opt_neg: bool = False
    session_11: bool = False  # 1.1 framing: after a 1.1 join with OptNeg set, or 1.1 ABP (FOpts encrypted, MIC in two)
    # session
    dev_addr: str | None = None
    net_id: str | None = None
    f_nwk_s_int_key: bytes = b""  # = NwkSKey for 1.0
    s_nwk_s_int_key: bytes = b""
    nwk_s_enc_key: bytes = b""
    app_s_key: bytes = b""
    f_cnt_up: int = 0  # the next uplink's counter
    n_f_cnt_down: int | None = None  # last accepted (1.0: the only downlink counter)
    a_f_cnt_down: int | None = None
    # radio parameters (RP002 defaults until the network changes them)
    channels: dict[int, Channel] = field(default_factory=dict)
    ch_mask: set[int] = field(default_factory=lambda: {0, 1, 2})
    rx1_delay: int = RECEIVE_DELAY1
    rx1_dr_offset: int = 0
    rx2_dr: int = RX2_DR
    rx2_frequency: int = RX2_FREQUENCY
    dr: int = 5
    tx_power: int = 0
    nb_trans: int = 1
    max_duty_cycle: int = 0
    adr: bool = True
    adr_ack_cnt: int = 0
    adr_ack_limit: int = ADR_ACK_LIMIT  # 1.1 §5.11 ADRParamSetupReq: 2^Limit_exp
    adr_ack_delay: int = ADR_ACK_DELAY  # 2^Delay_exp
    # 1.1 §5.14 RejoinParamSetupReq: a rejoin-request type 0 at least every ``rejoin_every`` uplinks (2^(MaxCountN
    # + 4)); a device without a clock answers TimeOK 0 and keeps only the count
    has_clock: bool = True
    rejoin_every: int | None = None
    uplinks_since_rejoin: int = 0
    # MAC layer
    pending: list[Command] = field(default_factory=list)  # answers for the next uplink only
    sticky: list[Command] = field(default_factory=list)  # repeated until a class A downlink arrives
    rekey_pending: bool = False  # 1.1 OTAA: RekeyInd in every uplink until RekeyConf (1.1 §5.10)
    reset_pending: bool = False  # 1.1 ABP: ResetInd until ResetConf (1.1 §5.1)
    ack_next: int | None = None  # FCnt (32-bit) of a confirmed downlink to acknowledge on the next uplink
    last_confirmed_up: int | None = None  # FCnt of our last confirmed uplink (1.1 downlink ConfFCnt)
    battery: int = 128
    margin: int = 10
    received: list[Command] = field(default_factory=list)  # every MAC command the network sent us
    # class B (1.0.4 §13): where the ping slots and the beacon are (None: the region's default, RP002 §2.4.8)
    ping_slot_frequency: int | None = None
    ping_slot_dr: int | None = None
    beacon_frequency: int | None = None
    force_rejoin: ForcedRejoin | None = None  # the last ForceRejoinReq, until its rejoin-request is sent
    next_channel: int = 0
    last_uplink: Uplink | None = None

    def __post_init__(self) -> None:
        if not self.channels:
            self.channels = {i: Channel(f) for i, f in enumerate(DEFAULT_CHANNELS)}
        if self.mac_version == "1.0.3" and not self.dev_nonce:
            self.dev_nonce = self.rng.getrandbits(16)

    @classmethod
    def generate(cls, mac_version: str = "1.0.4", rng: random.Random | None = None, **kw: object) -> Device:
        r = rng or random.Random()
        nwk_key = r.getrandbits(128).to_bytes(16, "big") if mac_version.startswith("1.1") else None
        return cls(f"{r.getrandbits(64):016x}", f"{r.getrandbits(64):016x}", r.getrandbits(128).to_bytes(16, "big"),
                   nwk_key, mac_version, r, **kw)  # type: ignore[arg-type]

    @property
    def is_11(self) -> bool:
        return self.mac_version.startswith("1.1")

    @property
    def joined(self) -> bool:
        return self.dev_addr is not None

    @property
    def rejoin_due(self) -> bool:
        """1.1 §5.14: the uplinks since the last rejoin-request reached the period the network set."""
        return self.rejoin_every is not None and self.uplinks_since_rejoin >= self.rejoin_every

    # --- activation ------------------------------------------------------------------------------------

    def personalise(self, dev_addr: str, *, nwk_s_key: bytes | None = None, app_s_key: bytes,
                    f_nwk_s_int_key: bytes | None = None, s_nwk_s_int_key: bytes | None = None,
                    nwk_s_enc_key: bytes | None = None, f_cnt_up: int = 0) -> None:
        """ABP: the session is written into the device (1.0.4 §6.3; 1.1 §6.2 ResetInd follows)."""
        self.dev_addr = dev_addr
        if self.is_11:
            assert f_nwk_s_int_key and s_nwk_s_int_key and nwk_s_enc_key
            self.f_nwk_s_int_key, self.s_nwk_s_int_key, self.nwk_s_enc_key = (
                f_nwk_s_int_key, s_nwk_s_int_key, nwk_s_enc_key)
            self.reset_pending = True
            self.session_11 = True
        else:
            assert nwk_s_key
            self.f_nwk_s_int_key = self.s_nwk_s_int_key = self.nwk_s_enc_key = nwk_s_key
        self.app_s_key = app_s_key
        self.f_cnt_up = f_cnt_up

    def _next_dev_nonce(self) -> int:
        if self.mac_version == "1.0.3":  # 1.0.3 §6.2.4: random, never one the server has seen
            nonce = self.rng.getrandbits(16)
            while nonce in self.used_dev_nonces:
                nonce = self.rng.getrandbits(16)
        else:  # 1.0.4 §6.2.5 / 1.1 §6.2.2: a counter from 0, never reused for a JoinEUI
            nonce = 0 if not self.used_dev_nonces else self.dev_nonce + 1
        self.used_dev_nonces.add(nonce)
        self.dev_nonce = nonce
        return nonce

    def join_request(self, *, dev_nonce: int | None = None, dr: int = 0) -> Uplink:
        """MHDR | JoinEUI | DevEUI | DevNonce | MIC, the MIC under AppKey (1.0) or NwkKey (1.1 §6.2.2)."""
        nonce = self._next_dev_nonce() if dev_nonce is None else dev_nonce
        self.dev_nonce = nonce
        msg = bytes((JOIN_REQUEST << 5,)) + c.le(self.join_eui) + c.le(self.dev_eui) + nonce.to_bytes(2, "little")
        root = self.nwk_key if self.is_11 else self.app_key
        assert root is not None
        self._join_kind = (0xFF, nonce)
        return Uplink(msg + c.cmac(root, msg)[:4], self._channel_frequency(), dr)

    def rejoin_request(self, rejoin_type: int, *, dr: int = 0) -> Uplink:
        """1.1 §6.2.4: type 0/2 NetID | DevEUI | RJcount0 under SNwkSIntKey; type 1 JoinEUI | DevEUI | RJcount1
        under JSIntKey."""
        assert self.is_11 and self.nwk_key is not None and self.net_id is not None
        head = bytes((REJOIN_REQUEST << 5, rejoin_type))
        if rejoin_type in (0, 2):
            count = self.rj_count0
            self.rj_count0 += 1
            msg = head + c.le(self.net_id) + c.le(self.dev_eui) + count.to_bytes(2, "little")
            key = self.s_nwk_s_int_key
        else:
            count = self.rj_count1
            self.rj_count1 += 1
            msg = head + c.le(self.join_eui) + c.le(self.dev_eui) + count.to_bytes(2, "little")
            key = c.js_keys(self.nwk_key, self.dev_eui)[0]
        self._join_kind = (rejoin_type, count)
        if rejoin_type == 0:
            self.uplinks_since_rejoin = 0  # the periodic rejoin's count starts again (1.1 §5.14)
        return Uplink(msg + c.cmac(key, msg)[:4], self._channel_frequency(), dr)

    def forced_rejoin_request(self) -> Uplink:
        """The rejoin-request a ForceRejoinReq asked for, of its type and at its DR (1.1 §5.13)."""
        assert self.force_rejoin is not None, "no ForceRejoinReq received"
        return self.rejoin_request(self.force_rejoin.rejoin_type, dr=self.force_rejoin.dr)

    def accept(self, phy: bytes) -> bool:
        """Open a join-accept answering our last join- or rejoin-request; True when valid and applied."""
        if len(phy) not in (17, 33) or phy[0] >> 5 != JOIN_ACCEPT:
            return False
        req_type, nonce = getattr(self, "_join_kind", (0xFF, self.dev_nonce))
        if self.is_11:
            assert self.nwk_key is not None
            js_int, js_enc = c.js_keys(self.nwk_key, self.dev_eui)
            key = self.nwk_key if req_type == 0xFF else js_enc  # 1.1 §6.2.3
        else:
            key = self.app_key
        plain = phy[:1] + c.aes_encrypt(key, phy[1:])  # the server "encrypts" with AES decrypt (§6.2.6)
        body, mic = plain[:-4], plain[-4:]
        join_nonce = int.from_bytes(body[1:4], "little")
        net_id = body[4:7][::-1].hex()
        dev_addr = body[7:11][::-1].hex()
        dl_settings, rx_delay, cf_list = body[11], body[12], body[13:]
        opt_neg = bool(dl_settings & 0x80) and self.is_11
        if opt_neg:
            expected = c.cmac(js_int, bytes((req_type,)) + c.le(self.join_eui) + nonce.to_bytes(2, "little")
                              + body)[:4]
        else:
            root = self.nwk_key if self.is_11 else self.app_key
            assert root is not None
            expected = c.cmac(root, body)[:4]
        if mic != expected:
            return False
        # 1.1 §6.2.3 and TR007 §4.13: JoinNonce must grow; 1.0.3 devices do not check it.
        if self.mac_version != "1.0.3" and self.last_join_nonce is not None and join_nonce <= self.last_join_nonce:
            return False
        self.last_join_nonce = join_nonce
        self.opt_neg = self.session_11 = opt_neg
        if opt_neg:
            assert self.nwk_key is not None
            (self.f_nwk_s_int_key, self.s_nwk_s_int_key, self.nwk_s_enc_key,
             self.app_s_key) = c.derive_11(self.nwk_key, self.app_key, join_nonce, self.join_eui, nonce)
            self.rekey_pending = True
        else:
            root = self.nwk_key if self.is_11 else self.app_key
            assert root is not None
            nwk_s_key, self.app_s_key = c.derive_10(root, join_nonce, net_id, nonce)
            self.f_nwk_s_int_key = self.s_nwk_s_int_key = self.nwk_s_enc_key = nwk_s_key
        self.dev_addr, self.net_id = dev_addr, net_id
        self.f_cnt_up, self.n_f_cnt_down, self.a_f_cnt_down = 0, None, None
        self.rj_count0 = 0  # 1.1 §6.2.4.1: RJcount0 restarts with every accepted join or rejoin
        if req_type != 2:  # rejoin type 2 keeps the radio parameters (1.1 §6.2.4)
            self.rx1_dr_offset, self.rx2_dr = (dl_settings >> 4) & 0x07, dl_settings & 0x0F
            self.rx1_delay = rx_delay & 0x0F or 1
            self.channels = {i: Channel(f) for i, f in enumerate(DEFAULT_CHANNELS)}
            self.ch_mask = {0, 1, 2}
            if cf_list and cf_list[15] == 0:  # RP002 §2.4.4: five extra channels, 24-bit 100 Hz units
                for i in range(5):
                    f = int.from_bytes(cf_list[3 * i:3 * i + 3], "little") * 100
                    if f:
                        self.channels[3 + i] = Channel(f)
                        self.ch_mask.add(3 + i)
            self.nb_trans, self.tx_power, self.max_duty_cycle = 1, 0, 0
            self.adr_ack_limit, self.adr_ack_delay, self.rejoin_every = ADR_ACK_LIMIT, ADR_ACK_DELAY, None
        self.uplinks_since_rejoin = 0
        self.pending, self.sticky, self.ack_next = [], [], None
        self.force_rejoin = None  # answered: no more retries (1.1 §5.13)
        return True

    # --- data ------------------------------------------------------------------------------------------

    def _channel_frequency(self, index: int | None = None) -> int:
        return self.channels[self._channel_index(index)].frequency

    def _channel_index(self, index: int | None = None) -> int:
        if index is not None:
            return index
        enabled = sorted(self.ch_mask & set(self.channels))
        return enabled[self.next_channel % len(enabled)]

    def uplink(self, f_port: int | None = None, payload: bytes = b"", *, confirmed: bool = False,
               commands: list[Command] | None = None, f_cnt: int | None = None, channel: int | None = None,
               dr: int | None = None, mac_in_payload: bool = False, adr_ack_req: bool = False,
               repeat: bool = False) -> Uplink:
        """The next data uplink. FOpts carry the pending answers (RekeyInd/ResetInd first in 1.1), then
        ``commands``; ``mac_in_payload`` puts them in an FPort-0 FRMPayload instead. ``repeat`` sends the
        previous frame again, byte for byte (NbTrans / confirmed retransmission, 1.0.4 §4.3.1.1)."""
        assert self.dev_addr is not None, "join or personalise first"
        if repeat:
            assert self.last_uplink is not None
            return self.last_uplink
        count = self.f_cnt_up if f_cnt is None else f_cnt
        if f_cnt is None:
            self.f_cnt_up += 1
            self.next_channel += 1
        ch = self._channel_index(channel)
        data_rate = self.dr if dr is None else dr
        answers: list[Command] = []
        if self.rekey_pending:
            answers.append(Command("RekeyInd", bytes((1,))))  # minor 1 = LoRaWAN x.1
        if self.reset_pending:
            answers.append(Command("ResetInd", bytes((1,))))
        answers += self.pending + self.sticky + list(commands or ())
        self.pending = []
        mac_bytes = mac.encode(answers, uplink=True)
        if len(mac_bytes) > 15:  # FOpts hold 15 bytes: the answers go alone on FPort 0, the data waits
            mac_in_payload = True
        ack = self.ack_next is not None
        conf_f_cnt = self.ack_next if self.ack_next is not None else 0
        self.ack_next = None
        if mac_in_payload and mac_bytes:
            f_opts, port, frm = b"", 0, c.payload_cipher(self.nwk_s_enc_key, self.dev_addr, count, False, mac_bytes)
        else:
            f_opts = mac_bytes
            if f_opts and self.session_11:
                f_opts = c.f_opts_cipher(self.nwk_s_enc_key, self.dev_addr, count, False, f_opts)
            port = f_port
            frm = c.payload_cipher(self.app_s_key if (port or 0) > 0 else self.nwk_s_enc_key, self.dev_addr, count,
                                   False, payload) if payload else b""
        if self.adr:
            self.adr_ack_cnt += 1
            # 1.0.4 §4.3.1.1: after ADR_ACK_LIMIT uplinks without a class A downlink the device asks for one
            adr_ack_req = adr_ack_req or self.adr_ack_cnt >= self.adr_ack_limit
        if f_cnt is None:
            self.uplinks_since_rejoin += 1
        # FCtrl bit 4 on an uplink is ClassB: a class B device locked on the beacon opens its ping slots
        # (TS001-1.0.4 §10 / 1.1 §4.3.1)
        f_ctrl = ((0x80 if self.adr else 0) | (0x40 if adr_ack_req else 0) | (0x20 if ack else 0)
                  | (0x10 if self.device_class == "B" else 0) | len(f_opts))
        mtype = CONFIRMED_UP if confirmed else UNCONFIRMED_UP
        msg = (bytes((mtype << 5,)) + c.le(self.dev_addr) + bytes((f_ctrl,)) + (count & 0xFFFF).to_bytes(2, "little")
               + f_opts + (bytes((port,)) if port is not None else b"") + frm)
        if self.session_11:
            mic = c.mic_11_up(self.f_nwk_s_int_key, self.s_nwk_s_int_key, msg, self.dev_addr, count,
                              conf_f_cnt=conf_f_cnt if ack else 0, tx_dr=data_rate, tx_ch=ch)
        else:
            mic = c.mic_10(self.f_nwk_s_int_key, msg, self.dev_addr, count, False)
        if confirmed:
            self.last_confirmed_up = count
        self.last_uplink = Uplink(msg + mic, self.channels[ch].frequency, data_rate, count, ch)
        return self.last_uplink

    def receive(self, phy: bytes) -> Downlink | None:
        """A data downlink addressed to us, accepted as firmware would, else None."""
        if self.dev_addr is None or len(phy) < 12 or phy[0] >> 5 not in (UNCONFIRMED_DOWN, CONFIRMED_DOWN):
            return None
        if phy[1:5][::-1].hex() != self.dev_addr:
            return None
        f_ctrl = phy[5]
        f_opts_len = f_ctrl & 0x0F
        f_opts = phy[8:8 + f_opts_len]
        rest = phy[8 + f_opts_len:-4]
        f_port = rest[0] if rest else None
        frm = rest[1:]
        ack = bool(f_ctrl & 0x20)
        framing_11 = self.session_11
        use_a = framing_11 and f_port is not None and f_port > 0
        last = self.a_f_cnt_down if use_a else self.n_f_cnt_down
        wire = int.from_bytes(phy[6:8], "little")
        f_cnt = ((last or 0) & 0xFFFF0000) | wire
        if last is not None and f_cnt <= last:
            f_cnt += 0x10000
        msg = phy[:-4]
        if framing_11:
            conf = (self.last_confirmed_up or 0) if ack else 0
            expected = c.mic_11_down(self.s_nwk_s_int_key, msg, self.dev_addr, f_cnt, conf_f_cnt=conf)
        else:
            expected = c.mic_10(self.f_nwk_s_int_key, msg, self.dev_addr, f_cnt, True)
        if expected != phy[-4:]:
            return None
        if use_a:
            self.a_f_cnt_down = f_cnt
        else:
            self.n_f_cnt_down = f_cnt
        if f_opts and framing_11:
            f_opts = c.f_opts_cipher(self.nwk_s_enc_key, self.dev_addr, f_cnt, True, f_opts, a_f_cnt_down=use_a)
        payload = b""
        if frm:
            key = self.app_s_key if (f_port or 0) > 0 else self.nwk_s_enc_key
            payload = c.payload_cipher(key, self.dev_addr, f_cnt, True, frm)
        raw = payload if f_port == 0 else f_opts
        commands = mac.decode(raw, uplink=False) if raw else []
        self.sticky = []  # any class A downlink ends the sticky answers (1.0.4 §5.5, §5.8, §5.10)
        self.adr_ack_cnt = 0
        self._answer(commands)
        confirmed = phy[0] >> 5 == CONFIRMED_DOWN
        if confirmed:
            self.ack_next = f_cnt & 0xFFFF
        if ack:
            self.last_confirmed_up = None
        return Downlink(f_cnt, f_port, payload if f_port else b"", ack, confirmed, bool(f_ctrl & 0x10), commands,
                        len(phy) - 5, f_opts_len)

    # --- MAC answers (TS001-1.0.4 §5, TS001-1.1 §5) ---------------------------------------------------------

    def _answer(self, commands: list[Command]) -> None:
        adr_block = [cmd for cmd in commands if cmd.name == "LinkADRReq"]
        for cmd in commands:
            self.received.append(cmd)
            p = cmd.payload
            if cmd.name == "LinkADRReq" and cmd is adr_block[-1]:
                self._link_adr(adr_block)
            elif cmd.name == "DutyCycleReq":
                self.max_duty_cycle = p[0] & 0x0F
                self.pending.append(Command("DutyCycleAns"))
            elif cmd.name == "RXParamSetupReq":
                freq = mac.freq_hz(p[1:4])
                rx2_dr, offset = p[0] & 0x0F, (p[0] >> 4) & 0x07
                ok = (BAND[0] <= freq < BAND[1], rx2_dr in DATA_RATES, offset <= 5)
                if all(ok):
                    self.rx2_frequency, self.rx2_dr, self.rx1_dr_offset = freq, rx2_dr, offset
                self.sticky.append(Command("RXParamSetupAns", bytes((ok[0] | ok[1] << 1 | ok[2] << 2,))))
            elif cmd.name == "DevStatusReq":
                self.pending.append(Command("DevStatusAns", bytes((self.battery, self.margin & 0x3F))))
            elif cmd.name == "NewChannelReq":
                index, freq = p[0], mac.freq_hz(p[1:4])
                min_dr, max_dr = p[4] & 0x0F, p[4] >> 4
                freq_ok = freq == 0 or BAND[0] <= freq < BAND[1]
                dr_ok = min_dr <= max_dr <= 7
                if index >= 3 and freq_ok and dr_ok:  # the three default channels cannot change (RP002 §2.4.2)
                    if freq == 0:
                        self.channels.pop(index, None)
                        self.ch_mask.discard(index)
                    else:
                        self.channels[index] = Channel(freq, min_dr, max_dr)
                        self.ch_mask.add(index)
                self.pending.append(Command("NewChannelAns", bytes((int(freq_ok and index >= 3) | dr_ok << 1,))))
            elif cmd.name == "RXTimingSetupReq":
                self.rx1_delay = p[0] & 0x0F or 1
                self.sticky.append(Command("RXTimingSetupAns"))
            elif cmd.name == "DlChannelReq":
                index, freq = p[0], mac.freq_hz(p[1:4])
                freq_ok = BAND[0] <= freq < BAND[1]
                exists = index in self.channels
                if freq_ok and exists:
                    self.channels[index].dl_frequency = freq
                self.sticky.append(Command("DlChannelAns", bytes((int(freq_ok) | int(exists) << 1,))))
            elif cmd.name == "RekeyConf":
                self.rekey_pending = False
            elif cmd.name == "ResetConf":
                self.reset_pending = False
            elif cmd.name == "ADRParamSetupReq":  # 1.1 §5.11: Limit_exp bits 7:4, Delay_exp bits 3:0
                self.adr_ack_limit, self.adr_ack_delay = 1 << (p[0] >> 4), 1 << (p[0] & 0x0F)
                self.pending.append(Command("ADRParamSetupAns"))
            elif cmd.name == "RejoinParamSetupReq":  # 1.1 §5.14: MaxTimeN bits 7:4, MaxCountN bits 3:0
                self.rejoin_every = 1 << ((p[0] & 0x0F) + 4)
                self.pending.append(Command("RejoinParamSetupAns", bytes((int(self.has_clock),))))
            elif cmd.name == "PingSlotChannelReq":  # 1.0.4 §13.2: Frequency (24 bits, 100 Hz), DR bits 3:0
                freq, dr = mac.freq_hz(p[0:3]), p[3] & 0x0F
                freq_ok, dr_ok = freq == 0 or BAND[0] <= freq < BAND[1], dr in DATA_RATES
                if freq_ok and dr_ok:
                    self.ping_slot_frequency, self.ping_slot_dr = freq or None, dr
                # Table 71: bit 0 Channel frequency ok, bit 1 Data rate ok; repeated until a class A downlink
                self.sticky.append(Command("PingSlotChannelAns", bytes((int(freq_ok) | int(dr_ok) << 1,))))
            elif cmd.name == "BeaconFreqReq":  # 1.0.4 §13.4: Frequency (0: the default plan)
                freq = mac.freq_hz(p[0:3])
                ok = freq == 0 or BAND[0] <= freq < BAND[1]
                if ok:
                    self.beacon_frequency = freq or None
                self.pending.append(Command("BeaconFreqAns", bytes((int(ok),))))
            elif cmd.name == "ForceRejoinReq":
                # 1.1 §5.13, a 16-bit little-endian field: bits 15:14 RFU, 13:11 Period, 10:8 Max_Retries, 7 RFU,
                # 6:4 RejoinType (0 or 1: type 0; 2: type 2; 3-7 RFU, ignored), 3:0 DR. No answer: the
                # rejoin-request is the answer.
                word = int.from_bytes(p, "little")
                kind = (word >> 4) & 0x07
                if kind <= 2 and self.is_11:
                    self.force_rejoin = ForcedRejoin(2 if kind == 2 else 0, word & 0x0F, (word >> 8) & 0x07,
                                                     (word >> 11) & 0x07)

    def _link_adr(self, block: list[Command]) -> None:
        """1.0.4 §5.3: a contiguous block of LinkADRReq is applied as one; the last carries DR, power, NbTrans;
        one LinkADRAns per request, all with the same status bits."""
        mask = set(self.ch_mask)
        for cmd in block:
            p = cmd.payload
            ch_mask = int.from_bytes(p[1:3], "little")
            cntl = (p[3] >> 4) & 0x07
            if cntl == 0:
                mask = {i for i in range(16) if ch_mask >> i & 1}
            elif cntl == 6:
                mask = set(self.channels)
        last = block[-1].payload
        dr, power, nb_trans = last[0] >> 4, last[0] & 0x0F, last[3] & 0x0F
        ch_ok = bool(mask) and mask <= set(self.channels)
        dr_ok = dr == 0x0F or dr in DATA_RATES
        power_ok = power == 0x0F or power <= 7
        if ch_ok and dr_ok and power_ok:
            self.ch_mask = mask
            if dr != 0x0F:
                self.dr = dr
            if power != 0x0F:
                self.tx_power = power
            self.nb_trans = nb_trans or self.nb_trans
        status = bytes((int(ch_ok) | int(dr_ok) << 1 | int(power_ok) << 2,))
        self.pending.extend(Command("LinkADRAns", status) for _ in block)

    # --- what the device listens for ---------------------------------------------------------------------

    def rx1(self, uplink: Uplink, *, join: bool = False) -> tuple[int, int, int]:
        """(delay s, frequency, DR) of RX1 after ``uplink`` (1.0.4 §3.3.1; RP002 §2.4.7 RX1 DR table)."""
        delay = JOIN_ACCEPT_DELAY1 if join else self.rx1_delay
        channel = next((ch for ch in self.channels.values() if ch.frequency == uplink.frequency), None)
        freq = channel.dl_frequency if channel is not None and channel.dl_frequency else uplink.frequency
        return delay, freq, max(uplink.dr - (0 if join else self.rx1_dr_offset), 0)

    def rx2(self, uplink: Uplink, *, join: bool = False) -> tuple[int, int, int]:
        delay = JOIN_ACCEPT_DELAY1 + 1 if join else self.rx1_delay + 1
        return delay, (RX2_FREQUENCY if join else self.rx2_frequency), (RX2_DR if join else self.rx2_dr)
