"""The steps one device goes through in a campaign, as pure functions: what to send at a step, and what an answer
means. The orchestrator persists the result and does the I/O.

    package_version ─► clock_sync ─► mc_group_setup ─► frag_session_setup      (each device at its own pace)
        ─► mc_session_start (once every device is set up: one session start time for all)
        ─► fragments (multicast, campaign-wide) ─► frag_status ─► done

Unicast steps are answered by the device; a step with no answer is sent again after the campaign's timeout and
the device fails after ``max_attempts`` (it does not hold the others back).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lora_city.lorawan.applayer import fragmentation, multicast_setup
from lora_city.lorawan.applayer.commands import AppCommand

SETUP_STEPS = ("package_version", "clock_sync", "mc_group_setup", "frag_session_setup")
STEPS = (*SETUP_STEPS, "mc_session_start", "fragments", "frag_status", "done")
REQUIRED_PACKAGES = ("multicast_setup", "fragmentation")
PACKAGE_IDS = {"clock_sync": 1, "multicast_setup": 2, "fragmentation": 3}


@dataclass(frozen=True, slots=True)
class CampaignParams:
    mc_group_index: int
    mc_addr: str
    mc_key: bytes
    frag_index: int
    nb_frag: int
    frag_size: int
    padding: int
    descriptor: bytes
    session_cnt: int
    image: bytes
    group_class: str
    dr: int
    frequency: int
    ping_slot_periodicity: int
    timeout_exp: int
    session_time_gps: int = 0  # set when the session start is decided
    block_ack_delay: int = 1


@dataclass(slots=True)
class DeviceParams:
    root_key: bytes  # GenAppKey (LoRaWAN 1.0.x) or AppKey (1.1)
    lorawan_11: bool
    versions: dict[str, int]  # package -> version the profile says (replaced by what the device answers)
    answers: dict[str, Any] = field(default_factory=dict)

    def version(self, package: str) -> int:
        reported = self.answers.get("versions", {}).get(package)
        return int(reported if reported is not None else self.versions[package])


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: str  # next | fail | ignore
    reason: str = ""  # in English, for logs and the API
    code: str = ""  # the failure's code: the portal shows it in the page's language (fuota.fail.<code>)
    params: dict[str, Any] = field(default_factory=dict)


NEXT, IGNORE = Verdict("next"), Verdict("ignore")


def fail(code: str, reason: str, **params: Any) -> Verdict:
    return Verdict("fail", reason, code, params)


def first_step(device: DeviceParams) -> str:
    return "package_version"


def next_step(step: str, device: DeviceParams) -> str:
    following = STEPS[STEPS.index(step) + 1]
    if following == "clock_sync" and "clock_sync" not in device.versions:
        return next_step("clock_sync", device)  # the device does not run TS003: its clock is its own business
    return following


def requests(step: str, campaign: CampaignParams, device: DeviceParams) -> list[tuple[str, list[AppCommand]]]:
    """(package, commands) to send for ``step``."""
    if step == "package_version":
        return [(name, [AppCommand("PackageVersionReq")]) for name in device.versions]
    if step == "clock_sync":
        name = "ForceDeviceResyncReq" if device.version("clock_sync") == 1 else "ForceDeviceResyncCmd"
        return [("clock_sync", [AppCommand(name, {"nb_transmissions": 1})])]
    if step == "mc_group_setup":
        setup = multicast_setup.group_setup_request(campaign.mc_group_index, campaign.mc_addr, campaign.mc_key,
                                                    device.root_key, device.lorawan_11)
        return [("multicast_setup", [setup])]
    if step == "frag_session_setup":
        fields: dict[str, Any] = {
            "mc_group_bit_mask": 1 << campaign.mc_group_index, "frag_index": campaign.frag_index,
            "nb_frag": campaign.nb_frag, "frag_size": campaign.frag_size,
            "block_ack_delay": campaign.block_ack_delay, "padding": campaign.padding,
            "descriptor": campaign.descriptor.hex(),
        }
        if device.version("fragmentation") >= 2:
            mic = fragmentation.data_block_mic(fragmentation.data_block_int_key(device.root_key),
                                               campaign.session_cnt, campaign.frag_index, campaign.descriptor,
                                               campaign.image)
            fields |= {"frag_algo": 0, "session_cnt": campaign.session_cnt, "mic": mic.hex()}
        else:
            fields["fragmentation_matrix"] = 0
        return [("fragmentation", [AppCommand("FragSessionSetupReq", fields)])]
    if step == "mc_session_start":
        common = {"mc_group_id": campaign.mc_group_index, "session_time": campaign.session_time_gps & 0xFFFFFFFF,
                  "dl_frequency": campaign.frequency, "dr": campaign.dr}
        if campaign.group_class == "B":
            cmd = AppCommand("McClassBSessionReq", common | {"time_out": campaign.timeout_exp,
                                                             "periodicity": campaign.ping_slot_periodicity})
        else:
            cmd = AppCommand("McClassCSessionReq", common | {"session_time_out": campaign.timeout_exp})
        return [("multicast_setup", [cmd])]
    if step == "frag_status":
        return [("fragmentation", [AppCommand("FragSessionStatusReq", {"participants": True,
                                                                        "frag_index": campaign.frag_index})])]
    return []


def accept(step: str, package: str, cmd: AppCommand, campaign: CampaignParams, device: DeviceParams) -> Verdict:
    """What an answer received at ``step`` means. Answers for another step (late duplicates) are ignored."""
    if cmd.name == "PackageVersionAns":
        if step != "package_version":
            return IGNORE
        if cmd["package_identifier"] != PACKAGE_IDS[package]:
            return fail("package_mismatch", f"{package}: the device answered package {cmd['package_identifier']} on "
                        "its port", package=package, got=cmd["package_identifier"])
        versions = device.answers.setdefault("versions", {})
        versions[package] = cmd["package_version"]
        if cmd["package_version"] not in (1, 2):
            return fail("version_unsupported", f"{package} version {cmd['package_version']} is not supported",
                        package=package, version=cmd["package_version"])
        if package == "fragmentation" and cmd["package_version"] != device.versions.get("fragmentation"):
            # Parity fragments are shared by every device of the campaign: all must run the campaign's FEC.
            return fail("frag_version_differs", f"fragmentation v{cmd['package_version']} where the campaign sends "
                        f"v{device.versions.get('fragmentation')} parity", device=cmd["package_version"],
                        campaign=device.versions.get("fragmentation"))
        return NEXT if set(versions) >= set(device.versions) else IGNORE
    if step == "clock_sync" and cmd.name == "AppTimeReq":
        device.answers["clock_synced"] = True
        return NEXT
    if step == "mc_group_setup" and cmd.name == "McGroupSetupAns":
        if cmd["mc_group_id"] != campaign.mc_group_index:
            return IGNORE
        return fail("group_id_error", "McGroupSetupAns: IDError (the device has no such multicast group slot)") \
            if cmd["id_error"] \
            else NEXT
    if step == "frag_session_setup" and cmd.name == "FragSessionSetupAns":
        if cmd["frag_index"] != campaign.frag_index:
            return IGNORE
        errors = [name for name, value in cmd.fields.items() if value is True]
        return fail("frag_setup_refused", "FragSessionSetupAns: " + ", ".join(errors), errors=", ".join(errors)) \
            if errors else NEXT
    if step == "mc_session_start" and cmd.name in ("McClassCSessionAns", "McClassBSessionAns"):
        if cmd["mc_group_id"] != campaign.mc_group_index:
            return IGNORE
        errors = [name for name in ("dr_error", "freq_error", "mc_group_undefined", "start_missed") if cmd.get(name)]
        if errors:
            return fail("session_refused", f"{cmd.name}: " + ", ".join(errors), errors=", ".join(errors))
        device.answers["time_to_start"] = cmd.get("time_to_start")
        return NEXT
    if cmd.name == "FragSessionStatusAns" and step in ("fragments", "frag_status"):
        if cmd["frag_index"] != campaign.frag_index:
            return IGNORE
        device.answers["nb_frag_received"] = cmd["nb_frag_received"]
        device.answers["missing_frag"] = cmd["missing_frag"]
        if cmd.get("mic_error"):
            return fail("mic_error", "the rebuilt image failed the data block MIC check")
        if cmd.get("memory_error") or cmd.get("not_enough_matrix_memory"):
            return fail("matrix_memory", "the device ran out of memory for the FEC matrix")
        if cmd.get("session_does_not_exist"):
            return fail("session_lost", "the device no longer has the fragmentation session")
        if cmd["missing_frag"]:
            return fail("fragments_missing", f"{cmd['missing_frag']} fragments missing after the parity",
                        n=cmd["missing_frag"])
        return NEXT
    if cmd.name == "FragDataBlockReceivedReq" and step in ("fragments", "frag_status"):
        return fail("mic_error", "the rebuilt image failed the data block MIC check") if cmd["mic_error"] \
            else NEXT
    return IGNORE
