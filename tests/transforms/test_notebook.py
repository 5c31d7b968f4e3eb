"""notebooks/asset_health.ipynb runs top to bottom on a warehouse built by the transform."""

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.transforms.conftest import run
from tests.transforms.test_marts import load_scenario

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "asset_health.ipynb"


@pytest.fixture
def kernel(tmp_path, monkeypatch) -> str:
    """A kernelspec running this interpreter, whatever kernels the machine has installed."""
    spec = tmp_path / "jupyter" / "kernels" / "tractian-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "tractian-test",
                "language": "python",
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return "tractian-test"


def test_the_notebook_runs_on_the_read_copy(raw, kernel, tmp_path, monkeypatch):
    load_scenario(raw)
    copy = tmp_path / "read.duckdb"
    run(raw, publish=True, read_copy=copy)
    monkeypatch.setenv("TRACTIAN_READ_DB", str(copy))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook, kernel_name=kernel, timeout=120, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = json.dumps([cell.get("outputs", []) for cell in notebook.cells])
    assert "Plant / Line 1 / Motor A / Bearing DE" in outputs  # in the worst machines
    assert "image/png" in outputs  # the zone band plots were drawn
