from __future__ import annotations

from aica.models import Project

Key = str
Result = Project | None


async def load_projects(keys: list[Key]) -> list[Result]:
    """Callers pass project ids taken from rows already scoped to their org."""
    by_id = {p.id: p for p in await Project.filter(pk__in=keys)}
    return [by_id.get(key) for key in keys]
