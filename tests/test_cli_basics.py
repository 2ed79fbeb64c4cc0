"""The CLI shell: version, help, exit codes, no tracebacks."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest

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


# -- global options after the command ------------------------------------------------------------


@pytest.fixture
def _reset_settings():
    from screener.cli._app import settings

    yield
    settings.prices_dir = settings.cache_dir = None
    settings.offline = settings.quiet = settings.debug = False


@pytest.mark.parametrize(
    "args, usage",
    [
        (["study", "intel-us-government-stake-2025-08", "--prices", "DIR"], "semiscreen --prices DIR study ..."),
        (["study", "intel-us-government-stake-2025-08", "--prices=DIR"], "semiscreen --prices DIR study ..."),
        (["screen", "--offline"], "semiscreen --offline screen ..."),
        (["fields", "-q"], "semiscreen -q fields ..."),
        (["events", "--cache-dir", "C"], "semiscreen --cache-dir DIR events ..."),
    ],
)
def test_global_option_after_the_command_says_where_it_goes(capsys, args, usage):
    # was: "No such option: --prices" with no hint
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    option = args[-1].split("=")[0] if args[-1].startswith("-") else args[-2]
    assert captured.err == (f"error: no such option {option} for `{args[0]}`: global options go before the "
                            f"command: {usage}\n")


def test_other_unknown_options_keep_the_usage_error(capsys):
    assert main(["study", "x", "--bogus"]) == 2
    err = capsys.readouterr().err
    assert "No such option: --bogus" in err and "global options" not in err
    assert main(["study"]) == 2
    assert "Missing argument" in capsys.readouterr().err


def test_help_and_global_options_before_the_command_still_work(capsys, _reset_settings):
    assert main(["study", "--help"]) == 0
    assert "--part" in capsys.readouterr().out
    assert main(["-q", "fields", "--component", "text", "-f", "csv"]) == 0
    assert capsys.readouterr().out.startswith("name,meaning")


# -- library warnings become notes ---------------------------------------------------------------

DATA = Path(__file__).parent / "data" / "prices"


def test_data_quality_warning_is_a_note_not_a_python_warning(tmp_path, capsys, _reset_settings):
    # was: ".../local.py:186: DataQualityWarning: ... return read_price_file(...)" on stderr
    assert main(["--prices", str(DATA), "--cache-dir", str(tmp_path), "fetch", "CLOSEONLY.T", "-f", "csv"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("symbol,source")
    lines = captured.err.splitlines()
    adjusted = [line for line in lines if "no adjusted close" in line]
    assert len(adjusted) == 1 and adjusted[0].startswith("note: CLOSEONLY.T: no adjusted close in ")
    assert "DataQualityWarning" not in captured.err and "local.py" not in captured.err
    # -q silences notes, these too
    assert main(["-q", "--prices", str(DATA), "--cache-dir", str(tmp_path / "q"), "fetch", "CLOSEONLY.T"]) == 0
    assert capsys.readouterr().err == ""


def test_semiscreen_warnings_are_notes_once_each_and_others_pass_through(monkeypatch, capsys):
    import screener.fields
    from screener.errors import EstimationWarning

    real = screener.fields.field_table

    def noisy(component=None):
        for _ in range(2):
            warnings.warn("3 pairs have constant returns", EstimationWarning, stacklevel=1)
        warnings.warn("a third-party deprecation", FutureWarning, stacklevel=1)
        return real(component)

    monkeypatch.setattr(screener.fields, "field_table", noisy)
    with pytest.warns(FutureWarning, match="third-party"):
        assert main(["fields", "--component", "text", "-f", "csv"]) == 0
    err = capsys.readouterr().err
    assert err == "note: 3 pairs have constant returns\n"


def test_plural():
    from screener.cli._output import plural

    assert [plural(n, "event") for n in (0, 1, 2)] == ["0 events", "1 event", "2 events"]
    assert plural(1, "security", "securities") == "1 security" and plural(3, "security", "securities") == "3 securities"


def test_events_title_says_1_event(capsys):
    # was: "### 1 events"
    assert main(["events", "--since", "2025-08-22", "--until", "2025-08-22", "-f", "markdown"]) == 0
    assert capsys.readouterr().out.startswith("### 1 event\n")


def test_a_closed_pipe_is_not_an_error():
    """`semiscreen events -f csv | head -1`: the reader leaves early; exit 0, nothing on stderr."""
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from screener.cli import run; sys.argv[1:] = ['events', '-f', 'csv']; run()"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0,
    )
    first = proc.stdout.read(20)
    proc.stdout.close()  # like `head` exiting
    _, err = proc.communicate(timeout=60)
    assert first.startswith(b"event_id")
    assert proc.returncode == 0, err.decode()
    assert b"Traceback" not in err and b"BrokenPipe" not in err
