"""Small file utilities shared by the price snapshot, validation, the pipeline and reports."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Callable

__all__ = ["atomic_write", "sha256_file"]


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> None:
    """Write ``path`` through a temporary file in the same folder, then ``os.replace``.

    Readers (other processes included) see the old file, no file, or the whole new one; the
    temporary file is removed if ``write`` fails, and the error is raised.

    Parameters
    ----------
    path : path
        The file to (over)write; its folder is created if needed.
    write : callable
        Called with the temporary file's path; writes the content there.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "sub" / "x.txt"
    >>> atomic_write(p, lambda tmp: tmp.write_text("done"))
    >>> p.read_text(), sorted(q.name for q in p.parent.iterdir())
    ('done', ['x.txt'])
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> sha256_file(p)[:16]
    'ba7816bf8f01cfea'
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
