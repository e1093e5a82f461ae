"""One REST call: request -> operation variables -> GraphQL execution -> seed-shaped JSON."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from graphql import ListTypeNode, NonNullTypeNode, TypeNode, VariableDefinitionNode
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from rest_compat.errors import RestError, from_graphql_error
from rest_compat.operations import Operation, load
from rest_compat.routes import RestRoute, Shape

ContextGetter = Callable[[Request], Awaitable[Any]]


class ExecutableSchema(Protocol):
    """What the shim needs of the schema it is given (strawberry's ``Schema``)."""

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = ...,
        context_value: Any | None = ...,
        root_value: Any | None = ...,
        operation_name: str | None = ...,
    ) -> Any: ...

    def as_str(self) -> str: ...


def type_name(node: TypeNode) -> str:
    while isinstance(node, NonNullTypeNode | ListTypeNode):
        node = node.type
    return node.name.value  # type: ignore[attr-defined]


def coerce(name: str, raw: str, graphql_type: str) -> Any:
    """Query and path strings to the variable's type, with a message naming the parameter."""
    if graphql_type == "Int":
        try:
            return int(raw)
        except ValueError:
            raise RestError("BAD_USER_INPUT", f"{name} must be an integer", field=name) from None
    if graphql_type == "Float":
        try:
            return float(raw)
        except ValueError:
            raise RestError("BAD_USER_INPUT", f"{name} must be a number", field=name) from None
    if graphql_type == "Boolean":
        if raw.lower() in {"true", "1"}:
            return True
        if raw.lower() in {"false", "0"}:
            return False
        raise RestError("BAD_USER_INPUT", f"{name} must be true or false", field=name)
    return raw


async def read_json(request: Request, limit: int) -> Any:
    content_type = request.headers.get("content-type", "")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise RestError("PAYLOAD_TOO_LARGE", f"Request body is larger than {limit} bytes")
    if not body.strip():
        return None
    if content_type and "json" not in content_type:
        raise RestError(
            "UNSUPPORTED_MEDIA_TYPE", "Send a JSON body (Content-Type: application/json)"
        )
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise RestError("BAD_USER_INPUT", "Request body is not valid JSON") from None


class RestEndpoint:
    def __init__(
        self,
        route: RestRoute,
        schema: ExecutableSchema,
        context_getter: ContextGetter,
        max_body_bytes: int,
    ) -> None:
        self.route = route
        self.operation: Operation = load(route.operation)
        self.schema = schema
        self.context_getter = context_getter
        self.max_body_bytes = max_body_bytes
        self.variables: dict[str, VariableDefinitionNode] = {
            v.variable.name.value: v for v in self.operation.definition.variable_definitions
        }

    async def variables_from(self, request: Request) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for source in (request.query_params, request.path_params):
            for name, raw in source.items():
                definition = self.variables.get(name)
                if definition is None or name == self.route.body_variable or raw == "":
                    continue  # unknown parameters are ignored, as most REST APIs do
                values[name] = coerce(name, raw, type_name(definition.type))
        if self.route.body_variable:
            body = await read_json(request, self.max_body_bytes)
            if not isinstance(body, dict):
                raise RestError("BAD_USER_INPUT", "Request body must be a JSON object")
            values[self.route.body_variable] = body
        return values

    async def handle(self, request: Request) -> Response:
        variables = await self.variables_from(request)
        result = await self.schema.execute(
            self.operation.document,
            variable_values=variables,
            context_value=await self.context_getter(request),
            operation_name=self.operation.name,
        )
        if result.errors:
            return from_graphql_error(result.errors[0].formatted, request)
        value = result.data[self.operation.root_field]
        if self.route.shape is Shape.EMPTY:
            return Response(status_code=self.route.status)
        if self.route.shape is Shape.LIST:
            meta = {"page": value["page"], "pageSize": value["pageSize"], "total": value["total"]}
            return JSONResponse({"data": value["items"], "meta": meta}, self.route.status)
        return JSONResponse({"data": value}, self.route.status)
