"""The MONIT archive importer in one process (the DuckDB engine), and stores read from S3.

The S3 tests run moto's standalone server (PyPI ``moto[server]``) on 127.0.0.1: an S3-compatible
object store that the tests fill and DuckDB's engine reads (through Arrow's S3 client: DuckDB's
``httpfs`` extension cannot be installed offline)."""

import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hfpanel.store import Store
from hfpanel.transfers import messages, synthetic
from hfpanel.transfers.aggregate import aggregate
from hfpanel.transfers.compute import SCHEMAS, store_statistics
from hfpanel.transfers.engine import DuckEngine
from hfpanel.transfers.importers.monit import import_days, parse_line

MONIT = Path(__file__).parents[1] / "fixtures" / "monit"
FTS = MONIT / "fts" / "raw" / "complete"
XROOTD = MONIT / "xrootd" / "raw" / "aaa-ng"
MESSAGES = Path(__file__).parents[1] / "fixtures" / "transfers"
DAY = "2026-03-10"


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "hfpanel.cli", *args], capture_output=True, text=True, timeout=300)


def test_an_archive_day_becomes_the_rows_the_live_parser_makes(tmp_path):
    summary = import_days(tmp_path, str(FTS), [DAY], "fts_complete", DuckEngine())
    counts = (summary.files, summary.documents, summary.stored, summary.duplicates, summary.quarantined)
    assert counts == (2, 25, 20, 2, 3)
    stored = Store(tmp_path).sql("SELECT * EXCLUDE (commit) FROM fts_complete").set_index("key")
    # the same bodies through the live ingest's parser, received at the documents' kafka_timestamp
    for line in (MESSAGES / "fts_complete.jsonl").read_text().splitlines():
        body = json.loads(line)
        _, expected = messages.parse(line, "fts_complete", body["tr_timestamp_complete"] + 1500)
        row = stored.loc[expected["key"]]
        for column in ("t", "vo", "src_hostname", "dst_hostname", "state", "bytes", "error_pattern", "error_code"):
            assert row[column] == expected[column] or (row[column] != row[column] and expected[column] is None), column
        assert row["received"].value // 1000 == (body["tr_timestamp_complete"] + 1500) * 1000
    # the redelivery kept the earliest received copy
    assert stored["received"].min().value > 0 and len(stored) == 20
    assert "in-progress" not in set(stored["job_id"])  # the .tmp file (and _SUCCESS) were skipped


def test_bad_documents_are_quarantined_with_their_reason_and_metadata(tmp_path):
    import_days(tmp_path, str(FTS), [DAY], "fts_complete", DuckEngine())
    import_days(tmp_path, str(XROOTD), [DAY], "xrootd", DuckEngine())
    quarantine = Store(tmp_path).sql("SELECT source, reason, body, headers FROM quarantine ORDER BY reason")
    reasons = list(quarantine["reason"])
    assert reasons[0] == "MONIT document without metadata.kafka_timestamp or metadata.timestamp"
    assert reasons[1] == "field for 'vo' is not text: '5'"
    assert reasons[2].startswith("not a MONIT document: JSON is malformed")
    assert reasons[3].startswith("shoveler envelope")
    assert json.loads(quarantine["headers"][1])["producer"] == "fts"
    assert '"job_id": "bad-vo-job"' in quarantine["body"][1] or '"job_id":"bad-vo-job"' in quarantine["body"][1]
    assert quarantine["body"][2] == "this is not json"
    assert all(source.startswith(f"monit:{MONIT}") for source in quarantine["source"])


