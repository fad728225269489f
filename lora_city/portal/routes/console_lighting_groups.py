"""Lamp groups in the city console (issue 24): a district's lamps as one LoRaWAN multicast group (TS005 terms:
McAddr, keys derived from a McKey the server draws, class C at the region's RX2 or class B in ping slots), its
members added and removed, its queue of dimming frames with the gateways that sent each one, deleted after a
confirmation. Through ``services.multicast``, the API's rules: a lamp of another owner is refused and the whole
change is not made."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response
from sqlalchemy.orm import Session

from lora_city.errors import LoraCityError
from lora_city.portal.route_class import PortalRoute
from lora_city.portal.routes.console_lighting import LampState, lamp_states, wake_scheduler
from lora_city.portal.web import CsrfChecked, DbDep, Page, PageDep, PortalUser, roles
from lora_city.services import lighting, multicast
from lora_city.services.principal import Role
from lora_city.storage.models import MulticastGroup

router = APIRouter(route_class=PortalRoute, prefix="/console/lighting/groups")
StaffDep = Annotated[PortalUser, Depends(roles(Role.ADMIN, Role.OPERATOR))]
QUEUE_SHOWN = 20


def _lamp_choices(lamps: list[LampState], tenant_id: str | None, exclude: set[str]) -> list[LampState]:
    return [lamp for lamp in lamps if (tenant_id is None or lamp.tenant_id == tenant_id) and lamp.dev_eui not in exclude]


def _form(page: Page, db: Session, user: PortalUser, values: dict[str, Any], errors: dict[str, str],
          status: int = 200) -> Response:
    lamps = _lamp_choices(lamp_states(db, user, page), user.principal.tenant_id, set())
    return page.render("console/lighting_group_form.html", status=status, values=values, errors=errors,
                       lamps=lamps)


@router.get("/new")
def new_group(page: PageDep, user: StaffDep, db: DbDep) -> Response:
    return _form(page, db, user, {"name": "", "group_class": "C", "members": []}, {})


async def _selected(page: Page) -> list[str]:
    form = await page.request.form()
    return [str(v) for v in form.getlist("members")]


@router.post("/new", dependencies=[CsrfChecked])
async def create_group(page: PageDep, user: StaffDep, db: DbDep, name: Annotated[str, Form(max_length=400)] = "",
                       group_class: Annotated[str, Form(max_length=2)] = "C") -> Response:
    members = await _selected(page)
    name = name.strip()
    values: dict[str, Any] = {"name": name, "group_class": group_class, "members": members}
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = page.t("form.required")
    elif len(name) > 200:
        errors["name"] = page.t("form.too_long", n=200)
    if group_class not in ("B", "C"):
        errors["group_class"] = page.t("form.invalid_choice")
    if errors:
        return _form(page, db, user, values, errors, 422)
    view = None
    try:
        view = multicast.create_group(db, user.principal, page.ctx.vault, multicast.GroupCreate(
            name=name, group_class="B" if group_class == "B" else "C"), net_id=page.ctx.settings.net_id, codecs=page.ctx.codecs,
            now=page.ctx.clock())
        if members:
            multicast.add_members(db, user.principal, view.group.id, multicast.MembersAdd(dev_euis=members),
                                  now=page.ctx.clock())
    except LoraCityError as exc:
        db.rollback()
        if view is not None:  # all or nothing: a group refused one of its lamps is not left half made
            multicast.delete_group(db, user.principal, view.group.id)
        return _form(page, db, user, values, {"members": _member_error(page, exc)}, 422)
    return page.redirect(f"/console/lighting/groups/{view.group.id}?done=group_created")


def _member_error(page: Page, exc: LoraCityError) -> str:
    return page.t("lighting.other_tenant") if exc.code == "tenant_mismatch" else page.error_text(exc)


def _page(page: Page, db: Session, user: PortalUser, group: MulticastGroup, status: int = 200,
          **values: Any) -> Response:
    members = multicast.list_members(db, user.principal, group.id)
    states = {lamp.dev_eui: lamp for lamp in lamp_states(db, user, page)}
    choices = _lamp_choices(list(states.values()), group.tenant_id, {m.dev_eui for m in members})
    queue = multicast.list_queue(db, user.principal, group.id, limit=QUEUE_SHOWN)
    schedule = next((s for a, s in lighting.list_assignments(db, user.principal)
                     if a.target_kind == "group" and a.target_id == group.id), None)
    return page.render("console/lighting_group.html", status=status, group=group, members=members, states=states,
                       choices=choices, queue=queue, schedule=schedule, **{"errors": {}, "done": None, **values})


@router.get("/{group_id}")
def group_page(page: PageDep, user: StaffDep, db: DbDep, group_id: str, done: str | None = None) -> Response:
    return _page(page, db, user, multicast.find_group(db, user.principal, group_id), done=done if done in ("group_created", "members_added", "member_removed") else None)


@router.post("/{group_id}/members", dependencies=[CsrfChecked])
async def add_members(page: PageDep, user: StaffDep, db: DbDep, group_id: str) -> Response:
    group = multicast.find_group(db, user.principal, group_id)
    members = await _selected(page)
    if not members:
        return _page(page, db, user, group, 422, errors={"members": page.t("lighting.members_required")})
    try:
        multicast.add_members(db, user.principal, group.id, multicast.MembersAdd(dev_euis=members),
                              now=page.ctx.clock())
    except LoraCityError as exc:
        db.rollback()
        return _page(page, db, user, group, 422, errors={"members": _member_error(page, exc)})
    return page.redirect(f"/console/lighting/groups/{group.id}?done=members_added")


@router.post("/{group_id}/members/{dev_eui}/remove", dependencies=[CsrfChecked])
def remove_member(page: PageDep, user: StaffDep, db: DbDep, group_id: str, dev_eui: str) -> Response:
    group = multicast.find_group(db, user.principal, group_id)
    try:
        multicast.remove_member(db, user.principal, group.id, dev_eui)
    except LoraCityError as exc:
        db.rollback()
        return _page(page, db, user, group, 404, errors={"_form": page.error_text(exc)})
    return page.redirect(f"/console/lighting/groups/{group.id}?done=member_removed")


@router.get("/{group_id}/delete")
def confirm_delete(page: PageDep, user: StaffDep, db: DbDep, group_id: str) -> Response:
    group = multicast.find_group(db, user.principal, group_id)
    return page.render("confirm.html", title=page.t("lighting.group_delete_title", name=group.name),
                       question=page.t("lighting.group_delete_question", name=group.name), error=None,
                       action=page.url(f"/console/lighting/groups/{group.id}/delete"),
                       confirm=page.t("lighting.group_delete"), cancel=page.url(f"/console/lighting/groups/{group.id}"),
                       allowed=True)


@router.post("/{group_id}/delete", dependencies=[CsrfChecked])
def delete_group(page: PageDep, user: StaffDep, db: DbDep, group_id: str) -> Response:
    group = multicast.find_group(db, user.principal, group_id)
    for assignment, _ in lighting.list_assignments(db, user.principal):  # its schedule stops with it
        if assignment.target_kind == "group" and assignment.target_id == group.id:
            lighting.unassign(db, user.principal, assignment.id, on_change=lambda: wake_scheduler(page))
    multicast.delete_group(db, user.principal, group.id)
    return page.redirect("/console/lighting?done=group_deleted")
