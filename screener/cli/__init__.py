"""Command-line interface: a thin layer over the Python API.

``main()`` runs the Typer app and turns every :class:`~screener.errors.SemiscreenError` into
one line on stderr and its exit code (2 bad input, 3 data unavailable); ``--debug`` shows the
traceback instead.
"""

from __future__ import annotations

import importlib
import sys

from screener.cli._app import app, settings

__all__ = ["app", "main"]

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


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the process exit code."""
    from screener.errors import SemiscreenError

    _register_commands()
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        # standalone mode: Typer prints usage errors itself and exits 2.
        app(args=args, prog_name="semiscreen", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except SemiscreenError as exc:
        if settings.debug or "--debug" in args:
            raise
        message = f"error: {exc}"
        problems = getattr(exc, "problems", None)
        if problems and len(problems) > 1 and args[:1] != ["validate"]:
            files = sorted({p.file for p in problems if p.file})
            target = " ".join(files) if files else "FILE"
            message += f"; run `semiscreen validate {target}` to list them all"
        print(message, file=sys.stderr)
        return exc.exit_code
    return 0


def run() -> None:  # pragma: no cover - console entry point
    sys.exit(main())
