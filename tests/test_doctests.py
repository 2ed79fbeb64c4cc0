"""Run the ``>>>`` examples of the public modules of ``events`` and ``screener``.

The examples are documentation a user copies first, so they must run as written: offline, on
the bundled snapshot or on tiny synthetic data. Every public module of both packages is
collected (private ``_name`` modules and the CLI's private helpers excluded), each docstring
with examples is one test, and the entry points a user meets first must carry an example that
actually runs (not only ``+SKIP`` lines). ``docs/index.md``, the map of the docs, must link
every page of ``docs/``.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import pytest

import events
import screener

OPTIONFLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

#: The functions and classes a user calls first: each needs an example that runs.
ENTRY_POINTS = [
    "events.study.EventStudy",
    "events.study.EventStudy.fit",
    "events.study.EventStudyResults.tests",
    "events.study.EventStudyResults.summary",
    "events.catalog.load_catalog",
    "events.catalog.event_firms",
    "screener.prices.open_source",
    "screener.prices.base.PriceSource.load_many",
    "screener.prices.returns.returns_panel",
    "screener.calendars.day_zero",
    "screener.metrics.screening_metrics",
    "screener.screening.screen",
    "screener.filters.parse_filter",
    "screener.validate.validate_seeds",
]


def _public_modules() -> list[str]:
    names = []
    for package in (events, screener):
        names.append(package.__name__)
        for info in pkgutil.walk_packages(package.__path__, prefix=package.__name__ + "."):
            if any(part.startswith("_") for part in info.name.split(".")):
                continue
            names.append(info.name)
    return sorted(names)


MODULES = _public_modules()


def _collect() -> tuple[list[tuple[str, doctest.DocTest]], dict[str, str]]:
    """Every docstring with examples, and the modules whose docstrings could not be parsed."""
    finder = doctest.DocTestFinder(exclude_empty=True)
    found = []
    broken: dict[str, str] = {}
    for name in MODULES:
        try:
            module = importlib.import_module(name)
            tests = finder.find(module, name)
        except Exception as exc:  # a malformed example (bad directive) or an import error
            broken[name] = f"{type(exc).__name__}: {exc}"
            continue
        found += [(test.name, test) for test in tests if test.examples]
    return sorted(found, key=lambda item: item[0]), broken


DOCTESTS, BROKEN = _collect()


def test_modules_are_collected():
    # The lists above are built by walking the packages: make sure the walk saw them.
    for expected in ("events.study", "events.catalog", "screener.prices", "screener.calendars",
                     "screener.metrics", "screener.filters", "screener.validate"):
        assert expected in MODULES
    assert not any(part.startswith("_") for name in MODULES for part in name.split("."))


@pytest.mark.parametrize("module", MODULES)
def test_examples_parse(module: str):
    # e.g. "# doctest: +SKIP (reason)" is not a valid directive and hides every example of the module
    assert module not in BROKEN, f"{module}: the docstring examples cannot be collected: {BROKEN.get(module)}"


@pytest.mark.parametrize("name,test", DOCTESTS, ids=[name for name, _ in DOCTESTS])
def test_docstring_examples(name: str, test: doctest.DocTest):
    import pandas as pd

    runner = doctest.DocTestRunner(optionflags=OPTIONFLAGS)
    output: list[str] = []
    test.globs = dict(test.globs)  # each docstring starts from its module's namespace
    try:
        # pandas' default display options, whatever another test may have set
        with pd.option_context("display.width", 80, "display.max_columns", 20, "display.max_rows", 60):
            runner.run(test, out=output.append, clear_globs=True)
    finally:
        import matplotlib.pyplot as plt

        plt.close("all")
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed\n" + "".join(output)


def _resolve(dotted: str):
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


def _runs(example: doctest.Example) -> bool:
    return not example.options.get(doctest.SKIP, False)


@pytest.mark.parametrize("dotted", ENTRY_POINTS)
def test_entry_points_have_running_examples(dotted: str):
    obj = _resolve(dotted)
    obj = inspect.unwrap(obj)
    doc = inspect.getdoc(obj) or ""
    examples = doctest.DocTestParser().get_examples(doc)
    assert any(_runs(e) for e in examples), f"{dotted} has no example that runs (add an Examples section)"
    assert "Examples\n--------" in doc, f"{dotted}: put the examples under a numpydoc 'Examples' heading"


def test_docs_index_links_every_page():
    # docs/index.md is the map of the docs: a new page must appear there, and every link resolve.
    import re
    from pathlib import Path

    docs = Path(__file__).resolve().parent.parent / "docs"
    index = (docs / "index.md").read_text(encoding="utf-8")
    targets = set(re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", index))
    missing_pages = sorted(p.name for p in docs.glob("*.md") if p.name != "index.md" and p.name not in targets)
    assert not missing_pages, f"docs/index.md does not link {', '.join(missing_pages)}"
    broken = sorted(t for t in targets if not t.startswith("http") and not (docs / t).exists())
    assert not broken, f"docs/index.md links missing files: {', '.join(broken)}"
