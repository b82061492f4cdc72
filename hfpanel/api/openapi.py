"""The OpenAPI 3.1 document of ``/api/v1``, built from the route table and what the store and the
configuration hold now (module, category and table names are listed as the enums of their path
parameters): nothing is documented that the server does not route, and the reverse.
"""

from __future__ import annotations

from .. import __version__
from . import schemas
from .params import CURSOR, FORMAT, LIMIT

ERRORS = {
    "400": "bad input: a parameter that is malformed, unknown or out of range",
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


def document(context) -> dict:
    from .routes import PREFIX, ROUTES

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
        "paths": {route.path: {"get": _operation(route, context)} for route in ROUTES},
        "components": {"schemas": schemas.COMPONENTS},
    }
