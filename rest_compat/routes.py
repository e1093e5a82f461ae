"""The route table: REST verb + path -> stored operation, response shape, success status."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Shape(Enum):
    ITEM = "item"
    """``{"data": {...}}``"""
    LIST = "list"
    """``{"data": [...], "meta": {"page", "pageSize", "total"}}`` from a paginated field."""
    EMPTY = "empty"
    """No body (204)."""


@dataclass(frozen=True)
class RestRoute:
    method: str
    path: str
    operation: str
    shape: Shape = Shape.ITEM
    status: int = 200
    summary: str = ""
    body_variable: str | None = None
    """The variable that receives the JSON body (``input``), if the route takes one."""


ROUTES: tuple[RestRoute, ...] = (
    RestRoute("GET", "/projects", "ListProjects", Shape.LIST, summary="List projects"),
    RestRoute(
        "POST",
        "/projects",
        "CreateProject",
        status=201,
        body_variable="input",
        summary="Create project",
    ),
    RestRoute("GET", "/projects/{id}", "GetProject", summary="Get project details"),
    RestRoute(
        "PATCH",
        "/projects/{id}",
        "UpdateProject",
        body_variable="input",
        summary="Update project",
    ),
    RestRoute(
        "DELETE",
        "/projects/{id}",
        "DeleteProject",
        Shape.EMPTY,
        204,
        summary="Delete project",
    ),
    RestRoute(
        "GET",
        "/records",
        "ListRecords",
        Shape.LIST,
        summary="List records (paginated, filterable)",
    ),
    RestRoute("GET", "/records/{id}", "GetRecord", summary="Get record details"),
    RestRoute("DELETE", "/records/{id}", "DeleteRecord", Shape.EMPTY, 204, summary="Delete record"),
    RestRoute("GET", "/users", "ListUsers", Shape.LIST, summary="List organization users"),
    RestRoute(
        "POST",
        "/users/invite",
        "InviteUser",
        status=201,
        body_variable="input",
        summary="Invite user by email",
    ),
    RestRoute(
        "PATCH", "/users/{id}", "UpdateUser", body_variable="input", summary="Update user role"
    ),
    RestRoute(
        "DELETE",
        "/users/{id}",
        "RemoveUser",
        Shape.EMPTY,
        204,
        summary="Remove user from organization",
    ),
)
