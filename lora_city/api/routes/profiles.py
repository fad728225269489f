from __future__ import annotations

from fastapi import APIRouter, Response

from lora_city.api.deps import ContextDep, CurrentPrincipal, SessionDep, SingleQueryValues
from lora_city.api.schemas import ERROR_RESPONSES, ProfileOut
from lora_city.services import profiles
from lora_city.services.profiles import ProfileCreate, ProfileFields

router = APIRouter(prefix="/device-profiles", tags=["device profiles"], responses=ERROR_RESPONSES,
                   dependencies=[SingleQueryValues])


@router.post("", status_code=201)
def create_profile(ctx: ContextDep, session: SessionDep, principal: CurrentPrincipal, body: ProfileCreate) -> ProfileOut:
    """422 ``unknown_codec`` for a codec the registry does not know (as for devices)."""
    return ProfileOut.model_validate(profiles.create_profile(session, principal, body, codecs=ctx.codecs))


@router.get("")
def list_profiles(session: SessionDep, principal: CurrentPrincipal) -> list[ProfileOut]:
    return [ProfileOut.model_validate(p) for p in profiles.list_profiles(session, principal)]


@router.get("/{profile_id}")
def get_profile(session: SessionDep, principal: CurrentPrincipal, profile_id: str) -> ProfileOut:
    return ProfileOut.model_validate(profiles.get_profile(session, principal, profile_id))


@router.patch("/{profile_id}")
def update_profile(
    ctx: ContextDep, session: SessionDep, principal: CurrentPrincipal, profile_id: str, body: ProfileFields
) -> ProfileOut:
    out = ProfileOut.model_validate(profiles.update_profile(session, principal, profile_id, body, codecs=ctx.codecs))
    # Codec, class and application-layer packages of every device of the profile change with the next frame.
    for dev_eui in profiles.devices_of(session, profile_id):
        ctx.device_changed(dev_eui)
    return out


@router.delete("/{profile_id}", status_code=204)
def delete_profile(session: SessionDep, principal: CurrentPrincipal, profile_id: str) -> Response:
    profiles.delete_profile(session, principal, profile_id)
    return Response(status_code=204)
