"""The "Use from Python" snippet of README.md runs verbatim (from the repository root)."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import REPO, subprocess_env


def test_readme_snippet() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use from Python", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert 6 <= len(code.strip().splitlines()) <= 14
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, env=subprocess_env())
    assert done.returncode == 0, done.stderr
    assert "[" in done.stdout and done.stdout.strip().endswith("3")  # restored.n_events
