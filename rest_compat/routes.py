"""The route table: REST verb + path -> stored operation, response shape, success status."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Shape(Enum):
    ITEM = "item"
    """``{"data": {...}}``"""
    LIST = "list"
    """``{"data": [...], "meta": {...}}`` from a paginated field: ``items`` become ``data``,
    the route's ``meta`` fields the ``meta``."""
    EMPTY = "empty"
    """No body (204)."""
    FILE = "file"
    """The bytes of a stored file the operation points at (``key``), with HTTP Range."""


class Body(Enum):
    JSON = "json"
    JSON_OR_FORM = "json-or-form"
    """Also ``application/x-www-form-urlencoded`` with nested keys (webhook senders)."""
    MULTIPART_UPLOAD = "multipart"
    """A recording streamed to storage; the operation gets ``stagedFileId``, ``fileName``
    and the other form fields."""


@dataclass(frozen=True)
class Alternative:
    """When the body has ``body_key``, ``operation`` serves it, the body as ``body_variable``."""

    body_key: str
    operation: str
    body_variable: str


@dataclass(frozen=True)
class RestRoute:
    method: str
    path: str
    operation: str
    shape: Shape = Shape.ITEM
    status: int = 200
    summary: str = ""
    body_variable: str | None = None
    """The variable that receives the body (``input``), if the route takes one."""
    body: Body = Body.JSON
    alternatives: tuple[Alternative, ...] = ()
    pick: tuple[str, ...] = ()
    """Where the response's ``data`` sits inside the operation's root field."""
    meta: tuple[str, ...] = ("page", "pageSize", "total")
    """``Shape.LIST``: the fields of the operation's result that make up ``meta``."""
    precheck: str | None = None
    """An operation run before the body is read; its errors answer the request (so nobody
    streams 500 MB before learning their token is wrong)."""
    webhook: bool = False
    """Also called by senders that authenticate in the body (no bearer token, no org header)."""


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
    RestRoute(
        "POST",
        "/records/upload",
        "UploadRecord",
        status=201,
        body_variable="input",
        body=Body.MULTIPART_UPLOAD,
        summary="Upload audio file",
    ),
    RestRoute(
        "POST",
        "/records/ingest",
        "IngestRecord",
        body_variable="input",
        summary="Ingest from webhook (Bitrix24, etc.)",
        # Bitrix24 posts its call-end event form-encoded, authenticated by its app token.
        body=Body.JSON_OR_FORM,
        alternatives=(Alternative("event", "IngestBitrix24Event", "event"),),
        webhook=True,
    ),
    RestRoute("GET", "/records/{id}", "GetRecord", summary="Get record details"),
    RestRoute("GET", "/records/{id}/transcript", "GetTranscript", summary="Get transcript"),
    RestRoute(
        "GET", "/records/{id}/audio", "GetRecordAudio", Shape.FILE, summary="Stream audio file"
    ),
    RestRoute("DELETE", "/records/{id}", "DeleteRecord", Shape.EMPTY, 204, summary="Delete record"),
    RestRoute("GET", "/projects/{id}/stats", "GetProjectStats", summary="Project statistics"),
    RestRoute("GET", "/analyses", "ListAnalyses", Shape.LIST, summary="List analyses"),
    RestRoute(
        "GET",
        "/analyses/{id}",
        "GetAnalysis",
        summary="Get analysis details (scores, summary, transcript segments)",
    ),
    RestRoute(
        "POST",
        "/analyses/{id}/re-analyze",
        "ReanalyzeAnalysis",
        status=201,
        body_variable="input",
        summary="Re-analyze with a different profile",
    ),
    RestRoute(
        "GET",
        "/analyses/{id}/annotations",
        "ListAnnotations",
        pick=("annotations",),
        summary="List annotations",
    ),
    RestRoute(
        "POST",
        "/analyses/{id}/annotations",
        "AddAnnotation",
        status=201,
        body_variable="input",
        summary="Add annotation",
    ),
    RestRoute(
        "GET", "/analyses/{id}/review", "GetReview", pick=("review",), summary="Get QA review"
    ),
    RestRoute(
        "POST",
        "/analyses/{id}/review",
        "SubmitReview",
        status=201,
        body_variable="input",
        summary="Submit QA review",
    ),
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
    RestRoute("GET", "/alerts", "ListAlertRules", Shape.LIST, summary="List alert rules"),
    RestRoute(
        "POST",
        "/alerts",
        "CreateAlertRule",
        status=201,
        body_variable="input",
        summary="Create alert rule",
    ),
    RestRoute(
        "PATCH",
        "/alerts/{id}",
        "UpdateAlertRule",
        body_variable="input",
        summary="Update alert rule",
    ),
    RestRoute(
        "DELETE", "/alerts/{id}", "DeleteAlertRule", Shape.EMPTY, 204, summary="Delete alert rule"
    ),
    RestRoute(
        "GET",
        "/billing/summary/{orgId}",
        "GetBillingSummary",
        summary="Usage summary (current period)",
    ),
    RestRoute("GET", "/billing/usage/{orgId}", "GetBillingUsage", summary="Detailed usage metrics"),
    RestRoute(
        "GET",
        "/billing/credits/{orgId}",
        "GetBillingCredits",
        summary="Credits list and balances",
    ),
    RestRoute(
        "PATCH",
        "/billing/budget/{orgId}",
        "UpdateBudget",
        body_variable="input",
        summary="Update budget limit",
    ),
    RestRoute(
        "GET",
        "/search",
        "Search",
        Shape.LIST,
        meta=("total", "query"),
        summary="Full-text search",
    ),
    # Beside the seed: outgoing webhooks (record.completed, alert.triggered, ...).
    RestRoute(
        "GET", "/webhooks", "ListWebhookEndpoints", Shape.LIST, summary="List webhook endpoints"
    ),
    RestRoute(
        "POST",
        "/webhooks",
        "CreateWebhookEndpoint",
        status=201,
        body_variable="input",
        summary="Create webhook endpoint (the answer shows its signing secret once)",
    ),
    RestRoute(
        "DELETE",
        "/webhooks/{id}",
        "DeleteWebhookEndpoint",
        Shape.EMPTY,
        204,
        summary="Delete webhook endpoint",
    ),
    RestRoute(
        "POST",
        "/webhooks/{id}/test",
        "SendTestWebhook",
        status=202,
        summary="Send a signed test event",
    ),
)
