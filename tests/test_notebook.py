"""The example notebook ``examples/seed_events.ipynb`` runs end to end on the bundled snapshot.

The notebook is executed with nbclient (kernel ``python3``, working directory = the repository),
so a broken public API shows up here as a failing cell. The checks on its outputs are the ones
the notebook computes itself against independent references: the engine's day-0 abnormal
return of Intel and its forecast-error standard error against statsmodels' OLS prediction, and
the step-by-step study against the one-line :class:`screener.analysis.Analysis`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "examples" / "seed_events.ipynb"
CELL_TIMEOUT = 120  # seconds per cell


def _kernel_available(name: str = "python3") -> bool:
    try:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    except ImportError:  # pragma: no cover - jupyter_client comes with nbclient
        return False
    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        return False
    return True


def _text_outputs(nb) -> list[str]:
    """Every text output of the executed notebook, cell by cell (streams and text/plain)."""
    texts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        parts = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            elif "text/plain" in out.get("data", {}):
                parts.append(out["data"]["text/plain"])
        texts.append("".join(parts))
    return texts


def test_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "the notebook has no code cells"
    assert all(c.outputs == [] for c in code), "clear the outputs before committing"
    assert all(c.execution_count is None for c in code), "reset the execution counts before committing"
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.fixture(scope="module")
def executed():
    if not _kernel_available():
        pytest.skip("no 'python3' Jupyter kernelspec: install the dev extra (ipykernel) in this environment")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}},
    )
    client.execute()  # raises CellExecutionError (with the cell and traceback) on any error
    return nb


@pytest.mark.slow
def test_notebook_runs_and_checks_itself(executed):
    text = "\n".join(_text_outputs(executed))

    # Intel's day-0 CAR is printed, a finite percentage with its t-statistic and p-value.
    m = re.search(r"INTC day-0 CAR \(intel-us-government-stake-report-2025-08, (\d{4}-\d{2}-\d{2})\): "
                  r"([+-]\d+\.\d+)% \(t = (-?\d+\.\d+) on (\d+) df, p = (\d\.\d+)\)", text)
    assert m, "the Intel day-0 CAR line is missing"
    assert m.group(1) == "2025-08-14"  # a during-session announcement: day 0 is the same session
    assert 0.0 <= float(m.group(5)) <= 1.0
    assert int(m.group(4)) >= 120  # M - k with the default min_estimation_obs

    # The engine agrees with statsmodels on that AR and its forecast-error sd, and the
    # one-line Analysis reproduces the step-by-step study.
    assert "agrees with statsmodels: True" in text
    assert re.search(r"Analysis reproduces the step-by-step CARs: True \(\d+ CARs\)", text)

    # Cross-exchange day 0: a New York after-close announcement reaches Shanghai before its open.
    assert re.search(r"day 0 on XNAS: (\d{4}-\d{2}-\d{2})\nday 0 on XSHG: \1", text)

    # The summaries, the N = 1 caveat and both screens are shown.
    assert "Event study results" in text
    assert "Screen for theme 'china-self-sufficiency'" in text
    assert "Screen for theme 'ai-compute'" in text


@pytest.mark.slow
def test_notebook_draws_the_caar_paths(executed):
    images = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert images, "the CAAR plot produced no image"
