"""Scorecards: the built-in ones and each org's own, validated on save."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError

from aica.analysis.profiles import BUILTIN, Profile, parse_profile, profile_to_json
from aica.errors import BadInput, Conflict, NotFound
from aica.models import AnalysisProfile, Project, Role
from aica.services.access import Actor, in_org

_KEY = re.compile(r"^[a-z][a-z0-9_-]{1,63}$")
BUILTIN_ID = "builtin:"
"""Built-in profiles' ids are this and the key: the same in every org, with no row behind."""


@dataclass(frozen=True, slots=True)
class StoredProfile:
    """A profile as the API shows it: built-in ones cannot change."""

    id: str
    profile: Profile
    builtin: bool


async def list_profiles(actor: Actor) -> list[StoredProfile]:
    own = await AnalysisProfile.filter(org_id=actor.org_id).order_by("key")
    return [StoredProfile(BUILTIN_ID + p.key, p, True) for p in BUILTIN.values()] + [
        StoredProfile(row.id, parse_profile(row.definition), False) for row in own
    ]


async def resolve(org_id: str, key: str) -> Profile:
    """The profile a project names: built-in first, then the org's own."""
    if key in BUILTIN:
        return BUILTIN[key]
    row = await AnalysisProfile.get_or_none(org_id=org_id, key=key)
    if row is None:
        raise NotFound(f"Analysis profile {key!r} not found", field="profile")
    return parse_profile(row.definition)


async def exists(org_id: str, key: str) -> bool:
    return key in BUILTIN or await AnalysisProfile.exists(org_id=org_id, key=key)


def _checked(definition: dict[str, Any]) -> Profile:
    if not isinstance(definition, dict):
        raise BadInput("The profile definition must be an object", field="definition")
    profile = parse_profile(definition)
    if not _KEY.match(profile.key):
        raise BadInput(
            "key must be 2-64 lowercase letters, digits, '-' or '_', starting with a letter",
            field="key",
        )
    if profile.key in BUILTIN:
        raise Conflict(f"{profile.key!r} is a built-in profile; choose another key", field="key")
    return profile


async def create_profile(actor: Actor, definition: dict[str, Any]) -> StoredProfile:
    actor.require(Role.admin, "create analysis profiles")
    profile = _checked(definition)
    try:
        row = await AnalysisProfile.create(
            org_id=actor.org_id,
            key=profile.key,
            name=profile.name,
            definition=profile_to_json(profile),
        )
    except IntegrityError:
        raise Conflict(f"A profile with key {profile.key!r} exists", field="key") from None
    return StoredProfile(row.id, profile, False)


async def update_profile(
    actor: Actor, profile_id: str, definition: dict[str, Any]
) -> StoredProfile:
    actor.require(Role.admin, "change analysis profiles")
    row = await _own(actor, profile_id)
    profile = _checked(definition)
    if profile.key != row.key:
        raise BadInput("A profile's key cannot change", field="key")
    row.name, row.definition = profile.name, profile_to_json(profile)
    await row.save(update_fields=["name", "definition", "updated_at"])
    return StoredProfile(row.id, profile, False)


async def delete_profile(actor: Actor, profile_id: str) -> StoredProfile:
    actor.require(Role.admin, "delete analysis profiles")
    row = await _own(actor, profile_id)
    users = await Project.filter(org_id=actor.org_id, profile=row.key).count()
    if users:
        raise Conflict(f"{users} project(s) use this profile; point them elsewhere first")
    await row.delete()
    return StoredProfile(row.id, parse_profile(row.definition), False)


async def _own(actor: Actor, profile_id: str) -> AnalysisProfile:
    if profile_id.startswith(BUILTIN_ID):
        raise BadInput("Built-in profiles cannot change; create your own", field="id")
    return await in_org(actor, AnalysisProfile, profile_id, "Analysis profile")
