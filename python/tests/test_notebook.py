"""The example notebook (python/examples/research.ipynb) runs headless with
nbclient (Debian's python3-nbclient) and produces its figures without error."""
import json
import os
import sys

import nbformat
import pytest
from nbclient import NotebookClient

import bourse
from conftest import SOURCE_DIR

NOTEBOOK = os.path.join(SOURCE_DIR, "python", "examples", "research.ipynb")


def kernel_for_this_python(tmp_path, monkeypatch):
    """A kernel spec running this interpreter (Debian's, with numpy and pandas),
    whatever `python3` is first on PATH, with this bourse package importable."""
    spec = tmp_path / "jupyter" / "kernels" / "bourse-test"
    spec.mkdir(parents=True)
    spec.joinpath("kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "bourse test", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(bourse.__file__)))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([pkg_parent] + [p for p in os.environ.get(
        "PYTHONPATH", "").split(os.pathsep) if p]))
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    return "bourse-test"


def test_example_notebook_runs(tmp_path, monkeypatch):
    kernel = kernel_for_this_python(tmp_path, monkeypatch)
    monkeypatch.setenv("BOURSE_SOURCE_DIR", SOURCE_DIR)
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mpl"))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name=kernel,
                            resources={"metadata": {"path": os.path.dirname(NOTEBOOK)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors, errors
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert len(images) >= 3  # equity/drawdown, book run, heatmap
    for img in images:
        assert len(img["data"]["image/png"]) > 5000  # a real picture, not an empty canvas
