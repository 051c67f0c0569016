"""Thread-count variables, set from ``--threads N`` before anything imports NumPy.

This module imports nothing, so that ``run.py`` can set them first.
"""

#: Thread-count variables of every library measured here; ``--threads N`` sets
#: them before anything is imported (JAX reads its flags only then).
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
)


def set_threads(argv: list[str], environ: dict) -> None:
    """Apply ``--threads N`` from ``argv`` to ``environ`` (before any import of NumPy)."""
    if "--threads" in argv[:-1]:
        n = argv[argv.index("--threads") + 1]
        environ.update(dict.fromkeys(THREAD_VARIABLES, n))
        if n == "1":
            environ["XLA_FLAGS"] = (
                "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
            )
