"""Shared fixtures: the repository, the golden case, the fixture model, the C example."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

import lsrec

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "Tests" / "Fixtures"
GOLDEN_JSON = FIXTURES / "golden.json"
C_RECOMMEND = REPO / "build" / "bin" / "recommend"


@pytest.fixture(scope="session")
def golden() -> Dict[str, Any]:
    """Tests/Fixtures/golden.json (see Tests/LSRecCoreTests/GoldenTests.swift)."""
    with open(GOLDEN_JSON, encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="session")
def model_path(golden: Dict[str, Any]) -> Path:
    """The golden model (the file named in golden.json)."""
    return FIXTURES / golden["model"]


@pytest.fixture(scope="session")
def model(model_path: Path) -> Iterator[lsrec.Model]:
    with lsrec.Model.load(model_path) as m:
        yield m


@pytest.fixture(scope="session")
def golden_state(model: lsrec.Model, golden: Dict[str, Any]) -> lsrec.State:
    """A state fed the golden events (with update_many)."""
    s = model.new_state()
    s.update_many(golden["events"]["items"], golden["events"]["times"])
    return s


def crc32c(data: bytes) -> int:
    """CRC32C (Castagnoli), as in docs/FORMAT.md; slow but small."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def subprocess_env(**extra: str) -> Dict[str, str]:
    """The environment for a child Python that imports lsrec from this checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "bindings" / "python"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra)
    return env
