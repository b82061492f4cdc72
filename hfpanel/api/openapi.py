"""The OpenAPI 3.1 document of ``/api/v1``, built from the route table and what the store and the
configuration hold now (module, category and table names are listed as the enums of their path
parameters): nothing is documented that the server does not route, and the reverse.
"""

from __future__ import annotations

from .. import __version__, push
from . import schemas
from .base import PREFIX, PUSH_PATH
from .params import CURSOR, FORMAT, LIMIT
from .push_handler import push_modules

ERRORS = {
    "400": "bad input: a parameter that is malformed, unknown or out of range",
    "401": "sign in first, or send an API token with scope read (sites with sign-in)",
    "403": "a page rule of auth.access keeps this from the reader (transfers, events)",
    "404": "no such module, category, table or run",
}


def _parameter(param, where: str, context) -> dict:
    return {
        "name": param.name,
        "in": where,
        "required": where == "path" or param.required,
        "description": param.doc,
        "schema": param.schema(context),
    }


def _operation(route, context) -> dict:
    params = [_parameter(p, "path", context) for p in route.path_params]
    params += [_parameter(p, "query", context) for p in route.params]
    content = {"application/json": {"schema": route.schema}}
    if route.table:
        params += [_parameter(p, "query", context) for p in (LIMIT, CURSOR, FORMAT)]
        content["text/csv"] = {"schema": {"type": "string"}}
    responses = {
        "200": {"description": route.summary, "content": content},
        "304": {"description": "not modified since the ETag / Last-Modified sent (no new commit to the store)"},
    }
    for code, text in ERRORS.items():
        responses[code] = {"description": text, "content": {"application/json": {"schema": schemas.ref("Error")}}}
    operation = {"operationId": route.name, "summary": route.summary, "parameters": params, "responses": responses}
    if route.description:
        operation["description"] = route.description
    return operation


def _push_operation(context) -> dict:
    modules = push_modules(context.config)
    refusals = {
        "400": "the body does not follow the schema (the message names the first problem)",
        "401": "unsigned, unknown/revoked/expired token, timestamp outside the window, or a bad signature",
        "403": "the token's scopes do not cover this module",
        "404": "no push module of that name",
        "409": "replayed: the nonce was used before",
        "413": "the body is larger than the configured limit",
        "429": "too many pushes with this token (see Retry-After)",
    }
    responses = {
        "202": {
            "description": "accepted: on disk, rated at the module's next run",
            "content": {
                "application/json": {
                    "schema": schemas.obj(
                        {
                            "module": schemas.STR,
                            "accepted": schemas.INT,
                            "first_id": schemas.INT,
                            "last_id": schemas.INT,
                        }
                    )
                }
            },
        }
    }
    for code, text in refusals.items():
        responses[code] = {"description": text, "content": {"application/json": {"schema": schemas.ref("Error")}}}
    module = {"type": "string"}
    if context.config is not None:
        module["enum"] = modules
    return {
        "operationId": "push",
        "summary": "Push test results to a module of collector type push (signed; see the description).",
        "description": "Sign with the token: Authorization: "
        f"{push.SCHEME} id=<token id>, ts=<unix seconds>, nonce=<16-64 hex>, sig=<hex of HMAC-SHA256 with key "
        "sha256(token secret) over '<ts>\\n<nonce>\\nPOST\\n<path>\\n' + raw body>. "
        f"Accepted within {push.WINDOW_S} s of the server's clock, each nonce once.",
        "parameters": [{"name": "module", "in": "path", "required": True, "schema": module}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": push.BODY_SCHEMA}}},
        "responses": responses,
        "security": [{"pushSignature": []}],
    }


def document(context, routes) -> dict:
    """The OpenAPI 3.1 document of ``routes`` (the read routes' table) and the push operation."""
    site, title = context.site()
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"hfpanel API — {title or site or 'site'}",
            "version": __version__,
            "description": "Read the site's status, history, detail tables, runs, metrics and transfer "
            "statistics. Tables answer JSON or CSV, one page at a time (follow `next`). Every answer "
            "carries an ETag and Last-Modified from the store's latest commit; send them back to get a 304.",
        },
        "servers": [{"url": PREFIX}],
        "paths": {
            **{route.path: {"get": _operation(route, context)} for route in routes},
            PUSH_PATH: {"post": _push_operation(context)},
        },
        "components": {
            "schemas": schemas.COMPONENTS,
            "securitySchemes": {
                "pushSignature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "HFP-HMAC-SHA256 signature of the request (see the push operation)",
                }
            },
        },
    }
