"""examples/python/recommend.py prints what examples/c/recommend.c prints for the same input."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest

from conftest import C_RECOMMEND, REPO, subprocess_env

PY_EXAMPLE = REPO / "examples" / "python" / "recommend.py"


def run(cmd: List[str]) -> List[str]:
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=subprocess_env())
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def compare(args: List[str]) -> List[str]:
    py = run([sys.executable, str(PY_EXAMPLE)] + args)
    assert py[-1] == "recommend.py: ok"
    if not C_RECOMMEND.exists():
        pytest.skip(f"{C_RECOMMEND} is not built (`make examples`); checked the Python example alone")
    c = run([str(C_RECOMMEND)] + args)
    assert c[-1].startswith("recommend: ok")
    # Trailing blanks aside (the C example pads the title column), the lines are the same.
    assert [line.rstrip() for line in py[:-1]] == [line.rstrip() for line in c[:-1]]
    return py


def test_default_events() -> None:
    out = compare([])
    assert out[0].startswith("liblsrec 0.5.0") and "top 10 (excluding seen):" in out


def test_golden_events_on_the_command_line(golden: Dict[str, Any], model_path: Path) -> None:
    events = golden["events"]
    args = [str(model_path)] + [
        f"{i}" if t == -1 else f"{i}:{t}" for i, t in zip(events["items"], events["times"])
    ]
    out = compare(args)
    # The example's top 10 is the golden top 10 at the last event.
    ranked = [m.group(1) for m in (re.match(r"^\s+\d+\. item (\d+) ", line) for line in out) if m]
    assert ranked == [str(i) for i in golden["topk"][0]["ids"]]


def test_history_file_with_an_unknown_item(golden: Dict[str, Any], model_path: Path, tmp_path: Path) -> None:
    events = golden["events"]
    history = tmp_path / "history.txt"
    lines = ["# item unix_ts"] + [f"{i} {t}" for i, t in zip(events["items"], events["times"])]
    lines.insert(5, "999999 1700000000")  # not in the model: skipped with a warning
    history.write_text("\n".join(lines) + "\n")
    compare([str(model_path), "-f", str(history)])


def test_history_file_with_titles(golden: Dict[str, Any], model_path: Path, tmp_path: Path) -> None:
    events = golden["events"]
    history = tmp_path / "history.txt"
    history.write_text("".join(f"{i} {t}\n" for i, t in zip(events["items"], events["times"])))
    titles = tmp_path / "titles.tsv"
    titles.write_text("".join(f"{1000 + 7 * i}\tMovie number {i} (19{i % 100:02d})\n" for i in range(0, 300, 2)))
    out = compare([str(model_path), "-f", str(history), "-t", str(titles)])
    assert any("Movie number" in line for line in out)
