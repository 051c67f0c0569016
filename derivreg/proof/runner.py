"""Finding, loading and running the proof families (``proofs/*.py``)."""

from __future__ import annotations

import importlib.util
import sys
import time
import zlib
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import IO

import sympy as sp

from derivreg.proof._base import ProofError
from derivreg.proof.theorem import Theorem
from derivreg.rendering import render

#: Where the proof families live: ``derivreg/proof/families``, installed with the
#: package; in a source checkout a link to the repository's ``proofs/``.
PROOFS_DIR = Path(__file__).resolve().parent / "families"


def _default() -> Path:
    """:data:`derivreg.proof.PROOFS_DIR`, read when called (so that it can be pointed elsewhere)."""
    return Path(sys.modules["derivreg.proof"].PROOFS_DIR)


def explicit(expr: sp.Basic, vectors: dict[sp.MatrixSymbol, sp.Matrix]) -> sp.Basic:
    """Replace matrix symbols of symbolic shape by explicit matrices.

    The dimension symbols in their shapes take the explicit sizes; the
    result is evaluated (``doit``) to an explicit scalar or Matrix.

    Examples
    --------
    >>> n = sp.Symbol("n", integer=True, positive=True)
    >>> x, w = sp.MatrixSymbol("x", n, 1), sp.MatrixSymbol("w", n, 1)
    >>> explicit((x.T * w)[0, 0], {x: sp.Matrix([1, 2]), w: sp.Matrix([3, 4])})
    11
    """
    dims = {
        d: k
        for m, v in vectors.items()
        for d, k in zip(m.shape, v.shape, strict=True)
        if d.free_symbols
    }
    swap = {m.subs(dims): sp.ImmutableMatrix(v) for m, v in vectors.items()}
    out = expr.subs(dims).xreplace(swap).doit()
    return sp.Matrix(out) if isinstance(out, sp.MatrixExpr) else out


def _caller_directory(name: str) -> Path | None:
    """Return the folder of the proof file calling :func:`load`, if it holds ``name.py``.

    A family's ``load("_common")`` then finds ``_common.py`` beside itself,
    whether it was loaded from ``--proofs DIR``, run as ``python
    proofs/bce.py`` or installed with the package.  Only a family (a module
    :func:`load` imported) or a script run as ``__main__`` counts as a caller.
    """
    caller = sys._getframe(2).f_globals  # the caller of load()
    family = str(caller.get("__name__", "")).startswith(("_derivreg_proofs_", "__main__"))
    path = caller.get("__file__")
    if family and path and (Path(path).resolve().parent / f"{name}.py").is_file():
        return Path(path).resolve().parent
    return None


def load(name: str, directory: str | Path | None = None) -> ModuleType:
    """Import ``<directory>/<name>.py`` by path (once per process) and return it.

    Parameters
    ----------
    name : str
        File name without ``.py``, e.g. ``"stability"``.
    directory : path, optional
        Defaults to the folder of the calling file if it holds ``name.py``
        (so families load their siblings from wherever they are), else
        :data:`PROOFS_DIR`.

    Examples
    --------
    >>> load("sigmoid").THEOREMS[0].name
    'sigmoid.derivative'
    """
    root = Path(directory) if directory is not None else _caller_directory(name) or _default()
    path = root / f"{name}.py"
    if not path.is_file():
        raise FileNotFoundError(f"no proof family {name!r}: {path} does not exist")
    key = f"_derivreg_proofs_{zlib.crc32(str(path.resolve()).encode()):08x}_{name}"
    if key in sys.modules:
        return sys.modules[key]
    spec = importlib.util.spec_from_file_location(key, path)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py file always has one
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    try:
        # Runs a proof file: Python source by design, never text from a user or a derivation.
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[key]
        raise
    return module