def test_importing_again_adds_nothing_and_a_lost_file_comes_back(tmp_path):
    source = tmp_path / "archive"
    shutil.copytree(FTS, source)
    day = source / "2026" / "03" / "10"
    moved = tmp_path / "later.json.gz"
    shutil.move(day / "part-00001.json.gz", moved)
    first = import_days(tmp_path / "store", str(source), [DAY], "fts_complete", DuckEngine())
    shutil.move(moved, day / "part-00001.json.gz")
    second = import_days(tmp_path / "store", str(source), [DAY], "fts_complete", DuckEngine())
    third = import_days(tmp_path / "store", str(source), [DAY], "fts_complete", DuckEngine())
    assert first.stored + second.stored == 20 and third.stored == 0 and third.quarantined == 0
    store = Store(tmp_path / "store")
    assert store.sql("SELECT count(*) AS n, count(DISTINCT key) AS k FROM fts_complete").iloc[0].tolist() == [20, 20]
    assert store.sql("SELECT count(*) AS n FROM quarantine")["n"].iloc[0] == 3


def test_a_truncated_file_is_quarantined_and_the_rest_imported(tmp_path):
    source = tmp_path / "archive" / "2026" / "03" / "10"
    shutil.copytree(FTS / "2026" / "03" / "10", source)
    data = (source / "part-00001.json.gz").read_bytes()
    (source / "part-00001.json.gz").write_bytes(data[: len(data) // 2])
    summary = import_days(tmp_path / "store", str(tmp_path / "archive"), [DAY], "fts_complete", DuckEngine())
    assert summary.stored == 12 + 0 and summary.quarantined == 3  # file 0's 12 + its two bad lines + the torn file
    reasons = Store(tmp_path / "store").sql("SELECT reason FROM quarantine")["reason"].tolist()
    assert any(r.startswith("unreadable gzip file") for r in reasons)


def test_parse_line_reads_plain_monit_documents():
    line = json.dumps(
        {
            "data": json.loads((MESSAGES / "xrootd_fileclose.jsonl").read_text().splitlines()[0]),
            "metadata": {"timestamp": 1773130958547},
        }
    ).encode()
    row, quarantined = parse_line(line, "xrootd", "test", 0)
    assert quarantined is None and row[1] == 1773130957  # t: end_time in ms → seconds


def test_import_then_aggregate_from_the_command_line(tmp_path):
    store = tmp_path / "store"
    done = run_cli(
        "transfers", "import-monit", "--store", str(store), "--source", str(FTS), "--kind", "fts_complete", "--day", DAY
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("2 files, 25 documents")
    assert "20 rows stored, 2 duplicates, 3 quarantined" in done.stdout
    assert run_cli("transfers", "aggregate", "--store", str(store)).returncode == 0
    assert Store(store).sql("SELECT sum(transfers) AS n FROM transfer_stats_1d")["n"].iloc[0] == 20
    missing = run_cli(
        "transfers",
        "import-monit",
        "--store",
        str(store),
        "--source",
        str(FTS),
        "--kind",
        "fts_complete",
        "--day",
        "2026-03-11",
    )
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines()[-1].startswith("error: no archive files under")
    bad = run_cli(
        "transfers",
        "import-monit",
        "--store",
        str(store),
        "--source",
        str(FTS),
        "--kind",
        "fts_complete",
        "--day",
        "10.03.2026",
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    hdfs = run_cli(
        "transfers",
        "import-monit",
        "--store",
        str(store),
        "--source",
        "hdfs://namenode:8020/archive",
        "--kind",
        "fts_complete",
        "--day",
        DAY,
    )
    assert hdfs.returncode == 2
    assert hdfs.stderr.strip().splitlines() == [
        "error: DuckDB reads local paths and s3:// URLs, not hdfs://: use --engine spark (HDFS) or a mount"
    ]


def test_a_store_url_is_refused_for_writing_in_one_line(tmp_path):
    done = run_cli("transfers", "aggregate", "--store", "s3://bucket/store")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "must be a file system path" in lines[0]


# -- S3: moto's standalone server on 127.0.0.1 ---------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """An S3-compatible server with a bucket; the AWS_* variables point every client at it."""
    server = shutil.which("moto_server", path=os.path.dirname(sys.executable)) or shutil.which("moto_server")
    if server is None:
        pytest.fail("moto_server is missing: pip install 'moto[server]' (the test extra has it)")
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with open(log, "w") as out:
        process = subprocess.Popen([server, "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=subprocess.STDOUT)
    variables = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
    }
    saved = {k: os.environ.get(k) for k in variables}
    os.environ.update(variables)
    try:
        from pyarrow import fs

        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(f"moto_server did not start: {log.read_text()[-500:]}")
                time.sleep(0.2)
        client = fs.S3FileSystem(
            endpoint_override=f"127.0.0.1:{port}",
            scheme="http",
            access_key="test",
            secret_key="test",
            region="us-east-1",
            allow_bucket_creation=True,
        )
        client.create_dir("hfpanel")
        yield client
    finally:
        process.terminate()
        process.wait(timeout=10)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def upload(client, local: Path, prefix: str) -> None:
    for path in sorted(local.rglob("*")):
        if path.is_file() and path.name != ".writer.lock":
            with client.open_output_stream(f"{prefix}/{path.relative_to(local)}", compression=None) as out:
                out.write(path.read_bytes())


def test_duckdb_computes_the_same_statistics_from_a_store_in_s3(s3, tmp_path):
    from hfpanel.store import StoreWriter

    root = tmp_path / "store"
    with StoreWriter(root) as writer:
        g = writer.next_generation
        writer.write(
            {
                "fts_complete": synthetic.fts_complete(3000, 1_767_225_600, 86400, commit=g, seed=3),
                "xrootd_close": synthetic.xrootd_close(2000, 1_767_225_600, 86400, commit=g, seed=4),
            }
        )
    upload(s3, root, "hfpanel/stores/site")
    resolver = synthetic_resolver()
    local = store_statistics(DuckEngine(), str(root), resolver)
    remote = store_statistics(DuckEngine(), "s3://hfpanel/stores/site", resolver)
    assert sorted(remote) == sorted(SCHEMAS)
    for name in SCHEMAS:
        assert remote[name].num_rows == local[name].num_rows > 0, name
        assert (
            remote[name]
            .sort_by([(c, "ascending") for c in remote[name].column_names])
            .equals(local[name].sort_by([(c, "ascending") for c in local[name].column_names]))
        ), name
    aggregate(root, resolver=resolver)  # and what the store itself committed agrees
    assert (
        Store(root).sql("SELECT sum(transfers) AS n FROM transfer_stats_1d")["n"].iloc[0]
        == sum(remote["transfer_stats_1d"].column("transfers").to_pylist())
        == 3000
    )


def test_an_archive_in_s3_imports_as_a_local_one(s3, tmp_path):
    upload(s3, FTS, "hfpanel/monit/fts/raw/complete")
    remote = import_days(
        tmp_path / "remote", "s3://hfpanel/monit/fts/raw/complete", [DAY], "fts_complete", DuckEngine()
    )
    local = import_days(tmp_path / "local", str(FTS), [DAY], "fts_complete", DuckEngine())
    assert (
        (remote.files, remote.stored, remote.duplicates, remote.quarantined)
        == (local.files, local.stored, local.duplicates, local.quarantined)
        == (2, 20, 2, 3)
    )
    query = "SELECT * EXCLUDE (commit) FROM fts_complete ORDER BY key"
    assert Store(tmp_path / "remote").sql(query).equals(Store(tmp_path / "local").sql(query))


def synthetic_resolver():
    from hfpanel.transfers.sites import SiteResolver

    return SiteResolver.from_config(synthetic.site_map())


def test_gzip_and_plain_files_read_alike(tmp_path):
    plain = tmp_path / "plain" / "2026" / "03" / "10"
    plain.mkdir(parents=True)
    for index, path in enumerate(sorted((FTS / "2026" / "03" / "10").glob("part-*.json.gz"))):
        (plain / f"part-{index}.json").write_bytes(gzip.decompress(path.read_bytes()))
    summary = import_days(tmp_path / "store", str(tmp_path / "plain"), [DAY], "fts_complete", DuckEngine())
    assert (summary.stored, summary.duplicates, summary.quarantined) == (20, 2, 3)
