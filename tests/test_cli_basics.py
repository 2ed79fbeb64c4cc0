"""The CLI shell: version, help, exit codes, no tracebacks."""

from __future__ import annotations

import subprocess
import sys

from screener import __version__
from screener.cli import main


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"semiscreen {__version__}"


def test_help_lists_global_options(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--prices", "--offline", "--cache-dir", "--quiet", "--debug"):
        assert option in out


def test_unknown_command_is_usage_error(capsys):
    assert main(["no-such-command"]) == 2
    assert "no-such-command" in capsys.readouterr().err


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys; from screener.cli import main; "
        "rc = main(['--help']); "
        "heavy = [m for m in ('pandas', 'numpy', 'matplotlib', 'yfinance', 'statsmodels', 'exchange_calendars') if m in sys.modules]; "
        "print('HEAVY=' + ','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "HEAVY="


def test_several_problems_point_to_validate(tmp_path, capsys):
    """A command that meets a file with several problems says how to list them all."""
    bad = tmp_path / "events.csv"
    bad.write_text("event_id,announced_at\nA B,2025-02-30\n", encoding="utf-8")
    code = main(["events", "--events-file", str(bad)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and "semiscreen validate" in err and "events.csv" in err