def families(directory: str | Path | None = None) -> list[str]:
    """Names of the proof families: ``*.py`` not starting with ``_``, sorted.

    Examples
    --------
    >>> "stability" in families()
    True
    """
    root = Path(directory) if directory is not None else _default()
    return sorted(p.stem for p in root.glob("*.py") if not p.name.startswith("_"))


def main(theorems: Iterable[Theorem], out: IO[str] | None = None) -> int:
    """Check and print theorems with their steps; the exit status of a proofs file.

    Returns 0 if every theorem checks, 1 otherwise (each failure printed).

    Examples
    --------
    >>> import io
    >>> x = sp.Symbol("x", real=True)
    >>> main([Theorem("demo.bad", "wrong").start(x).eq(x + 1, "wrong")], io.StringIO())
    1
    """
    out = out if out is not None else sys.stdout
    failed = 0
    theorems = list(theorems)
    for t in theorems:
        error = None
        try:
            t.check()
        except ProofError as err:
            error, failed = err, failed + 1
        out.write(render(t, "text") + "\n")
        if error is not None:
            out.write(f"FAILED: {error}\n\n")
    steps = sum(t.n_steps for t in theorems)
    out.write(f"{len(theorems) - failed} of {len(theorems)} theorems checked ({steps} steps)\n")
    return 1 if failed else 0


def _failure(name: str, err: ProofError) -> str:
    lines = str(err).splitlines()
    head = lines[0].split(": ", 1)[-1] if lines else ""
    residual = next((line.strip() for line in lines if line.strip().startswith("residual:")), "")
    where = f"step {err.step} ({err.reason})" if err.step else "statement"
    return f"FAILED   {name}: {where}: {head}\n" + (f"         {residual}\n" if residual else "")


def verify(out: IO[str] | None = None, directory: str | Path | None = None) -> int:
    r"""Check every theorem of every family; one line each, the citations, then a total.

    Returns
    -------
    int
        The number of failures (theorems, or families that did not import).

    Examples
    --------
    >>> import io, pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "demo.py").write_text(
    ...     "import sympy as sp\n"
    ...     "from derivreg.proof import Theorem\n"
    ...     "x = sp.Symbol('x', real=True)\n"
    ...     "twice = sp.Add(x, x, evaluate=False)\n"
    ...     "THEOREMS = [Theorem('demo.twice', 'doubling').start(twice).eq(2 * x, 'collect')]\n"
    ... )
    >>> out = io.StringIO()
    >>> verify(out, folder), out.getvalue().splitlines()[0]
    (0, 'checked  demo.twice (1 step)')
    """
    out = out if out is not None else sys.stdout
    names = families(directory)
    if not names:
        where = Path(directory) if directory is not None else _default()
        raise FileNotFoundError(f"no proof files (*.py) in {where}")
    failures = theorems = checked = steps = 0
    resting: list[tuple[str, list[str]]] = []
    started = time.perf_counter()
    for family in names:
        try:
            found = list(load(family, directory).THEOREMS)
        except Exception as err:  # reported, counted, and the run goes on
            failures += 1
            out.write(f"FAILED   {family}: cannot load ({type(err).__name__}: {err})\n")
            continue
        for t in found:
            theorems += 1
            try:
                t.check()
            except ProofError as err:
                failures += 1
                out.write(_failure(t.name, err))
                continue
            checked += 1
            steps += t.n_steps
            if t.cited:
                resting.append((t.name, t.cited))
            unit = "step" if t.n_steps == 1 else "steps"
            note = f", cites {len(t.cited)}" if t.cited else ""
            out.write(f"checked  {t.name} ({t.n_steps} {unit}{note})\n")
    for name, cited in resting:
        out.write(f"cited    {name} rests on: {'; '.join(cited)}\n")
    seconds = time.perf_counter() - started
    out.write(
        f"total: {checked} of {theorems} theorems checked ({steps} steps), "
        f"{failures} failed, {len(resting)} resting on a cited fact ({seconds:.0f} s)\n"
    )
    return failures
