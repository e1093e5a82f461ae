"""The GraphQL endpoint: HTTP and graphql-transport-ws, with our context and WS auth."""

from __future__ import annotations

import logging
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UnsetType

from aica.errors import AicaError, BadInput
from aica.graphql.context import Context, bearer
from aica.graphql.schema import Schema
from aica.jsonout import dumps
from aica.nesting import loads
from aica.runtime import Runtime


def context_for(runtime: Runtime, request: Request | WebSocket | None, response: Any) -> Context:
    headers = request.headers if request is not None else {}
    return Context(
        runtime=runtime,
        request=request,
        response=response,
        authorization=bearer(headers.get("authorization")),
        selected_org_id=headers.get("x-selected-org-id") or None,
    )


_CLOSE_CODES = {"UNAUTHENTICATED": 4401}
"""WebSocket close code by error code; any other refusal (no org, not a member) is 4403."""
_MAX_REASON_BYTES = 123
"""The WebSocket protocol's limit on a close reason."""


class _OriginHint(logging.Filter):
    """strawberry's refused-origin warning names its own parameter, not our setting."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = record.msg.replace("`allowed_origins`", "AICA_ALLOWED_ORIGINS")
        return True


class _WebSocket(ASGIWebSocketAdapter):
    """strawberry closes every refused connection_init with 4403 "Forbidden"; this closes it
    with the code and reason ``on_ws_connect`` chose instead."""

    async def close(self, code: int, reason: str) -> None:
        refusal: tuple[int, str] | None = getattr(self.ws.state, "refusal", None)
        if code == 4403 and refusal is not None:
            code, reason = refusal
        await super().close(code, reason)


def _close_reason(message: str) -> str:
    return message.encode()[:_MAX_REASON_BYTES].decode(errors="ignore")


_NO_SUBPROTOCOL = BadInput(
    f"Only the {GRAPHQL_TRANSPORT_WS_PROTOCOL} subprotocol is supported (graphql-ws clients "
    "such as subscriptions-transport-ws are not)",
    field="Sec-WebSocket-Protocol",
)


async def _refuse_handshake(websocket: WebSocket, error: AicaError) -> None:
    """Answer the handshake with HTTP 400 and the error, where clients show it (a close frame
    after accepting reaches most of them as a bare 1006)."""
    body = {"errors": [{"message": error.message, "extensions": error.extensions}]}
    await websocket.send_denial_response(JSONResponse(body, status_code=400))


class GraphQLView(GraphQL[Context, None]):
    websocket_adapter_class = _WebSocket

    def __init__(self, schema: Schema, runtime: Runtime) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql",
            # The legacy graphql-ws protocol let clients skip connection_init auth.
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
            allowed_origins=runtime.settings.allowed_origins,
            multipart_uploads_enabled=True,
        )
        self.runtime = runtime
        strawberry_ws = logging.getLogger("strawberry.ws")
        if not any(isinstance(f, _OriginHint) for f in strawberry_ws.filters):
            strawberry_ws.addFilter(_OriginHint())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and not set(scope.get("subprotocols") or ()) & set(
            self.websocket_subprotocols
        ):
            await _refuse_handshake(WebSocket(scope, receive, send), _NO_SUBPROTOCOL)
            return
        await super().__call__(scope, receive, send)

    def encode_json(self, data: object) -> str:
        """Text, not bytes: WebSocket messages go out as text frames (graphql-transport-ws)."""
        return dumps(data).decode()

    def decode_json(self, data: str | bytes) -> object:
        try:
            return loads(data)
        except AicaError as exc:
            raise HTTPException(400, exc.message) from None

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        checked = getattr(request.state, "graphql_context", None)  # by the upload gate
        if isinstance(checked, Context):
            checked.response = response
            return checked
        return context_for(self.runtime, request, response)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Authenticate once per connection from ``{authorization, orgId}``."""
        params = context.connection_params or {}
        raw = params.get("authorization") or params.get("Authorization")
        token = bearer(str(raw)) or (str(raw) if raw else None)
        org_id = params.get("orgId")
        context.authorization = token
        context.selected_org_id = str(org_id) if org_id else None
        try:
            await context.actor()
        except AicaError as exc:
            if exc.extensions.get("field") == "X-Selected-Org-ID":
                reason = "Select an organization with orgId in the connection_init payload"
            else:
                reason = exc.message
            assert context.request is not None  # on_ws_connect runs for a connection
            context.request.state.refusal = (
                _CLOSE_CODES.get(exc.code, 4403),
                _close_reason(reason),
            )
            raise ConnectionRejectionError({"message": exc.message, **exc.extensions}) from exc
        return await super().on_ws_connect(context)
