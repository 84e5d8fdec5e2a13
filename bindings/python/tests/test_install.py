"""`pip install ./bindings/python` works offline: a temporary venv, no package index, no build
isolation downloads (the in-tree backend needs nothing). The installed package then uses the
library copied into it, from any working directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

STATIC_LIB = REPO / "build" / "static" / "liblsrec.so"


def pip_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LSREC_LIBRARY")}
    env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_CACHE_DIR="1")
    return env


@pytest.mark.skipif(not STATIC_LIB.exists(), reason="build/static/liblsrec.so is not built (`make lib-static`)")
def test_pip_install_into_a_fresh_venv(tmp_path: Path, golden) -> None:
    venv = tmp_path / "venv"
    # --system-site-packages: numpy comes from this interpreter, nothing is downloaded.
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = venv / "bin" / "python"
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-index", "-q", str(REPO / "bindings" / "python")],
        capture_output=True, text=True, env=pip_env(),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    script = (
        "import sys, lsrec\n"
        "m = lsrec.Model.load(sys.argv[1]); s = m.new_state()\n"
        "s.update_many([int(x) for x in sys.argv[2].split(',')], [int(x) for x in sys.argv[3].split(',')])\n"
        "print(lsrec.library_path()); print(' '.join(map(str, m.topk(s, 10)[0].tolist())))\n"
    )
    out = subprocess.run(
        [str(python), "-c", script, str(REPO / "Tests" / "Fixtures" / golden["model"]),
         ",".join(map(str, golden["events"]["items"])), ",".join(map(str, golden["events"]["times"]))],
        cwd=tmp_path, capture_output=True, text=True, env=pip_env(),
    )
    assert out.returncode == 0, out.stderr
    lib_path, top = out.stdout.splitlines()
    assert lib_path.startswith(str(venv)) and lib_path.endswith("lsrec/_lib/liblsrec.so")
    assert top.split() == [str(i) for i in golden["topk"][0]["ids"]]


def test_pip_install_target_without_build_isolation(tmp_path: Path) -> None:
    target = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-index", "--no-build-isolation", "--no-deps", "-q",
         "--target", str(target), str(REPO / "bindings" / "python")],
        capture_output=True, text=True, env=pip_env(),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (target / "lsrec" / "__init__.py").exists() and (target / "lsrec" / "py.typed").exists()
    assert (target / "lsrec" / "_lib" / "liblsrec.so").exists() == STATIC_LIB.exists()
