"""What the ``derivreg`` command checks before any work, and how it reports the rest.

The command line never prints a traceback for user input or Ctrl-C:

- :func:`output_dir` checks ``--out`` before training, without creating it;
- :func:`check_updates` and :func:`check_memory` refuse sizes that cannot be
  counted or cannot fit in memory, from an estimate, before allocating;
- :func:`ascii_fallback` makes a stream whose encoding cannot show a symbol
  (cp1252 has no 'α') write an ASCII spelling of it instead of failing;
- :func:`interrupted` reports Ctrl-C on one line; the exit status is 130.

Each check raises a ``ValueError`` whose message names the option; the
command line prints it on one line and exits with status 2.

Examples
--------
>>> output_dir("")
Traceback (most recent call last):
...
ValueError: --out must name a directory, got ''
>>> check_updates(10**25, 100, 1)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: --epochs 10000000000000000000000000 is too large: ... at most 92233720368547758
"""

from __future__ import annotations

import argparse
import codecs
import math
import os
import sys
from pathlib import Path
from typing import IO

__all__ = [
    "ASCII_SPELLINGS",
    "ascii_fallback",
    "before_lecture",
    "before_train",
    "check_memory",
    "check_updates",
    "interrupted",
    "memory_needed",
    "output_dir",
]

#: The most updates training can count (its History indexes them with np.intp).
MAX_UPDATES = 2**63 - 1

#: Samples of the largest run of ``derivreg lecture`` (the 2-feature decision boundary).
LARGEST_LECTURE_RUN = 1000

#: ASCII spellings of the symbols the derivations print, for terminals that cannot show them.
ASCII_SPELLINGS: dict[str, str] = {
    "α": "alpha",
    "ŷ": "yhat",
    "σ": "sigma",
    "·": "*",
    "²": "^2",
    "ᵀ": "^T",
    "∂": "d",
    "∑": "sum",
    "Σ": "sum",
    "√": "sqrt",
    "≤": "<=",
    "≥": ">=",
    "≠": "!=",
    "≈": "~",
    "→": "->",
    "×": "x",
    "−": "-",
    "…": "...",
    "—": "--",
    "–": "-",
    "‖": "||",
}

_ERRORS = "derivreg-ascii"


def _spell(err: UnicodeError) -> tuple[str, int]:
    if not isinstance(err, UnicodeEncodeError):
        raise err
    bad = err.object[err.start : err.end]
    return "".join(
        ASCII_SPELLINGS.get(c, c.encode("ascii", "backslashreplace").decode()) for c in bad
    ), err.end


codecs.register_error(_ERRORS, _spell)


def ascii_fallback(stream: IO[str]) -> IO[str]:
    """Make ``stream`` spell in ASCII the symbols its encoding cannot show; return it.

    A stream that can show them (UTF-8) is left as it is.  Only text streams
    that can be reconfigured (``sys.stdout``, ``sys.stderr``) are changed.

    Examples
    --------
    >>> import io
    >>> raw = io.BytesIO()
    >>> out = ascii_fallback(io.TextIOWrapper(raw, encoding="cp1252"))
    >>> _ = out.write("w := w + 2·α·(y - ŷ)·x"); out.flush()
    >>> raw.getvalue().decode("cp1252")
    'w := w + 2·alpha·(y - yhat)·x'
    """
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        "".join(ASCII_SPELLINGS).encode(encoding)
    except UnicodeEncodeError:
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors=_ERRORS)
    except LookupError:  # pragma: no cover - an encoding Python does not know
        pass
    return stream


