"""Multicast groups: the group, its members and its downlink queue (issue 24; ChirpStack's MulticastGroupService
in REST form). Keys are write-only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from lora_city.api.deps import ContextDep, CurrentPrincipal, NowDep, SessionDep, SingleQueryValues
from lora_city.api.schemas import ERROR_RESPONSES, Flushed, Out, UtcTime
from lora_city.services import multicast
from lora_city.services.multicast import GroupCreate, GroupFields, GroupQueueItemCreate, GroupView, MembersAdd
from lora_city.storage.models import MulticastQueueItem

router = APIRouter(prefix="/multicast-groups", tags=["multicast groups"], responses=ERROR_RESPONSES,
                   dependencies=[SingleQueryValues])


class MulticastGroupOut(BaseModel):
    id: str
    tenant_id: str
    application_id: str | None
    name: str
    mc_addr: str
    group_class: str
    dr: int
    frequency: int
    ping_slot_periodicity: int
    f_cnt: int
    codec: str | None
    latitude: float | None
    longitude: float | None
    members: int
    queued: int
    created_at: UtcTime
    updated_at: UtcTime


class MulticastGroupPage(BaseModel):
    items: list[MulticastGroupOut]
    next_after: str | None


class MemberOut(Out):
    dev_eui: str
    name: str
    latitude: float | None
    longitude: float | None


class MembersAdded(BaseModel):
    added: int


class MulticastQueueItemOut(BaseModel):
    id: str
    group_id: str
    f_cnt: int
    f_port: int
    data_hex: str
    state: str
    created_at: UtcTime
    expires_at: UtcTime | None
    sent_at: UtcTime | None
    gateways: list[str]
    detail: str


def group_out(view: GroupView) -> MulticastGroupOut:
    g = view.group
    return MulticastGroupOut(
        id=g.id, tenant_id=g.tenant_id, application_id=g.application_id, name=g.name, mc_addr=g.mc_addr,
        group_class=g.group_class, dr=g.dr, frequency=g.frequency, ping_slot_periodicity=g.ping_slot_periodicity,
        f_cnt=g.f_cnt, codec=g.codec_id, latitude=g.latitude, longitude=g.longitude, members=view.members,
        queued=view.queued, created_at=g.created_at, updated_at=g.updated_at,
    )


def item_out(item: MulticastQueueItem) -> MulticastQueueItemOut:
    return MulticastQueueItemOut(
        id=item.id, group_id=item.group_id, f_cnt=item.f_cnt, f_port=item.f_port, data_hex=bytes(item.payload).hex(),
        state=item.state, created_at=item.created_at, expires_at=item.expires_at, sent_at=item.sent_at,
        gateways=list(item.gateways or []), detail=item.detail,
    )


@router.post("", status_code=201)
def create_group(ctx: ContextDep, session: SessionDep, principal: CurrentPrincipal, now: NowDep,
                 body: GroupCreate) -> MulticastGroupOut:
    view = multicast.create_group(session, principal, ctx.vault, body, net_id=ctx.settings.net_id, codecs=ctx.codecs,
                                  now=now)
    return group_out(view)


@router.get("")
def list_groups(session: SessionDep, principal: CurrentPrincipal,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100, after: str | None = None,
                tenant_id: str | None = None, application_id: str | None = None) -> MulticastGroupPage:
    views = multicast.list_groups(session, principal, tenant_id=tenant_id, application_id=application_id,
                                  limit=limit, after=after)
    return MulticastGroupPage(items=[group_out(v) for v in views],
                              next_after=views[-1].group.name if len(views) == limit else None)


@router.get("/{group_id}")
def get_group(session: SessionDep, principal: CurrentPrincipal, group_id: str) -> MulticastGroupOut:
    return group_out(multicast.get_group(session, principal, group_id))


@router.patch("/{group_id}")
def update_group(ctx: ContextDep, session: SessionDep, principal: CurrentPrincipal, now: NowDep, group_id: str,
                 body: GroupFields) -> MulticastGroupOut:
    return group_out(multicast.update_group(session, principal, group_id, body, codecs=ctx.codecs, now=now))


@router.delete("/{group_id}", status_code=204)
def delete_group(session: SessionDep, principal: CurrentPrincipal, group_id: str) -> Response:
    multicast.delete_group(session, principal, group_id)
    return Response(status_code=204)


@router.get("/{group_id}/devices")
def list_members(session: SessionDep, principal: CurrentPrincipal, group_id: str) -> list[MemberOut]:
    return [MemberOut.model_validate(d) for d in multicast.list_members(session, principal, group_id)]


@router.post("/{group_id}/devices")
def add_members(session: SessionDep, principal: CurrentPrincipal, now: NowDep, group_id: str,
                body: MembersAdd) -> MembersAdded:
    return MembersAdded(added=multicast.add_members(session, principal, group_id, body, now=now))


@router.delete("/{group_id}/devices/{dev_eui}", status_code=204)
def remove_member(session: SessionDep, principal: CurrentPrincipal, group_id: str, dev_eui: str) -> Response:
    multicast.remove_member(session, principal, group_id, dev_eui)
    return Response(status_code=204)


@router.post("/{group_id}/queue", status_code=201)
def enqueue(ctx: ContextDep, session: SessionDep, principal: CurrentPrincipal, now: NowDep, group_id: str,
            body: GroupQueueItemCreate) -> MulticastQueueItemOut:
    item = multicast.enqueue(session, principal, group_id, body, codecs=ctx.codecs, notifier=ctx.group_notifier,
                             now=now)
    return item_out(item)


@router.get("/{group_id}/queue")
def list_queue(session: SessionDep, principal: CurrentPrincipal, group_id: str,
               limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[MulticastQueueItemOut]:
    return [item_out(i) for i in multicast.list_queue(session, principal, group_id, limit=limit)]


@router.delete("/{group_id}/queue")
def flush_queue(session: SessionDep, principal: CurrentPrincipal, group_id: str) -> Flushed:
    return Flushed(deleted=multicast.flush_queue(session, principal, group_id))


