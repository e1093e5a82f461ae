"""Projects and their analysis settings."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from aica import models
from aica.graphql.context import Info
from aica.graphql.types.pages import Paginated
from aica.services import deletion, projects
from aica.services.pagination import PageRequest
from aica.services.rows import Row, stored_json


@strawberry.enum(description="What PII redaction hides (see the README's Privacy section).")
class RedactionMode(Enum):
    OFF = models.RedactionMode.off.value
    TEXT = models.RedactionMode.text.value
    TEXT_AND_AUDIO = models.RedactionMode.text_and_audio.value


@strawberry.type
class ProjectSettings:
    profile: str = strawberry.field(description="Analysis profile (scorecard) key.")
    language: str = strawberry.field(description="auto, or a language code such as en or ru.")
    languages: list[str] = strawberry.field(
        description="With language auto: the languages detection may choose (empty: any); a "
        "call in another language is flagged in the record's warnings."
    )
    agent_channel: int = strawberry.field(description="Stereo calls: 0 left or 1 right.")
    redaction: RedactionMode = strawberry.field(
        description="TEXT: card numbers, phones, emails, IBANs, accounts, dates of birth and "
        "national ids are replaced in the transcript, analysis and search; TEXT_AND_AUDIO "
        "also silences them in the audio served to all but owners and admins."
    )
    retention_days: int | None = strawberry.field(
        description="Records older than this many days are purged (audio, transcript, "
        "analyses, search entries; metered usage stays); null keeps them."
    )


@strawberry.type
class Project:
    id: strawberry.ID
    name: str
    description: str
    settings: ProjectSettings
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(cls, project: models.Project) -> Project:
        return cls.from_row({c: getattr(project, c) for c in projects.COLUMNS})

    @classmethod
    def from_row(cls, row: Row) -> Project:
        """A row of :data:`projects.COLUMNS` (a list's page reads its projects as rows)."""
        return cls(
            id=strawberry.ID(row["id"]),
            name=row["name"],
            description=row["description"],
            settings=ProjectSettings(
                profile=row["profile"],
                language=row["language"],
                languages=list(stored_json(row["languages"])),
                agent_channel=row["agent_channel"],
                redaction=RedactionMode(str(row["redaction"])),
                retention_days=row["retention_days"],
            ),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )


@strawberry.input
class ProjectSettingsInput:
    profile: str | None = None
    language: str | None = None
    languages: list[str] | None = None
    agent_channel: int | None = None
    redaction: RedactionMode | None = None
    retention_days: int | None = strawberry.field(
        default=None, description="Days to keep records (1-36500); 0 keeps them for good."
    )


@strawberry.input
class ProjectInput:
    name: str | None = None
    description: str | None = None
    settings: ProjectSettingsInput | None = None

    def changes(self) -> projects.ProjectChanges:
        settings = self.settings or ProjectSettingsInput()
        return projects.ProjectChanges(
            name=self.name,
            description=self.description,
            profile=settings.profile,
            language=settings.language,
            languages=settings.languages,
            agent_channel=settings.agent_channel,
            redaction=models.RedactionMode(settings.redaction.value)
            if settings.redaction
            else None,
            retention_days=settings.retention_days,
        )


@strawberry.type
class ProjectQueries:
    @strawberry.field
    async def projects(self, info: Info, page: int = 1, page_size: int = 20) -> Paginated[Project]:
        actor = await info.context.actor()
        result = await projects.list_projects(actor, PageRequest(page, page_size))
        return Paginated.of(result, Project.from_model)

    @strawberry.field
    async def project(self, info: Info, id: strawberry.ID) -> Project:
        actor = await info.context.actor()
        return Project.from_model(await projects.get_project(actor, id))


@strawberry.type
class ProjectMutations:
    @strawberry.mutation
    async def create_project(self, info: Info, input: ProjectInput) -> Project:
        actor = await info.context.actor()
        model = info.context.settings.whisper_model
        return Project.from_model(await projects.create_project(actor, input.changes(), model))

    @strawberry.mutation
    async def update_project(self, info: Info, id: strawberry.ID, input: ProjectInput) -> Project:
        actor = await info.context.actor()
        model = info.context.settings.whisper_model
        project = await projects.update_project(actor, id, input.changes(), model)
        return Project.from_model(project)

    @strawberry.mutation(description="Delete a project with all its records.")
    async def delete_project(self, info: Info, id: strawberry.ID) -> Project:
        actor = await info.context.actor()
        runtime = info.context.runtime
        project = await deletion.delete_project(actor, runtime.settings, runtime.storage, id)
        return Project.from_model(project)
