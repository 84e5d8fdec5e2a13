"""OpenBLAS's kernel choice (lsrec.h "BLAS kernels"): what the library reports, and the warning
when OpenBLAS runs pre-AVX2 kernels on a CPU with AVX2 + FMA. Each case is a new interpreter,
because OpenBLAS reads OPENBLAS_CORETYPE only when it is loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Optional

import pytest

BINDINGS = Path(__file__).resolve().parents[1]

PROBE = """
import json, warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import lsrec
    core, better = lsrec.blas_core(), lsrec.blas_suggested_coretype()
print(json.dumps({"core": core, "better": better,
                  "warnings": [str(w.message) for w in caught if w.category is RuntimeWarning]}))
"""


def probe(coretype: Optional[str]) -> Dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(BINDINGS))
    env.pop("OPENBLAS_CORETYPE", None)
    if coretype is not None:
        env["OPENBLAS_CORETYPE"] = coretype
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def cpu_level() -> int:
    """From /proc/cpuinfo, apart from the library's own detection: 0 no AVX2 + FMA, 1 AVX2 + FMA,
    2 also the AVX-512 subsets of OpenBLAS's SkylakeX kernels."""
    try:
        flags = next(l for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("flags")).split()
    except (OSError, StopIteration):
        return 0
    if not {"avx2", "fma"} <= set(flags):
        return 0
    return 2 if {"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"} <= set(flags) else 1


EXPECTED = {0: None, 1: "Haswell", 2: "SkylakeX"}


@pytest.fixture(scope="module")
def pinned_prescott() -> Dict[str, Any]:
    result = probe("Prescott")
    if result["core"] != "Prescott":
        pytest.skip(f"OpenBLAS ignores OPENBLAS_CORETYPE here (no DYNAMIC_ARCH; runs {result['core']})")
    return result


def test_pre_avx2_kernels_get_the_cpus_kernel_set(pinned_prescott: Dict[str, Any]) -> None:
    assert pinned_prescott["better"] == EXPECTED[cpu_level()]
    # The user chose the kernels: no warning.
    assert pinned_prescott["warnings"] == []


def test_suggested_kernels_are_used_and_not_questioned(pinned_prescott: Dict[str, Any]) -> None:
    better = EXPECTED[cpu_level()]
    if better is None:
        pytest.skip("this CPU has no AVX2 + FMA")
    result = probe(better)
    assert result == {"core": better, "better": None, "warnings": []}


def test_left_to_itself_warns_exactly_when_kernels_could_be_better() -> None:
    result = probe(None)
    assert isinstance(result["core"], str) and result["core"]
    if result["better"] is None:
        assert result["warnings"] == []
    else:
        assert result["better"] == EXPECTED[cpu_level()]
        assert len(result["warnings"]) == 1
        message = result["warnings"][0]
        assert result["core"] in message and f"OPENBLAS_CORETYPE={result['better']}" in message
