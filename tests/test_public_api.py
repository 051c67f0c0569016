"""The typed user of the public API (tests/typing/public_api.py) runs as it reads.

mypy checks its types (``[tool.mypy]`` in pyproject.toml); this runs it, so that
what it asserts about the values holds too.
"""

import runpy
from pathlib import Path

USER = Path(__file__).parent / "typing" / "public_api.py"


def test_the_typed_user_of_the_public_api_runs():
    runpy.run_path(str(USER), run_name="__main__")
