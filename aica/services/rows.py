"""Rows read with SQL written here, for the hottest reads (list pages and what they show).

A page of 100 records read as Tortoise models cost more CPU than the rest of the request
together (building each model, converting each field); the same statement on asyncpg, its
rows used as they come, costs a fraction. Everything else reads through the ORM.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

import orjson
from tortoise import Tortoise

Row = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Rows:
    """The rows of one table that meet some conditions: a ``SELECT`` being built.

    Conditions are SQL with a ``{}`` per value (``where("org_id = {}", org_id)``); values
    travel as statement arguments, never in the text. Column and table names come from
    code, never from a request.
    """

    table: str
    columns: Sequence[str]
    conditions: tuple[str, ...] = ()
    args: tuple[Any, ...] = ()

    def where(self, condition: str, *values: Any) -> Rows:
        first = len(self.args) + 1
        numbered = condition.format(*(f"${first + i}" for i in range(len(values))))
        return replace(self, conditions=(*self.conditions, numbered), args=(*self.args, *values))

    def where_given(self, *conditions: tuple[str, Any]) -> Rows:
        """Each one-value condition whose value is not None (a filter's optional fields)."""
        rows = self
        for condition, value in conditions:
            if value is not None:
                rows = rows.where(condition, value)
        return rows

    def _from(self) -> str:
        where = " AND ".join(self.conditions) or "TRUE"
        return f'FROM "{self.table}" WHERE {where}'

    async def fetch(self, order: str, limit: int, offset: int = 0) -> list[Row]:
        return await _query(
            f"SELECT {', '.join(self.columns)} {self._from()} ORDER BY {order}"
            f" LIMIT {int(limit)} OFFSET {int(offset)}",
            self.args,
        )

    async def ids(self, order: str, limit: int, offset: int) -> list[Any]:
        rows = await _query(
            f"SELECT id {self._from()} ORDER BY {order} LIMIT {int(limit)} OFFSET {int(offset)}",
            self.args,
        )
        return [row["id"] for row in rows]

    async def by_ids(self, ids: Sequence[Any]) -> list[Row]:
        """These rows, in the order of ``ids`` (those still there)."""
        found = await _query(
            f'SELECT {", ".join(self.columns)} FROM "{self.table}" WHERE id = ANY($1)', (list(ids),)
        )
        rows = {row["id"]: row for row in found}
        return [rows[i] for i in ids if i in rows]

    async def count(self, up_to: int | None = None) -> int:
        """All of them, or no more than ``up_to``."""
        if up_to is None:
            sql = f"SELECT count(*) AS n {self._from()}"
        else:
            sql = f"SELECT count(*) AS n FROM (SELECT 1 {self._from()} LIMIT {int(up_to)}) AS t"
        return int((await _query(sql, self.args))[0]["n"])


def stored_json(value: Any) -> Any:
    """A JSON column's value: text as asyncpg sends it, decoded as Tortoise's ``JSONField``
    decodes it; a model's value is already decoded."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


async def _query(sql: str, args: Sequence[Any]) -> list[Row]:
    """The rows as asyncpg gives them (``execute_query_dict`` would copy each into a dict)."""
    _, rows = await Tortoise.get_connection("default").execute_query(sql, list(args))
    return cast(list[Row], rows)
