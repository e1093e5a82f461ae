"""Projects and their analysis settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aica.analysis.profiles import BUILTIN
from aica.errors import BadInput, NotFound
from aica.models import Project, RedactionMode, Role
from aica.services import profiles
from aica.services.access import Actor, in_org
from aica.services.pagination import Page, PageRequest, paginate
from aica.services.rows import Row, Rows
from aica.speech.whisper_models import check_language, normalize_language

COLUMNS = (
    "id", "name", "description", "profile", "language", "languages", "agent_channel",
    "redaction", "retention_days", "created_at", "updated_at",
)  # fmt: skip
"""What the API shows of a project."""


async def rows_by_ids(ids: Sequence[str]) -> list[Row]:
    """Projects by id, in one statement (a list's page needs its records' projects); callers
    pass ids taken from rows already scoped to their org."""
    return await Rows("projects", COLUMNS).by_ids(ids)


@dataclass(slots=True)
class ProjectChanges:
    name: str | None = None
    description: str | None = None
    profile: str | None = None
    language: str | None = None
    languages: list[str] | None = None
    agent_channel: int | None = None
    redaction: RedactionMode | None = None
    retention_days: int | None = None
    """0 keeps records for good (stored as null)."""


MAX_RETENTION_DAYS = 36_500


def _validate(changes: ProjectChanges, model: str) -> None:
    """``model`` is the transcription model: a language it cannot handle fails here, on save,
    rather than on every call in the pipeline."""
    if changes.name is not None and not changes.name.strip():
        raise BadInput("Project name must not be empty", field="name")
    if changes.name is not None and len(changes.name) > 200:
        raise BadInput("Project name must be at most 200 characters", field="name")
    if changes.language is not None:
        try:
            check_language(model, changes.language)
        except BadInput as exc:
            exc.extensions["field"] = "settings.language"
            raise
        changes.language = normalize_language(changes.language) or "auto"
    if changes.languages is not None:
        changes.languages = _languages(changes.languages, model)
    if changes.agent_channel is not None and changes.agent_channel not in (0, 1):
        raise BadInput("agentChannel must be 0 (left) or 1 (right)", field="settings.agentChannel")
    if changes.retention_days is not None and not 0 <= changes.retention_days <= MAX_RETENTION_DAYS:
        raise BadInput(
            f"retentionDays must be between 1 and {MAX_RETENTION_DAYS}, or 0 to keep records",
            field="settings.retentionDays",
        )


def _languages(codes: list[str], model: str) -> list[str]:
    """The codes normalized and deduplicated, each one the model can transcribe."""
    normalized: list[str] = []
    for index, code in enumerate(codes):
        try:
            check_language(model, code)
            if normalize_language(code) is None:
                raise BadInput("List language codes such as en or ru, not 'auto'", language=code)
        except BadInput as exc:
            exc.extensions["field"] = f"settings.languages[{index}]"
            raise
        if (found := normalize_language(code)) and found not in normalized:
            normalized.append(found)
    return normalized


async def _check_profile(actor: Actor, changes: ProjectChanges) -> None:
    if changes.profile is not None and not await profiles.exists(actor.org_id, changes.profile):
        raise BadInput(
            f"Unknown analysis profile {changes.profile!r}: use a built-in one "
            f"({', '.join(BUILTIN)}) or create it first",
            field="settings.profile",
        )


async def list_projects(actor: Actor, request: PageRequest) -> Page[Project]:
    return await paginate(
        Project.filter(org_id=actor.org_id, deleting_at__isnull=True).order_by("-created_at", "id"),
        request,
    )


async def get_project(actor: Actor, project_id: str) -> Project:
    project = await in_org(actor, Project, project_id, "Project")
    if project.deleting_at is not None:  # being deleted: gone for every caller
        raise NotFound.of("Project")
    return project


async def create_project(actor: Actor, changes: ProjectChanges, model: str) -> Project:
    actor.require(Role.admin, "create projects")
    if changes.name is None:
        raise BadInput("Project name is required", field="name")
    _validate(changes, model)
    await _check_profile(actor, changes)
    project = Project(org_id=actor.org_id)
    project.update_from_dict(_changed(changes))
    await project.save()
    return project


async def update_project(
    actor: Actor, project_id: str, changes: ProjectChanges, model: str
) -> Project:
    actor.require(Role.admin, "update projects")
    project = await get_project(actor, project_id)
    _validate(changes, model)
    await _check_profile(actor, changes)
    fields = _changed(changes)
    if fields:
        project.update_from_dict(fields)
        # Only what changed: a whole-row save would write back a deletion mark read as unset.
        await project.save(update_fields=[*fields, "updated_at"])
    return project


def _changed(changes: ProjectChanges) -> dict[str, object]:
    """The fields the changes set (``None``: unchanged); retention 0 clears it."""
    fields = {k: v for k, v in _as_fields(changes).items() if v is not None}
    if fields.get("retention_days") == 0:
        fields["retention_days"] = None
    return fields


def _as_fields(changes: ProjectChanges) -> dict[str, object]:
    return {
        "name": changes.name.strip() if changes.name is not None else None,
        "description": changes.description,
        "profile": changes.profile,
        "language": changes.language,
        "languages": changes.languages,
        "agent_channel": changes.agent_channel,
        "redaction": changes.redaction,
        "retention_days": changes.retention_days,
    }
