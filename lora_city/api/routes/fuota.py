"""Firmware updates over the air (issue 16): campaigns, their devices' progress, and start/pause/resume/cancel."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel

from lora_city.api.deps import ContextDep, CurrentPrincipal, NowDep, SessionDep, SingleQueryValues
from lora_city.api.schemas import ERROR_RESPONSES, Out, UtcTime
from lora_city.fuota import plan, service
from lora_city.fuota.service import CampaignCreate, CampaignView

router = APIRouter(prefix="/fuota/campaigns", tags=["firmware updates"], responses=ERROR_RESPONSES,
                   dependencies=[SingleQueryValues])


class CampaignDeviceOut(Out):
    dev_eui: str
    step: str
    status: str
    attempts: int
    error: str
    answers: dict[str, object]
    last_sent_at: UtcTime | None
    completed_at: UtcTime | None


class CampaignOut(BaseModel):
    id: str
    tenant_id: str
    name: str
    state: str
    step: str
    image_size: int
    image_sha256: str
    frag_size: int
    redundancy_pct: int
    nb_frag: int
    parity_fragments: int
    airtime_s: float
    group_class: str
    dr: int
    frequency: int
    multicast_group_id: str | None
    session_start_at: UtcTime | None
    session_timeout_s: int
    fragments_sent: int
    detail: str
    devices_total: int
    devices_ok: int
    devices_failed: int
    created_at: UtcTime
    started_at: UtcTime | None
    finished_at: UtcTime | None
    devices: list[CampaignDeviceOut]


class CampaignSummary(BaseModel):
    id: str
    name: str
    state: str
    step: str
    image_size: int
    created_at: UtcTime


def _out(v: CampaignView) -> CampaignOut:
    c = v.campaign
    return CampaignOut(
        id=c.id, tenant_id=c.tenant_id, name=c.name, state=c.state, step=c.step, image_size=c.image_size,
        image_sha256=c.image_sha256, frag_size=c.frag_size, redundancy_pct=c.redundancy_pct,
        nb_frag=v.layout.nb_frag, parity_fragments=v.layout.redundancy, airtime_s=round(v.layout.airtime_s, 3),
        group_class=c.group_class, dr=c.dr, frequency=c.frequency, multicast_group_id=c.multicast_group_id,
        session_start_at=c.session_start_at, session_timeout_s=plan.session_length_s(c.session_timeout_exp, c.group_class),
        fragments_sent=c.fragments_sent, detail=c.detail, devices_total=len(v.devices),
        devices_ok=sum(1 for d in v.devices if d.status == "ok"),
        devices_failed=sum(1 for d in v.devices if d.status == "failed"), created_at=c.created_at,
        started_at=c.started_at, finished_at=c.finished_at,
        devices=[CampaignDeviceOut.model_validate(d) for d in v.devices],
    )


@router.post("", status_code=201)
def create_campaign(ctx: ContextDep, session: SessionDep, principal: CurrentPrincipal, now: NowDep,
                    body: CampaignCreate) -> CampaignOut:
    return _out(service.create_campaign(session, principal, body, max_image_bytes=ctx.settings.fuota_max_image_bytes,
                                        now=now))


@router.get("")
def list_campaigns(session: SessionDep, principal: CurrentPrincipal) -> list[CampaignSummary]:
    return [CampaignSummary(id=c.id, name=c.name, state=c.state, step=c.step, image_size=c.image_size,
                            created_at=c.created_at) for c in service.list_campaigns(session, principal)]


@router.get("/{campaign_id}")
def get_campaign(session: SessionDep, principal: CurrentPrincipal, campaign_id: str) -> CampaignOut:
    return _out(service.get_campaign(session, principal, campaign_id))


def _action(action: str):  # type: ignore[no-untyped-def]
    def endpoint(ctx: ContextDep, session: SessionDep, principal: CurrentPrincipal, now: NowDep,
                 campaign_id: str) -> CampaignOut:
        return _out(service.transition(session, principal, campaign_id, action, now=now, wake=ctx.fuota_wake))

    endpoint.__name__ = f"{action}_campaign"
    endpoint.__doc__ = f"{action.capitalize()} the campaign."
    return endpoint


for _name in ("start", "pause", "resume", "cancel"):
    router.add_api_route(f"/{{campaign_id}}/{_name}", _action(_name), methods=["POST"], response_model=CampaignOut)


@router.delete("/{campaign_id}", status_code=204)
def delete_campaign(session: SessionDep, principal: CurrentPrincipal, campaign_id: str) -> Response:
    service.delete_campaign(session, principal, campaign_id)
    return Response(status_code=204)
