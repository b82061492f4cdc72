"""The analyst's notebooks run top to bottom against the demo store, as an expert would open them:
the incident investigation and the historical analysis."""

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).parents[2] / "notebooks"


def run_notebook(name: str, store: Path, monkeypatch) -> tuple[list, str]:
    """Execute the notebook with HFPANEL_STORE set; return its code outputs and their text."""
    monkeypatch.setenv("HFPANEL_STORE", str(store))
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    text = "\n".join(str(o.get("data", {}).get("text/plain", "")) + str(o.get("text", "")) for o in outputs)
    return outputs, text


def errors(outputs) -> list:
    return [f"{o.get('ename')}: {o.get('evalue')}" for o in outputs if o.get("output_type") == "error"]


def test_investigate_incident_notebook_runs(demo_store, monkeypatch):
    outputs, text = run_notebook("investigate_incident.ipynb", demo_store, monkeypatch)
    assert not errors(outputs), errors(outputs)
    assert "module sam_ce: critical since" in text  # the red module of the demo's incident
    # the conclusion's evidence is about the incident followed, not whatever is red at the end
    assert "incident followed: sam_ce critical from" in text
    assert "failing hosts at the onset: ce02.demo-t2.example.org" in text and "code 13:" in text
    assert "modules whose level changed within ±1 h of" in text and "condor_held" in text  # its companion
    assert "ce02.demo-t2.example.org" in text and "CRITICAL" in text  # the raw payload names the failing CE
    assert "No space left on device" in text or "cannot write" in text  # the held jobs' reason
    assert any("application/vnd.holoviews_exec.v0+json" in o.get("data", {}) for o in outputs)  # plots rendered


def test_historical_analysis_notebook_runs(demo_store, monkeypatch):
    outputs, text = run_notebook("historical_analysis.ipynb", demo_store, monkeypatch)
    assert not errors(outputs), errors(outputs)
    found = re.search(r"modules with hours not ok: (.*)", text)
    assert found and "sam_ce" in found.group(1).split(", ")  # the demo's incidents in the SQL summary
    assert "availability" in text and "reliability" in text
    assert "PlotBuilder(" in text and '"series": ["condor_held:held"' in text  # plots, reproducible


@pytest.mark.parametrize("name", ["investigate_incident.ipynb", "historical_analysis.ipynb"])
def test_notebooks_are_stored_without_outputs(name):
    """Committed clean: outputs belong to whoever runs them against their store."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(notebook)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")


def test_transfers_notebook_runs(demo_store, monkeypatch):
    """The transfers notebook: matrix, worst pair, top errors, timeline and SQL over the demo's feed."""
    stored = nbformat.read(NOTEBOOKS / "transfers.ipynb", as_version=4)
    assert all(not cell.get("outputs") for cell in stored.cells if cell.cell_type == "code")  # committed clean
    outputs, text = run_notebook("transfers.ipynb", demo_store, monkeypatch)
    assert not errors(outputs), errors(outputs)
    assert "worst pair: " in text and "T2_XX_Demo" in text  # the pair with the most failures, named
    assert "error_category" in text and "efficiency per destination site and hour" in text
    assert any("application/vnd.holoviews_exec.v0+json" in o.get("data", {}) for o in outputs)  # views rendered
