"""OpenAPI 3.1 generated from the route table, the stored operations and the schema's types.

A stored fragment ``XFields`` is published as the named schema ``X`` and referenced wherever it
is spread, so generated clients get one ``Record`` or ``Project`` class, not one per route.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLType,
    SelectionSetNode,
    Undefined,
    type_from_ast,
)

from rest_compat.operations import load
from rest_compat.routes import Body, RestRoute, Shape

_SCALARS: dict[str, dict[str, Any]] = {
    "Int": {"type": "integer"},
    "Float": {"type": "number"},
    "Boolean": {"type": "boolean"},
    "String": {"type": "string"},
    "ID": {"type": "string"},
    "DateTime": {"type": "string", "format": "date-time"},
    "DateFilter": {"type": "string", "description": "ISO 8601 date or date-time"},
    "JSON": {"type": "object"},
}
_REF = "#/components/schemas/"
_ERROR_DETAIL = {
    "type": "object",
    "properties": {
        "message": {"type": "string"},
        "code": {"type": "string", "description": "Stable: BAD_USER_INPUT, NOT_FOUND, ..."},
        "field": {"type": "string", "description": "The input at fault, when there is one."},
    },
    "required": ["message", "code"],
}
_ERROR = {
    "type": "object",
    "properties": {"error": {"$ref": f"{_REF}ErrorDetail"}},
    "required": ["error"],
}
_ERROR_RESPONSE = {
    "description": "Error",
    "content": {"application/json": {"schema": {"$ref": f"{_REF}Error"}}},
}
_SELECTED_ORG = {
    "name": "X-Selected-Org-ID",
    "in": "header",
    "description": "The organization acted in (a user may belong to several); a service "
    "token (aica_sk_...) is bound to one and may omit it.",
    "schema": {"type": "string"},
}
_CONTENT_RANGE = {
    "Content-Range": {
        "schema": {"type": "string"},
        "description": "bytes first-last/size (206), bytes */size (416)",
    }
}
_PAGE_META = ("page", "pageSize", "total")
_META = {
    "type": "object",
    "properties": {k: {"type": "integer"} for k in _PAGE_META},
    "required": list(_PAGE_META),
}
_BASE_URL = (
    "Every path is relative to the server's /api/v1 (for example http://127.0.0.1:8000/api/v1): "
    "give a generated client that as its base URL. Errors, unknown paths included, answer "
    '{"error": {"message", "code"}}.'
)


class _Components:
    """The document's named schemas; a name always stands for one shape."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {
            "Error": _ERROR,
            "ErrorDetail": _ERROR_DETAIL,
            "PageMeta": _META,
        }

    def ref(self, name: str, schema: dict[str, Any], nullable: bool = False) -> dict[str, Any]:
        known = self.schemas.setdefault(name, schema)
        assert known == schema, f"two shapes are named {name}"
        ref = {"$ref": _REF + name}
        return {"anyOf": [ref, {"type": "null"}]} if nullable else ref


def _schema_of(t: GraphQLType, nullable: bool = True) -> dict[str, Any]:
    if isinstance(t, GraphQLNonNull):
        return _schema_of(t.of_type, nullable=False)
    if isinstance(t, GraphQLList):
        out: dict[str, Any] = {"type": "array", "items": _schema_of(t.of_type)}
    elif isinstance(t, GraphQLEnumType):
        out = {"type": "string", "enum": list(t.values)}
    elif isinstance(t, GraphQLScalarType):
        out = dict(_SCALARS.get(t.name, {"type": "string"}))
    elif isinstance(t, GraphQLInputObjectType):
        out = {
            "type": "object",
            "properties": {n: _schema_of(f.type) for n, f in t.fields.items()},
            "required": [
                n
                for n, f in t.fields.items()
                if isinstance(f.type, GraphQLNonNull) and f.default_value is Undefined
            ],
            "additionalProperties": False,
        }
    else:
        out = {"type": "object"}
    if nullable and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