def output_dir(text: str, option: str = "--out") -> Path:
    """Check that ``text`` names a directory that exists or can be created; create nothing.

    Raises
    ------
    ValueError
        If ``text`` is empty, names a file, lies under a file, is not
        writable, or has a name too long for the file system.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile() as f:
    ...     output_dir(f.name + "/figures")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: --out '...' cannot be created: ... is a file, not a directory
    """
    if not text.strip():
        raise ValueError(f"{option} must name a directory, got {text!r}")
    if "\0" in text:
        raise ValueError(f"{option} {text!r} is not a valid path: it contains a NUL character")
    path = Path(text).expanduser()
    try:
        if path.exists():
            if not path.is_dir():
                raise ValueError(f"{option} {text!r} exists and is not a directory")
            if not os.access(path, os.W_OK | os.X_OK):
                raise ValueError(f"{option} {text!r}: the directory is not writable")
            return path
        missing = [path.absolute()]
        while not missing[-1].parent.exists():
            missing.append(missing[-1].parent)
        parent = missing[-1].parent
    except OSError as err:
        raise ValueError(f"{option} {text!r} cannot be used: {err.strerror or err}") from None
    if not parent.is_dir():
        raise ValueError(
            f"{option} {text!r} cannot be created: {parent} is a file, not a directory"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{option} {text!r} cannot be created: {parent} is not writable")
    limit = _name_max(parent)
    long = [p.name for p in missing if len(os.fsencode(p.name)) > limit]
    if long:
        raise ValueError(
            f"{option} {text!r}: the name {long[0][:20]!r}... is longer than {limit} bytes"
        )
    return path


def _name_max(directory: Path) -> int:
    try:
        return os.pathconf(directory, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):  # pragma: no cover - not POSIX
        return 255


def check_updates(
    epochs: int, samples: int, batch_size: int | None, option: str = "--epochs"
) -> None:
    """Refuse more updates than training can count (``2**63 - 1``).

    Examples
    --------
    >>> check_updates(1000, 100, 1)
    """
    per_epoch = math.ceil(samples / (batch_size or samples))
    if epochs > MAX_UPDATES // per_epoch:
        raise ValueError(
            f"{option} {epochs} is too large: {per_epoch} updates per epoch make more updates "
            f"than training can count (2**63 - 1); use at most {MAX_UPDATES // per_epoch}"
        )


def memory_needed(samples: int, features: int, *, batch_size: int | None, shuffle: bool) -> int:
    """Estimate the bytes ``derivreg train`` needs for ``samples`` x ``features`` (a lower bound).

    The data (X, y and their temporaries: 8 n + 40 bytes a sample), the
    losses over all data (16), a shuffled copy (8 n + 16), and for per-sample
    SGD in CPython the samples as Python floats (32 n + 72).

    Examples
    --------
    >>> memory_needed(100, 1, batch_size=1, shuffle=False)
    16800
    """
    per_sample = 8 * features + 40 + 16
    if shuffle:
        per_sample += 8 * features + 16
    if batch_size == 1 and features <= 32:
        per_sample += 32 * features + 72
    return samples * per_sample


def memory_available() -> int | None:
    """Bytes of memory available now (Linux: MemAvailable), or None if unknown.

    Examples
    --------
    >>> isinstance(memory_available(), (int, type(None)))
    True
    """
    try:
        with Path("/proc/meminfo").open() as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):  # pragma: no cover - not POSIX
        return None


def check_memory(samples: int, features: int, *, batch_size: int | None, shuffle: bool) -> None:
    """Refuse a data set that cannot fit in the memory available, before allocating it.

    Examples
    --------
    >>> check_memory(3_000_000_000, 1, batch_size=1, shuffle=False)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: --samples 3000000000 with --features 1 needs at least 504.0 GB of memory, ...
    """
    needed = memory_needed(samples, features, batch_size=batch_size, shuffle=shuffle)
    available = memory_available()
    if available is not None and needed > available:
        raise ValueError(
            f"--samples {samples} with --features {features} needs at least {needed / 1e9:.1f} GB "
            f"of memory, and {available / 1e9:.1f} GB are available; lower --samples or --features"
        )


def interrupted(command: str, stream: IO[str] | None = None) -> int:
    r"""Report Ctrl-C on one line and return the exit status 130 (128 + SIGINT).

    Examples
    --------
    >>> import io
    >>> err = io.StringIO()
    >>> interrupted("lecture", err), err.getvalue()
    (130, 'derivreg lecture: interrupted\n')
    """
    stream = sys.stderr if stream is None else stream
    tty = bool(getattr(stream, "isatty", lambda: False)())
    stream.write(("\n" if tty else "") + f"derivreg {command}: interrupted\n")
    stream.flush()
    return 130


def _figures_dir(args: argparse.Namespace) -> None:
    """Check ``--out`` unless ``--no-plots`` says no figures are drawn."""
    if getattr(args, "no_plots", False):
        return
    if args.out is None:
        raise ValueError("--out DIR is needed for the figures (or --no-plots)")
    output_dir(args.out)


def before_lecture(args: argparse.Namespace) -> None:
    """Check ``derivreg lecture``'s ``--out`` and ``--epochs`` before any work.

    Examples
    --------
    >>> before_lecture(argparse.Namespace(out="", epochs=1))
    Traceback (most recent call last):
    ...
    ValueError: --out must name a directory, got ''
    """
    _figures_dir(args)
    check_updates(args.epochs, LARGEST_LECTURE_RUN, 1)


def _default_samples(model: str) -> int:
    """Return how many samples :mod:`derivreg.data` draws by default (from its signature)."""
    import inspect

    from derivreg import data

    default = inspect.signature(getattr(data, model)).parameters["n_samples"].default
    return default if default is not None else LARGEST_LECTURE_RUN


def before_train(args: argparse.Namespace) -> None:
    """Check ``derivreg train``'s ``--out`` and sizes before any data is drawn.

    Examples
    --------
    >>> ns = argparse.Namespace(out=".", model="linear", samples=3_000_000_000, features=1,
    ...                         epochs=1, batch_size=1, shuffle=False)
    >>> before_train(ns)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: --samples 3000000000 with --features 1 needs at least 504.0 GB of memory, ...
    """
    _figures_dir(args)
    samples = args.samples or _default_samples(args.model)
    check_updates(args.epochs, samples, args.batch_size)
    check_memory(samples, args.features, batch_size=args.batch_size, shuffle=args.shuffle)
