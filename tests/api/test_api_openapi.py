"""Every route of ``/api/v1`` answers what ``/api/v1/openapi.json`` says it answers.

The routes are taken from the server's own routing table (``hfpanel.api.patterns``, what ``hfpanel
serve`` mounts), so a route added without documentation, or documented without being routed, fails
here. Each route is asked with every name the document lists for its path parameters, and its
answers — 200, 304, 400 and 404 — are validated against the document's schemas.
"""

from __future__ import annotations

import csv
import io
import itertools
import re

import pytest
import requests
from api_server import served_api
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from hfpanel.api.base import PREFIX, PUSH_PATH
from hfpanel.api.push_handler import PushHandler
from hfpanel.api.server import ApiHandler, patterns

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")


@pytest.fixture(scope="module")
def api(site):
    with served_api(site.root, site.config) as url:
        yield url


@pytest.fixture(scope="module")
def document(api):
    answer = requests.get(f"{api}{PREFIX}/openapi.json", timeout=30)
    assert answer.status_code == 200
    return answer.json()


def routed_paths(store, config) -> list[str]:
    """The OpenAPI paths of the routes the server mounts (its routing table, not the route list)."""
    found = []
    for _pattern, handler, *rest in patterns(store, config):
        if handler is ApiHandler:
            found.append(rest[0]["route"].path)
        elif handler is PushHandler:
            found.append(PUSH_PATH)
    return found


def check(document: dict, schema: dict, body) -> None:
    validator = Draft202012Validator({"allOf": [schema], "components": document["components"]})
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    for value in _strings_at_time_keys(body):
        assert RFC3339.match(value), value


def _strings_at_time_keys(body):
    if isinstance(body, dict):
        for key, value in body.items():
            if key in ("time", "since", "until", "last_good", "start", "end") and isinstance(value, str):
                yield value
            else:
                yield from _strings_at_time_keys(value)
    elif isinstance(body, list):
        for item in body:
            yield from _strings_at_time_keys(item)


def examples(operation: dict) -> list[dict]:
    """Every combination of the path parameters' listed names (a metric: 'health')."""
    choices = {}
    for param in operation["parameters"]:
        if param["in"] == "path":
            choices[param["name"]] = param["schema"].get("enum") or ["health"]
    names = list(choices)
    return [dict(zip(names, combo)) for combo in itertools.product(*(choices[n] for n in names))]


def test_the_document_is_valid_openapi_and_matches_the_routing_table(site, document):
    validate(document)
    assert set(document["paths"]) == set(routed_paths(site.root, site.config))
    module_param = document["paths"]["/modules/{module}"]["get"]["parameters"][0]
    assert module_param["schema"]["enum"] == sorted(site.expected[site.times[-1]])


def test_every_route_answers_as_documented(api, document):
    asked = 0
    for path, item in document["paths"].items():
        if "get" not in item:  # the push route: tests/api/test_push.py
            continue
        operation = item["get"]
        for values in examples(operation):
            url = api + PREFIX + path.format(**values)
            answer = requests.get(url, timeout=30)
            code = str(answer.status_code)
            assert code in operation["responses"], f"{url}: undocumented status {code}: {answer.text[:200]}"
            assert code in ("200", "404"), f"{url}: {code} {answer.text[:200]}"
            schema = operation["responses"][code]["content"]["application/json"]["schema"]
            check(document, schema, answer.json())
            assert answer.headers["X-Content-Type-Options"] == "nosniff"
            asked += 1
            if "text/csv" in operation["responses"]["200"]["content"] and code == "200":
                as_csv = requests.get(url, params={"format": "csv"}, timeout=30)
                assert as_csv.headers["Content-Type"].startswith("text/csv")
                rows = list(csv.DictReader(io.StringIO(as_csv.text)))
                assert len(rows) == len(answer.json()["rows"])
    assert asked >= 20


def test_refusals_are_documented_one_line_json(api, document):
    cases = [
        ("/modules/no_such_module", 404),
        ("/modules/sam_ce/detail/no_such_table", 404),
        ("/categories/nope", 404),
        ("/status?at=yesterday-ish", 400),
        ("/modules?limit=0", 400),
        ("/modules?level=purple", 400),
        ("/modules?unknown=1", 400),
        ("/runs?since=2026-01-02&until=2026-01-01", 400),
        ("/runs?cursor=not-a-cursor!", 400),
        ("/feed?since_run=20000101T000000-deadbeef", 404),
        ("/transfers/matrix?window=forever", 400),
    ]
    for url, code in cases:
        answer = requests.get(api + PREFIX + url, timeout=30)
        assert answer.status_code == code, (url, answer.text)
        path = url.split("?")[0]
        template = next(p for p in document["paths"] if re.fullmatch(re.sub(r"\{\w+\}", "[^/]+", p), path))
        schema = document["paths"][template]["get"]["responses"][str(code)]["content"]["application/json"]["schema"]
        check(document, schema, answer.json())
        message = answer.json()["error"]["message"]
        assert "\n" not in message and message


def test_not_modified_is_documented(api, document):
    first = requests.get(f"{api}{PREFIX}/runs", timeout=30)
    again = requests.get(f"{api}{PREFIX}/runs", headers={"If-None-Match": first.headers["ETag"]}, timeout=30)
    assert again.status_code == 304 and again.content == b""
    assert "304" in document["paths"]["/runs"]["get"]["responses"]
