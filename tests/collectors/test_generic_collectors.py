"""The five generic collectors over real-shaped fixtures, and every document fault a source can produce."""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from fault_server import FaultServer

from collectors.command import CommandCollector
from collectors.html_table import HtmlTableCollector
from collectors.http_csv import HttpCsvCollector
from collectors.http_json import HttpJsonCollector
from collectors.http_xml import HttpXmlCollector
from hfpanel.collector import SourceError, collector_class
from hfpanel.rating import rate
from hfpanel.tabular import document_metrics, json_path, records_to_frame, select_rows, table_metrics

FIXTURES = Path(__file__).parents[1] / "fixtures"
SAM_ROWS = "responses.0.hits.hits.*._source.data"
FAST = {"timeout": 0.5, "retries": 0, "backoff": 0.01}
SSO_PAGE = b"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>
  CERN Single Sign-On
</title></head><body><form action="/auth">Log in</form></body></html>"""


@pytest.fixture
def srv():
    with FaultServer() as server:
        yield server


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def collect(collector):
    """What the runner does: fetch, then parse the payload."""
    return collector.parse(collector.fetch())


def reason(call, *args) -> str:
    with pytest.raises(SourceError) as info:
        call(*args)
    return str(info.value)


def test_entry_point_names_resolve_to_these_classes():
    expected = {
        "http_json": HttpJsonCollector,
        "http_csv": HttpCsvCollector,
        "html_table": HtmlTableCollector,
        "http_xml": HttpXmlCollector,
        "command": CommandCollector,
    }
    assert {name: collector_class(name) for name in expected} == expected


# -- http_json ------------------------------------------------------------------------------
def test_sam_results_over_http(srv):
    url = srv.route("/_msearch", fixture("sam/sam_results.json"), content_type="application/json")
    collector = HttpJsonCollector(
        url=url,
        method="POST",
        body='{"index": ["monit_prod_sam3_enr_*"]}\n{"size": 500}\n',
        rows=SAM_ROWS,
        where={"vo": "cms"},
        columns={"site": "dst_experiment_site", "flavour": "service_flavour", "status": "status"},
        metrics={
            "critical": {"count_where": {"status": "CRITICAL"}},
            "not_ok": {"count_where": {"status": ["CRITICAL", "WARNING", "UNKNOWN"]}},
            "took_ms": "took",
            "total_hits": "responses.0.hits.total.value",
        },
        **FAST,
    )
    result = collect(collector)
    # the fixture holds 16 CMS results: 9 OK, 4 CRITICAL, 2 WARNING, 1 UNKNOWN
    assert result.metrics == {"rows": 16.0, "critical": 4.0, "not_ok": 7.0, "took_ms": 184.0, "total_hits": 16.0}
    rows = result.tables["rows"]
    assert list(rows.columns) == ["site", "flavour", "status"]
    assert set(rows["status"]) == {"OK", "WARNING", "CRITICAL", "UNKNOWN"}
    assert srv.requests("/_msearch")[0].headers["accept"] == "application/json"


def test_where_matching_nothing_gives_an_empty_table_not_an_error():
    collector = HttpJsonCollector(
        rows=SAM_ROWS,
        where={"vo": "atlas"},
        metrics={
            "critical": {"count_where": {"status": "CRITICAL"}},
            "tier_sum": {"sum": "dst_tier"},
            "tier_mean": {"mean": "dst_tier"},
        },
    )
    result = collector.parse(fixture("sam/sam_results.json"))
    assert result.tables["rows"].empty
    assert result.metrics["rows"] == 0 and result.metrics["critical"] == 0 and result.metrics["tier_sum"] == 0
    assert math.isnan(result.metrics["tier_mean"])


def test_metrics_only_without_rows():
    collector = HttpJsonCollector(
        metrics={
            "free": "poolData.detailsData.costData.space.free",
            "removal_reported": "poolData.detailsData.removalReported",
            "error_message": "poolData.detailsData.errorMessage",
        }
    )
    doc = json.loads(fixture("dcache/dcache_pool_usage.json"))
    result = collector.parse(fixture("dcache/dcache_pool_usage.json"))
    assert result.tables == {}
    assert result.metrics["free"] == doc["poolData"]["detailsData"]["costData"]["space"]["free"]
    assert result.metrics["removal_reported"] == 1.0
    assert math.isnan(result.metrics["error_message"])  # JSON null


def test_nested_records_flatten_and_lists_become_json():
    frame = HttpJsonCollector(rows="responses.0.hits.hits").parse(fixture("sam/sam_results.json")).tables["rows"]
    assert "_source.data.status" in frame.columns and "_source.metadata.kafka_timestamp" in frame.columns
    assert json.loads(frame["sort"][0]) == [1773130254000]
    tape = HttpJsonCollector(rows=".", where={"name": "dcache-cms-tape-buf01"})
    pools = tape.parse(fixture("dcache/dcache_pools.json"))
    assert json.loads(pools.tables["rows"]["groups"][0]) == ["cms-tape-buffer"]


def test_star_over_an_object_keeps_the_key():
    sites = HttpJsonCollector(rows="*").parse(fixture("cric/cric_sites.json")).tables["rows"]
    assert list(sites["_key"]) == list(json.loads(fixture("cric/cric_sites.json")))
    assert (sites["_key"] == sites["name"]).all()
    doc = json.loads(fixture("dcache/dcache_pool_usage.json"))
    queues = records_to_frame(json_path(doc, "poolData.detailsData.costData.extendedMoverHash.*"))
    assert list(queues["_key"]) == list(queues["name"]) == ["regular", "wan"]


def test_json_path_indexes_and_root():
    doc = {"a": [{"b": 1}, {"b": 2}], "c": {"d": True}}
    assert json_path(doc, "a.1.b") == 2 and json_path(doc, "a.-1.b") == 2
    assert json_path(doc, ".") is doc and json_path(doc, "") is doc
    assert json_path(doc, "a.*.b") == [1, 2]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("a.x", "path 'a.x' not found in document (a is a list of 2, not an object)"),
        ("a.5", "path 'a.5' not found in document (index 5 out of range for a list of 2)"),
        ("c.e", "path 'c.e' not found in document (no key 'e'; keys: d)"),
        ("c.d.*", "path 'c.d.*': cannot iterate over a bool at '*'"),
    ],
)
def test_json_path_errors_say_what_is_there(path, expected):
    assert reason(json_path, {"a": [{"b": 1}, {"b": 2}], "c": {"d": True}}, path) == expected


def test_rows_path_must_select_a_list_of_objects():
    assert reason(HttpJsonCollector(rows="*.name").parse, fixture("dcache/dcache_pools.json")) == (
        "rows path '*.name' selects a list holding the text 'dcache-cms-pool01_1', expected objects"
    )
    assert reason(HttpJsonCollector(rows=".").parse, fixture("cric/cric_sites.json")) == (
        "rows path '.' selects an object, not a list (use '*' for its values)"
    )


def test_lines_mode_reads_ndjson():
    payload = b'{"state": "OK"}\n{"state": "STUCK"}\n\n{"state": "OK"}\n'
    collector = HttpJsonCollector(lines=True, rows=".", metrics={"stuck": {"count_where": {"state": "STUCK"}}})
    assert collector.parse(payload).metrics == {"rows": 3.0, "stuck": 1.0}
    cut = collector.parse(b'{"state": "OK"}\n{"state": \n')  # a stream cut short loses its last line only
    assert [(m.what, m.key, m.reason) for m in cut.missing] == [
        ("line", "2", "malformed JSON: Expecting value at column 11")
    ]
    assert cut.expected == {"line": 2} and cut.metrics["rows"] == 1
    assert reason(collector.parse, b'{"state": \n') == "malformed JSON: Expecting value at line 1 column 11"


TRUNCATED_SAM = fixture("sam/sam_results.json")[:11_606]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"a": 1,\n "b": [1, 2\n "c": 3}', "malformed JSON: Expecting ',' delimiter at line 3 column 2"),
        (TRUNCATED_SAM, "malformed JSON: Unterminated string starting at line 300 column 32 (document truncated?)"),
        (b'{"took": 184, "responses": [', "malformed JSON: Expecting value at line 1 column 29 (document truncated?)"),
        (SSO_PAGE, "expected JSON, got an HTML page (<title>CERN Single Sign-On</title>)"),
        (b"", "empty document"),
        (b"  \n", "empty document"),
        (
            b'{"took": 3, "responses": [{"hits": {"total": {}, "max_score": null, "hits": []}}]}',
            "path 'responses.0.hits.hitz.*._source.data' not found in document (no key 'hitz'; keys: total, max_score, hits)",
        ),
    ],
    ids=["malformed", "truncated-string", "truncated", "html", "empty", "blank", "schema"],
)
def test_json_document_faults_over_http(srv, body, expected):
    url = srv.route("/doc", body, content_type="application/json")
    collector = HttpJsonCollector(url=url, rows="responses.0.hits.hitz.*._source.data", **FAST)
    assert reason(collect, collector) == expected


def test_transport_faults_reach_the_collector_with_its_params(srv):
    slow = HttpJsonCollector(url=srv.route("/slow", b"{}", delay=2), timeout=0.3, retries=0)
    assert reason(collect, slow) == "timed out after 0.3s (1 attempt: read timeout)"
    broken = HttpJsonCollector(url=srv.route("/err", status=503), timeout=0.5, retries=1, backoff=0.01)
    assert reason(collect, broken) == f"HTTP 503 Service Unavailable from {broken.url}"
    assert srv.hits("/err") == 2
    big = HttpJsonCollector(url=srv.route("/big", fixture("sam/sam_results.json")), max_bytes=10_000, **FAST)
    assert reason(collect, big) == "document larger than the 10 kB limit"


def test_missing_where_column_lists_the_columns():
    collector = HttpJsonCollector(rows=".", where={"vo_name": "cms"})
    assert reason(collector.parse, fixture("dcache/dcache_pools.json")) == (
        "where: no column 'vo_name' (columns: name, links, groups)"
    )


# -- shared selection -----------------------------------------------------------------------
def test_select_rows_where_and_columns():
    df = pd.DataFrame(
        {
            "ID": ["38201", "38215", "38190"],
            "SEVERITY": ["OUTAGE", "OUTAGE", "WARNING"],
            "MONITORED": ["true", "false", "true"],
        }
    )
    assert list(select_rows(df, where={"ID": 38215})["SEVERITY"]) == ["OUTAGE"]  # YAML int vs XML text
    assert len(select_rows(df, where={"MONITORED": True, "SEVERITY": ["OUTAGE", "WARNING"]})) == 2
    renamed = select_rows(df, columns={"downtime": "ID", "severity": "SEVERITY"})
    assert list(renamed.columns) == ["downtime", "severity"]
    assert reason(select_rows, df, None, ["ID", "HOST"]).startswith("columns: no column 'HOST'")


def test_table_metrics():
    df = pd.DataFrame({"free": [10, 20, None], "state": ["up", "down", "up"], "name": ["a", "b", "c"]})
    metrics = table_metrics(
        df,
        {
            "n": {"count": True},
            "total": {"sum": "free"},
            "avg": {"mean": "free"},
            "hi": {"max": "free"},
            "lo": {"min": "free"},
            "up": {"count_where": {"state": "up"}},
        },
    )
    assert metrics == {"n": 3.0, "total": 30.0, "avg": 15.0, "hi": 20.0, "lo": 10.0, "up": 2.0}
    assert reason(table_metrics, df, {"x": {"sum": "name"}}) == "metric 'x': column 'name' is not numeric (e.g. 'a')"


def test_document_metric_must_be_numeric():
    assert reason(document_metrics, {"a": {"b": "high"}}, {"load": "a.b"}) == (
        "metric 'load': path 'a.b' holds the text 'high', not a number"
    )


@pytest.mark.parametrize(
    ("cls", "params", "message"),
    [
        (HttpJsonCollector, {"rows": ".", "metrics": {"x": {"avg": "col"}}}, "metric 'x': expected one of count, sum"),
        (HttpJsonCollector, {"where": {"vo": "cms"}}, "where and columns need rows"),
        (HttpJsonCollector, {"metrics": {"n": {"count": True}}}, "metric 'n': a row aggregation needs rows"),
        (HttpCsvCollector, {"metrics": {"x": "a.b"}}, "metric 'x': a path is only allowed for JSON documents"),
        (HttpXmlCollector, {"rows": "//DOWNTIME["}, "rows: invalid XPath"),
        (HtmlTableCollector, {"match": "("}, "match: invalid regular expression"),
        (
            CommandCollector,
            {"output": "exit_code", "rows": "."},
            "rows, where, columns and metrics apply to output: json",
        ),
    ],
)
def test_configuration_mistakes_fail_on_construction(cls, params, message):
    with pytest.raises(ValueError) as info:
        cls(**params)
    assert str(info.value).startswith(message)


# -- http_xml -------------------------------------------------------------------------------
def test_gocdb_downtimes(srv):
    url = srv.route("/gocdbpi/public/", fixture("gocdb/gocdb_downtime.xml"), content_type="text/xml")
    collector = HttpXmlCollector(
        url=url + "?method=get_downtime",
        rows="//DOWNTIME",
        metrics={
            "outages": {"count_where": {"SEVERITY": "OUTAGE"}},
            "unscheduled": {"count_where": {"CLASSIFICATION": "UNSCHEDULED"}},
            "last_end": {"max": "END_DATE"},
        },
    )
    result = collect(collector)
    assert result.metrics == {"rows": 6.0, "outages": 4.0, "unscheduled": 1.0, "last_end": 1773417600.0}
    rows = result.tables["rows"]
    first = rows.iloc[0]
    assert (first["ID"], first["HOSTED_BY"], first["SEVERITY"]) == ("38201", "DESY-HH", "OUTAGE")
    assert first["GOCDB_PORTAL_URL"].endswith("Page_Type=Downtime&id=38201")  # &amp; decoded
    assert json.loads(first["AFFECTED_ENDPOINTS"])[0]["URL"] == "https://dcache-cms-webdav-wan.desy.de:2880"
    assert pd.isna(rows.iloc[1]["AFFECTED_ENDPOINTS"])  # <AFFECTED_ENDPOINTS/>
    assert first["@PRIMARY_KEY"] == first["PRIMARY_KEY"] == "38201G0"  # attribute and child share a name
    one = HttpXmlCollector(rows="//DOWNTIME", where={"ID": 38201}, columns=["HOSTNAME"])
    assert list(one.parse(fixture("gocdb/gocdb_downtime.xml")).tables["rows"]["HOSTNAME"]) == [
        "dcache-cms-webdav-wan.desy.de",
        "dcache-cms-xrootd.desy.de",
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (fixture("gocdb/gocdb_downtime.xml")[:1000], "malformed XML: "),
        (SSO_PAGE, "expected XML, got an HTML page (<title>CERN Single Sign-On</title>)"),
        (
            b"<html><head><title>502 Bad Gateway</title></head><body/></html>",
            "expected XML, got an HTML page (<title>502 Bad Gateway</title>)",
        ),
        (b"", "empty document"),
    ],
)
def test_xml_document_faults(srv, body, expected):
    collector = HttpXmlCollector(url=srv.route("/x", body), rows="//DOWNTIME", **FAST)
    assert reason(collect, collector).startswith(expected)


def test_xml_entities_are_not_expanded(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("top-secret")
    payload = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "{secret.as_uri()}">]><r><row><a>&x;</a></row></r>'
    ).encode()
    rows = HttpXmlCollector().parse(payload).tables["rows"]
    assert "top-secret" not in rows.to_string()


# -- http_csv -------------------------------------------------------------------------------
def test_csv_with_comments(srv):
    url = srv.route("/queues.csv", fixture("generic/batch_queues.csv"), content_type="text/csv")
    result = collect(
        HttpCsvCollector(
            url=url,
            comment="#",
            metrics={
                "running": {"sum": "running"},
                "open": {"count_where": {"state": "open"}},
                "most_idle": {"max": "idle"},
            },
            **FAST,
        )
    )
    assert result.metrics == {"rows": 6.0, "running": 4060.0, "open": 4.0, "most_idle": 512.0}
    assert list(result.tables["rows"].columns) == ["queue", "vo", "running", "idle", "held", "state"]


def test_csv_with_other_delimiter_and_where():
    payload = fixture("generic/batch_queues.csv").replace(b",", b";")
    result = HttpCsvCollector(delimiter=";", comment="#", where={"vo": "cms"}, columns=["queue", "held"]).parse(payload)
    assert result.tables["rows"].to_dict("list") == {"queue": ["cms_prod", "cms_analysis"], "held": [3, 0]}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (SSO_PAGE, "expected CSV, got an HTML page (<title>CERN Single Sign-On</title>)"),
        (b"", "empty document"),
        (b'a,b\n"1,2\n', "malformed CSV: Error tokenizing data"),
    ],
)
def test_csv_document_faults(srv, body, expected):
    assert reason(collect, HttpCsvCollector(url=srv.route("/q.csv", body), **FAST)).startswith(expected)


# -- html_table -----------------------------------------------------------------------------
def test_html_table_by_match_and_index(srv):
    url = srv.route("/squid", fixture("generic/squid_status.html"), content_type="text/html")
    result = collect(
        HtmlTableCollector(
            url=url,
            match="Hit ratio",
            metrics={"down": {"count_where": {"State": "down"}}, "clients": {"sum": "Clients"}},
            **FAST,
        )
    )
    assert result.metrics == {"rows": 3.0, "down": 1.0, "clients": 800.0}
    assert list(result.tables["rows"]["Host"])[0] == "squid01.example-t2.org"
    peers = HtmlTableCollector(match="State", index=1).parse(fixture("generic/squid_status.html"))
    assert list(peers.tables["rows"]["Peer"]) == ["cmsfrontier.cern.ch", "cmsfrontier1.cern.ch"]


def test_html_table_not_found():
    page = fixture("generic/squid_status.html")
    assert reason(HtmlTableCollector(match="Queue").parse, page) == "no HTML table matching 'Queue' in the page"
    assert reason(HtmlTableCollector(match="State", index=2).parse, page) == (
        "only 2 HTML table(s) match 'State'; index 2 asked for"
    )
    assert reason(HtmlTableCollector().parse, b"") == "empty document"


# -- command --------------------------------------------------------------------------------
def python(code: str, *args: str) -> list[str]:
    return [sys.executable, "-c", code, *args]


def test_command_json_output():
    cat = python("import sys; sys.stdout.write(open(sys.argv[1]).read())", str(FIXTURES / "htcondor/condor_q.json"))
    collector = CommandCollector(
        argv=cat,
        rows=".",
        metrics={
            "held": {"count_where": {"JobStatus": 5}},
            "running": {"count_where": {"JobStatus": 2}},
            "cpus": {"sum": "RequestCpus"},
        },
    )
    result = collect(collector)
    assert {k: result.metrics[k] for k in ("rows", "held", "running")} == {"rows": 7.0, "held": 2.0, "running": 3.0}
    assert set(result.tables["rows"]["Owner"]) >= {"cmsprd", "atlasprd"}
    assert collector.source_url() is None and collector.default_rating is None


def test_command_env_and_cwd(tmp_path):
    code = "import json, os; print(json.dumps({'n': int(os.environ['HF_N']), 'here': os.getcwd()}))"
    collector = CommandCollector(argv=python(code), env={"HF_N": 42}, cwd=str(tmp_path), metrics={"n": "n"})
    payload = collector.fetch()
    assert collector.parse(payload).metrics == {"n": 42.0}
    assert json.loads(json.loads(payload)["stdout"])["here"] == str(tmp_path)


@pytest.mark.parametrize("code", [0, 1, 2, 3])
def test_command_exit_code_mode_follows_nagios(code):
    script = f"print('CRITICAL - /data is 97% full | used=97%;90;95'); print('detail line'); raise SystemExit({code})"
    collector = CommandCollector(argv=python(script), output="exit_code")
    result = collect(collector)
    assert result.metrics == {"exit_code": float(code)}
    assert result.message == "CRITICAL - /data is 97% full"
    assert collector.default_rating == {
        "type": "map",
        "metric": "exit_code",
        "map": {0: 1.0, 1: 0.5, 2: 0.0, 3: -1},
        "default": -1,
    }


def test_command_failures():
    failing = CommandCollector(
        argv=python("import sys; sys.stderr.write('\\ncondor_q: cannot connect to schedd ce01\\nmore\\n'); sys.exit(2)")
    )
    assert reason(collect, failing) == "command exited 2: condor_q: cannot connect to schedd ce01"
    missing = CommandCollector(argv=["/nonexistent/check_foo"])
    assert reason(missing.fetch) == "command not found: /nonexistent/check_foo"
    assert reason(collect, CommandCollector(argv=python("print('<html><title>x</title></html>')"))) == (
        "expected JSON, got an HTML page (<title>x</title>)"
    )
    big = CommandCollector(argv=python("print('[' + '1,' * 5000 + '1]')"), max_bytes=1000)
    assert reason(collect, big) == "command output larger than the 1 kB limit"


def test_command_timeout_kills_it_quickly():
    started = time.monotonic()
    slow = CommandCollector(argv=python("import time; time.sleep(30)"), timeout=0.5)
    assert reason(slow.fetch) == f"command timed out after 0.5s: {sys.executable}"
    assert time.monotonic() - started < 5


# -- partial answers: what is missing is named, the rest rated ------------------------------------
def test_csv_line_with_too_many_fields_is_that_line_missing():
    result = HttpCsvCollector(url="x").parse(b"a,b\n1,2\n3,4,5,6\n7,8\n")
    assert [(m.what, m.key, m.reason) for m in result.missing] == [
        ("line", "3", "malformed CSV: expected 2 fields, saw 4")
    ]
    assert result.tables["rows"].to_dict("list") == {"a": [1, 7], "b": [2, 8]} and result.expected == {"line": 3}
    assert rate(None, result).message.startswith("1 of 3 lines missing: 3 (malformed CSV: expected 2 fields, saw 4)")


def test_text_where_a_number_belongs_is_that_row_missing_never_zero():
    payload = b"host,free\na,10\nb,unknown\nc,30\n"
    collector = HttpCsvCollector(url="x", metrics={"free": {"sum": "free"}, "least": {"min": "free"}})
    result = collector.parse(payload)
    assert (result.metrics["free"], result.metrics["least"]) == (40.0, 10.0)  # b is left out, not read as 0
    assert [(m.what, m.key, m.reason) for m in result.missing] == [
        ("row", "#2", "free is the text 'unknown', not a number")
    ]
    assert result.expected == {"row": 3}
    assert rate(None, result).message.startswith("1 of 3 rows missing: #2 (free is the text 'unknown', not a number)")
    assert "not numeric" in reason(collector.parse, b"host,free\na,unknown\n")  # no number at all: an error


def test_http_json_search_answer_with_failed_shards_and_a_timeout():
    doc = json.loads(fixture("sam/sam_results.json"))
    doc["responses"][0]["_shards"].update(failed=3, successful=21)
    doc["responses"][0]["timed_out"] = True
    collector = HttpJsonCollector(url="x", rows="responses.0.hits.hits.*._source.data")
    result = collector.parse(json.dumps(doc).encode())
    assert {m.what for m in result.missing} == {"shard", "search"} and result.expected == {"shard": 24}
    rating = rate(None, result)
    assert rating.status == 0.5 and rating.message.startswith(
        "3 of 24 shards missing: unnamed 1 (failed, no reason given), unnamed 2 (failed, no reason given), unnamed 3 "
        "(failed, no reason given); 1 search missing: the search (timed out on the server: only the hits found in "
        "time came back), so at most warning; "
    )
    plain = collector.parse(fixture("sam/sam_results.json"))
    assert plain.missing == [] and rate(None, plain).status == 1.0


def test_xml_and_html_rows_with_text_for_a_number_are_missing():
    xml = b"<queues><q><name>a</name><jobs>5</jobs></q><q><name>b</name><jobs>lots</jobs></q></queues>"
    result = HttpXmlCollector(url="x", metrics={"jobs": {"sum": "jobs"}}).parse(xml)
    assert result.metrics["jobs"] == 5.0 and [m.reason for m in result.missing] == [
        "jobs is the text 'lots', not a number"
    ]
    html = b"<table><tr><th>name</th><th>hits</th></tr><tr><td>a</td><td>7</td></tr><tr><td>b</td><td>down</td></tr></table>"
    result = HtmlTableCollector(url="x", metrics={"hits": {"max": "hits"}}).parse(html)
    assert result.metrics["hits"] == 7.0 and [m.key for m in result.missing] == ["#2"]
