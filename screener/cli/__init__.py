"""Command-line interface: a thin layer over the Python API.

``main()`` runs the Typer app and turns every :class:`~screener.errors.SemiscreenError` into
one line on stderr and its exit code (2 bad input, 3 data unavailable); ``--debug`` shows the
traceback instead. Usage errors exit 2 (a global option given after the command says where it
goes), and semiscreen's warnings become ``note:`` lines on stderr, once each.
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings

from screener.cli._app import app, settings

__all__ = ["app", "main", "GLOBAL_OPTIONS"]

# Each module defines ``register(app)``. A module that does not exist yet is skipped, so the
# CLI grows command by command.
_COMMAND_MODULES = (
    "cmd_prices",
    "cmd_events",
    "cmd_validate",
    "cmd_study",
    "cmd_screen",
    "cmd_report",
)

_registered = False


def _register_commands() -> None:
    global _registered
    if _registered:
        return
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(f"screener.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"screener.cli.{name}":
                continue
            raise
        module.register(app)
    _registered = True


def _usage_error_types() -> tuple[type[BaseException], type[BaseException], type[BaseException]]:
    """Click's ``ClickException``, ``NoSuchOption`` and ``Abort`` (vendored by recent Typer)."""
    import typer

    try:
        from typer._click.exceptions import ClickException, NoSuchOption
    except ImportError:  # pragma: no cover - Typer releases that depend on click
        from click.exceptions import ClickException, NoSuchOption
    return ClickException, NoSuchOption, typer.Abort


#: The global options (they go before the command), and whether each takes a value.
GLOBAL_OPTIONS = {"--prices": "DIR", "--cache-dir": "DIR", "--offline": None, "--quiet": None, "-q": None,
                  "--debug": None, "--version": None}


def _misplaced_global_option(exc: BaseException) -> str | None:
    """The one-line error for a global option given after the command, else ``None``."""
    name = getattr(exc, "option_name", None)
    if name not in GLOBAL_OPTIONS:
        return None
    ctx = getattr(exc, "ctx", None)
    command = getattr(ctx, "info_name", None) or "COMMAND"
    value = GLOBAL_OPTIONS[name]
    usage = f"semiscreen {name}{' ' + value if value else ''} {command} ..."
    return f"error: no such option {name} for `{command}`: global options go before the command: {usage}"


class _WarningNotes:
    """Turn semiscreen's warnings into ``note:`` lines on stderr, once each, after the output.

    Library warnings (:class:`~screener.errors.SemiscreenWarning` and any ``UserWarning``
    raised from ``screener``/``events`` code) reach the user as notes, which ``--quiet``
    silences; other warnings are shown as Python shows them.
    """

    def __init__(self) -> None:
        from pathlib import Path

        root = Path(__file__).resolve().parent.parent.parent
        self._dirs = tuple(str(root / p) + os.sep for p in ("screener", "events"))
        self.pending: list[str] = []
        self._original = warnings.showwarning

    def ours(self, category: type[Warning], filename: str) -> bool:
        from screener.errors import SemiscreenWarning

        if issubclass(category, SemiscreenWarning):
            return True
        return issubclass(category, UserWarning) and os.path.abspath(filename).startswith(self._dirs)

    def show(self, message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
        if self.ours(category, filename):
            text = str(message)
            if text not in self.pending:
                self.pending.append(text)
        else:
            self._original(message, category, filename, lineno, file, line)

    def flush(self) -> None:
        from screener.cli._output import note

        for text in self.pending:
            note(f"note: {text}")
        self.pending.clear()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the process exit code.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after ``semiscreen`` (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 ok, 2 bad input (including usage errors), 3 data unavailable.
    """
    from screener.errors import SemiscreenError, SemiscreenWarning

    _register_commands()
    args = list(sys.argv[1:] if argv is None else argv)
    click_error, no_such_option, abort = _usage_error_types()
    routed = _WarningNotes()
    settings.pending_exit = 0
    code = 0
    message: str | None = None
    with warnings.catch_warnings():
        warnings.simplefilter("always", SemiscreenWarning)  # once each by text, see _WarningNotes
        warnings.showwarning = routed.show
        try:
            rv = app(args=args, prog_name="semiscreen", standalone_mode=False)
            code = rv if isinstance(rv, int) else 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if type(sys.stdout).__name__ == "PacifyFlushWrapper":
                # click's exit after a closed pipe (`... | head -1`): the reader leaving early is
                # not an error, but what the command found (e.g. validate's problems) still is
                code = settings.pending_exit
                sys.stdout = getattr(sys.stdout, "wrapped", sys.stdout)
                sys.stderr = getattr(sys.stderr, "wrapped", sys.stderr)
        except no_such_option as exc:
            message = _misplaced_global_option(exc)
            if message is None:
                exc.show()
            code = exc.exit_code
        except click_error as exc:  # usage errors: click's usage line and message
            exc.show()
            code = exc.exit_code
        except abort:
            print("Aborted!", file=sys.stderr)
            code = 1
        except SemiscreenError as exc:
            if settings.debug or "--debug" in args:
                routed.flush()
                raise
            message = f"error: {exc}"
            problems = getattr(exc, "problems", None)
            if problems and len(problems) > 1 and "validate" not in args:
                import shlex
                from pathlib import Path

                # only real files can be validated (a Yahoo symbol's problems name no file)
                files = sorted({p.file for p in problems if p.file and Path(p.file).is_file()})
                if files:
                    message += f"; run `semiscreen validate {shlex.join(files)}` to list them all"
            code = exc.exit_code
        routed.flush()
    if message is not None:
        print(message, file=sys.stderr)
    return code


def run() -> None:  # pragma: no cover - console entry point
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader went away (`semiscreen events -f csv | head -1`): not an error; point
        # stdout at /dev/null so that the interpreter's final flush does not complain
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    sys.exit(code)
