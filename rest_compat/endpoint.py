"""One REST call: request -> operation variables -> GraphQL execution -> seed-shaped JSON."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from graphql import (
    GraphQLInputObjectType,
    GraphQLSchema,
    ListTypeNode,
    NamedTypeNode,
    NonNullTypeNode,
    TypeNode,
    VariableDefinitionNode,
)
from starlette.requests import Request
from starlette.responses import Response

from aica.jsonout import FastJSONResponse
from rest_compat.bodies import read_body
from rest_compat.errors import RestError, coded_error, from_graphql_error
from rest_compat.files import audio_response
from rest_compat.multipart import FileStore, read_upload
from rest_compat.operations import Operation, load
from rest_compat.routes import Body, RestRoute, Shape

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
    assert isinstance(node, NamedTypeNode)
    return node.name.value


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


@dataclass(frozen=True)
class Limits:
    body_bytes: int
    upload_bytes: int


class RestEndpoint:
    def __init__(
        self,
        route: RestRoute,
        schema: ExecutableSchema,
        types: GraphQLSchema,
        context_getter: ContextGetter,
        files: FileStore,
        limits: Limits,
    ) -> None:
        self.route = route
        self.operation: Operation = load(route.operation)
        self.precheck = load(route.precheck) if route.precheck else None
        self.schema = schema
        self.context_getter = context_getter
        self.files = files
        self.limits = limits
        self.variables: dict[str, VariableDefinitionNode] = {
            v.variable.name.value: v for v in self.operation.definition.variable_definitions or ()
        }
        self.alternatives = [
            (
                alt.body_key,
                RestEndpoint(
                    replace(
                        route,
                        operation=alt.operation,
                        body_variable=alt.body_variable,
                        alternatives=(),
                    ),
                    schema,
                    types,
                    context_getter,
                    files,
                    limits,
                ),
            )
            for alt in route.alternatives
        ]
        self.body_fields: set[str] = set()
        if route.body_variable and route.body is Body.MULTIPART_UPLOAD:
            input_type = types.get_type(type_name(self.variables[route.body_variable].type))
            assert isinstance(input_type, GraphQLInputObjectType)
            self.body_fields = set(input_type.fields)

    async def variables_from(self, request: Request) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for source in (request.query_params, request.path_params):
            for name, raw in source.items():
                definition = self.variables.get(name)
                if definition is None or name == self.route.body_variable or raw == "":
                    continue  # unknown parameters are ignored, as most REST APIs do
                values[name] = coerce(name, raw, type_name(definition.type))
        return values

    async def body_from(self, request: Request) -> dict[str, Any]:
        if self.route.body is Body.MULTIPART_UPLOAD:
            upload = await read_upload(request, self.files, self.limits.upload_bytes)
            request.state.staged_id = upload.staged_id
            fields = {k: v for k, v in upload.fields.items() if k in self.body_fields}
            return {**fields, "stagedFileId": upload.staged_id, "fileName": upload.file_name}
        allow_form = self.route.body is Body.JSON_OR_FORM
        return await read_body(request, self.limits.body_bytes, allow_form=allow_form)

    async def _execute(
        self, request: Request, operation: Operation, variables: dict[str, Any]
    ) -> Any:
        context = getattr(request.state, "graphql_context", None)
        if context is None:  # one context (one authentication) per request, precheck included
            context = request.state.graphql_context = await self.context_getter(request)
        return await self.schema.execute(
            operation.document,
            variable_values=variables,
            context_value=context,
            operation_name=operation.name,
        )

    def target(self, body: dict[str, Any] | None) -> RestEndpoint:
        """The endpoint whose operation serves this body (see ``RestRoute.alternatives``)."""
        for key, endpoint in self.alternatives:
            if body is not None and key in body:
                return endpoint
        return self

    async def handle(self, request: Request) -> Response:
        try:
            return await self.respond(request)
        except Exception as exc:
            response = coded_error(exc, request)
            if response is None:
                raise
            return response
        finally:
            staged_id = getattr(request.state, "staged_id", None)
            if staged_id:  # moved into place on success; otherwise nothing must stay behind
                await self.files.discard(staged_id)

    async def respond(self, request: Request) -> Response:
        if self.precheck is not None:
            checked = await self._execute(request, self.precheck, {})
            if checked.errors:
                return from_graphql_error(checked.errors[0].formatted, request)
        variables = await self.variables_from(request)
        body = await self.body_from(request) if self.route.body_variable else None
        target = self.target(body)
        if target.route.body_variable:
            variables[target.route.body_variable] = body
        result = await self._execute(request, target.operation, variables)
        if result.errors:
            return from_graphql_error(result.errors[0].formatted, request)
        value = result.data[target.operation.root_field]
        for key in self.route.pick:
            value = value[key]
        if self.route.shape is Shape.EMPTY:
            return Response(status_code=self.route.status)
        if self.route.shape is Shape.FILE:
            return await audio_response(self.files, value)
        if self.route.shape is Shape.LIST:
            meta = {key: value[key] for key in self.route.meta}
            return FastJSONResponse({"data": value["items"], "meta": meta}, self.route.status)
        return FastJSONResponse({"data": value}, self.route.status)
