"""OpenAPI 3.1 generated from the route table, the stored operations and the schema's types."""

from __future__ import annotations

import re
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
_ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {"message": {"type": "string"}, "code": {"type": "string"}},
            "required": ["message", "code"],
        }
    },
}
_ERROR_RESPONSE = {"description": "Error", "content": {"application/json": {"schema": _ERROR}}}
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
_AUDIO = {"audio/*": {"schema": {"type": "string", "format": "binary"}}}


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


def _selection_schema(
    t: GraphQLType, selection: SelectionSetNode | None, fragments: dict[str, Any]
) -> dict[str, Any]:
    """The JSON shape a selection set produces on type ``t``."""
    nullable = not isinstance(t, GraphQLNonNull)
    inner = t.of_type if isinstance(t, GraphQLNonNull) else t
    if isinstance(inner, GraphQLList):
        out: dict[str, Any] = {
            "type": "array",
            "items": _selection_schema(inner.of_type, selection, fragments),
        }
    elif isinstance(inner, GraphQLObjectType) and selection is not None:
        props: dict[str, Any] = {}
        for node in selection.selections:
            if isinstance(node, FragmentSpreadNode):
                fragment: FragmentDefinitionNode = fragments[node.name.value]
                props.update(
                    _selection_schema(inner, fragment.selection_set, fragments)["properties"]
                )
            elif isinstance(node, FieldNode):
                key = node.alias.value if node.alias else node.name.value
                field_type = inner.fields[node.name.value].type
                props[key] = _selection_schema(field_type, node.selection_set, fragments)
        out = {"type": "object", "properties": props}
    else:
        return _schema_of(t)
    if nullable:
        out["type"] = [out["type"], "null"]
    return out


def _openapi_path(path: str) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", r"{\1}", path)


def _operation(route: RestRoute, schema: GraphQLSchema) -> dict[str, Any]:
    op = load(route.operation)
    definition = op.definition
    fragments = {
        d.name.value: d for d in op.ast.definitions if isinstance(d, FragmentDefinitionNode)
    }
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
    value = _selection_schema(
        root.fields[field_node.name.value].type, field_node.selection_set, fragments
    )
    for key in route.pick:
        value = value["properties"][key]
    body: dict[str, Any] | None = None
    if route.shape is Shape.LIST:
        body = {
            "type": "object",
            "properties": {
                "data": value["properties"]["items"],
                "meta": {
                    "type": "object",
                    "properties": {k: value["properties"][k] for k in route.meta},
                },
            },
        }
    elif route.shape is Shape.ITEM:
        body = {"type": "object", "properties": {"data": value}}
    success: dict[str, Any] = {"description": "Success"}
    if body is not None:
        success["content"] = {"application/json": {"schema": body}}
    responses: dict[str, Any] = {str(route.status): success, "default": _ERROR_RESPONSE}
    if route.shape is Shape.FILE:
        success["description"] = "The whole file"
        success["content"] = _AUDIO
        responses["206"] = {
            "description": "The byte range the Range header asked for",
            "headers": _CONTENT_RANGE,
            "content": _AUDIO,
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


def build_openapi(schema: GraphQLSchema, routes: tuple[RestRoute, ...]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(_openapi_path(route.path), {})[route.method.lower()] = _operation(
            route, schema
        )
    return {
        "openapi": "3.1.0",
        "info": {"title": "AICA REST API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": paths,
    }