class _Selections:
    """The JSON shapes of an operation's selection sets, its fragments named in ``components``."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode], components: _Components):
        self.fragments = fragments
        self.components = components

    def schema(self, t: GraphQLType, selection: SelectionSetNode | None) -> dict[str, Any]:
        """The JSON shape ``selection`` produces on type ``t``."""
        nullable = not isinstance(t, GraphQLNonNull)
        inner = t.of_type if isinstance(t, GraphQLNonNull) else t
        if isinstance(inner, GraphQLList):
            out: dict[str, Any] = {"type": "array", "items": self.schema(inner.of_type, selection)}
        elif isinstance(inner, GraphQLObjectType) and selection is not None:
            spread = selection.selections[0]
            if len(selection.selections) == 1 and isinstance(spread, FragmentSpreadNode):
                name = spread.name.value
                shape = self.object(inner, self.fragments[name].selection_set)
                return self.components.ref(name.removesuffix("Fields"), shape, nullable)
            out = self.object(inner, selection)
        else:
            return _schema_of(t)
        if nullable:
            out["type"] = [out["type"], "null"]
        return out

    def object(self, t: GraphQLObjectType, selection: SelectionSetNode) -> dict[str, Any]:
        """Every selected field is in the answer (null when it has no value)."""
        props: dict[str, Any] = {}
        for node in selection.selections:
            if isinstance(node, FragmentSpreadNode):
                fragment = self.fragments[node.name.value]
                props.update(self.object(t, fragment.selection_set)["properties"])
            elif isinstance(node, FieldNode):
                key = node.alias.value if node.alias else node.name.value
                props[key] = self.schema(t.fields[node.name.value].type, node.selection_set)
        return {"type": "object", "properties": props, "required": list(props)}


def _openapi_path(path: str) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", r"{\1}", path)


def _operation(
    route: RestRoute, schema: GraphQLSchema, components: _Components, audio_types: Iterable[str]
) -> dict[str, Any]:
    op = load(route.operation)
    definition = op.definition
    fragments = {
        d.name.value: d for d in op.ast.definitions if isinstance(d, FragmentDefinitionNode)
    }
    selections = _Selections(fragments, components)
    path_params = set(re.findall(r"\{(\w+)", route.path))
    parameters: list[dict[str, Any]] = [{**_SELECTED_ORG, "required": not route.webhook}]
    for var in definition.variable_definitions or ():
        name = var.variable.name.value
        if name == route.body_variable:
            continue
        var_type = type_from_ast(schema, var.type)
        assert var_type is not None
        parameters.append(
            {
                "name": name,
                "in": "path" if name in path_params else "query",
                "required": name in path_params,
                "schema": _schema_of(var_type),
            }
        )
    root = schema.mutation_type if definition.operation.value == "mutation" else schema.query_type
    assert root is not None
    field_node = definition.selection_set.selections[0]
    assert isinstance(field_node, FieldNode)
    value = selections.schema(root.fields[field_node.name.value].type, field_node.selection_set)
    for key in route.pick:
        value = value["properties"][key]
    body: dict[str, Any] | None = None
    if route.shape is Shape.LIST:
        body = {
            "type": "object",
            "properties": {
                "data": value["properties"]["items"],
                "meta": (
                    {"$ref": _REF + "PageMeta"}
                    if route.meta == _PAGE_META
                    else {
                        "type": "object",
                        "properties": {k: value["properties"][k] for k in route.meta},
                        "required": list(route.meta),
                    }
                ),
            },
            "required": ["data", "meta"],
        }
    elif route.shape is Shape.ITEM:
        body = {"type": "object", "properties": {"data": value}, "required": ["data"]}
    success: dict[str, Any] = {"description": "Success"}
    if body is not None:
        success["content"] = {"application/json": {"schema": body}}
    responses: dict[str, Any] = {str(route.status): success, "default": _ERROR_RESPONSE}
    if route.shape is Shape.FILE:
        # The file's own type, or octet-stream (what generators decode as bytes) on request.
        binary = {"schema": {"type": "string", "format": "binary"}}
        audio = {media: binary for media in (*audio_types, "application/octet-stream")}
        success["description"] = "The whole file"
        success["content"] = audio
        responses["206"] = {
            "description": "The byte range the Range header asked for",
            "headers": _CONTENT_RANGE,
            "content": audio,
        }
        responses["307"] = {
            "description": "The file is fetched from object storage itself: a short-lived "
            "signed URL in Location (deployments with AICA_S3_AUDIO_REDIRECT)",
            "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}},
        }
        responses["416"] = {
            **_ERROR_RESPONSE,
            "description": "The range starts past the end of the file",
            "headers": _CONTENT_RANGE,
        }
        parameters.append(
            {
                "name": "Range",
                "in": "header",
                "required": False,
                "description": "One byte range, e.g. bytes=0-1023 (RFC 9110)",
                "schema": {"type": "string"},
            }
        )
    spec: dict[str, Any] = {
        "operationId": route.operation,
        "summary": route.summary,
        "parameters": parameters,
        "responses": responses,
        # A webhook sender may authenticate in the body instead (Bitrix24's application token).
        "security": [{"bearer": []}, {}] if route.webhook else [{"bearer": []}],
    }
    if route.body_variable:
        var = next(
            v
            for v in (definition.variable_definitions or ())
            if v.variable.name.value == route.body_variable
        )
        var_type = type_from_ast(schema, var.type)
        assert var_type is not None
        body_schema = _schema_of(var_type, nullable=False)
        media = "application/json"
        if route.body is Body.MULTIPART_UPLOAD:
            media = "multipart/form-data"
            props = {
                k: v
                for k, v in body_schema["properties"].items()
                if k not in ("stagedFileId", "fileName")
            }
            props["file"] = {"type": "string", "format": "binary"}
            props["metadata"] = {"type": "string", "description": "A JSON object"}
            body_schema = {"type": "object", "properties": props, "required": ["file", "projectId"]}
        content = {media: {"schema": body_schema}}
        for alt in route.alternatives:
            content["application/x-www-form-urlencoded"] = {
                "schema": {
                    "type": "object",
                    "description": f"A body with {alt.body_key!r} runs {alt.operation} instead",
                }
            }
        spec["requestBody"] = {"required": True, "content": content}
    return spec


def build_openapi(
    schema: GraphQLSchema, routes: tuple[RestRoute, ...], audio_types: Iterable[str]
) -> dict[str, Any]:
    """``audio_types``: the content types a stored recording may be served as."""
    components = _Components()
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(_openapi_path(route.path), {})[route.method.lower()] = _operation(
            route, schema, components, tuple(audio_types)
        )
    return {
        "openapi": "3.1.0",
        "info": {"title": "AICA REST API", "version": "1", "description": _BASE_URL},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "schemas": dict(sorted(components.schemas.items())),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": paths,
    }
