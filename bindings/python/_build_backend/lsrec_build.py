"""A tiny in-tree PEP 517 build backend for the lsrec Python package.

Why not setuptools: ``pip install ./bindings/python`` must work offline on a fresh machine. With
``requires = []`` pip's isolated build environment needs nothing from an index, and this backend
needs only the standard library (setuptools would additionally need the ``wheel`` package, which
is not installed everywhere).

What it does: packs ``lsrec/`` into a wheel and copies ``liblsrec.so`` into ``lsrec/_lib/`` —
from ``$LSREC_LIBRARY`` if set, else from the checkout's ``build/static/liblsrec.so``
(``make lib-static``; the build with the Swift runtime linked in, so it runs without Swift). With a
bundled library the wheel is tagged for this platform (``py3-none-linux_x86_64``); without one it
is a pure wheel that looks for the library at run time (``lsrec/_native.py``) and a warning is
printed. ``pip install -e`` gets a .pth file pointing at this folder.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import sys
import sysconfig
import tarfile
import zipfile
from typing import Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # bindings/python
PACKAGE = "lsrec"
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
# Fixed timestamps: the same inputs give the same wheel bytes.
ZIP_DATE = (2020, 1, 1, 0, 0, 0)


def _project() -> Dict[str, object]:
    path = os.path.join(HERE, "pyproject.toml")
    try:
        import tomllib  # Python 3.11+
    except ImportError:  # pragma: no cover - older Pythons: the few keys we need, by pattern
        text = open(path, encoding="utf-8").read()
        table = text.split("[project]", 1)[1].split("\n[", 1)[0]

        def value(key: str) -> str:
            m = re.search(rf'^{key}\s*=\s*"([^"]*)"', table, re.M)
            return m.group(1) if m else ""

        deps = re.search(r"^dependencies\s*=\s*\[([^\]]*)\]", table, re.M)
        return {
            "name": value("name"),
            "version": value("version"),
            "description": value("description"),
            "requires-python": value("requires-python"),
            "dependencies": re.findall(r'"([^"]+)"', deps.group(1)) if deps else [],
        }
    with open(path, "rb") as f:
        return tomllib.load(f)["project"]


def _find_library() -> Optional[str]:
    env = os.environ.get("LSREC_LIBRARY")
    if env:
        if not os.path.isfile(env):
            raise RuntimeError(f"LSREC_LIBRARY={env} does not exist")
        return env
    if os.path.isfile(os.path.join(REPO_ROOT, "include", "lsrec.h")):
        candidate = os.path.join(REPO_ROOT, "build", "static", "liblsrec.so")
        if os.path.isfile(candidate):
            return candidate
    return None


def _platform_tag() -> str:
    return re.sub(r"[-.]", "_", sysconfig.get_platform())


def _metadata(project: Dict[str, object]) -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
        f"Summary: {project.get('description', '')}",
    ]
    if project.get("requires-python"):
        lines.append(f"Requires-Python: {project['requires-python']}")
    for dep in project.get("dependencies", []) or []:
        lines.append(f"Requires-Dist: {dep}")
    readme = os.path.join(HERE, "README.md")
    body = ""
    if os.path.isfile(readme):
        lines.append("Description-Content-Type: text/markdown")
        body = "\n" + open(readme, encoding="utf-8").read()
    return "\n".join(lines) + "\n" + body


class _Wheel:
    def __init__(self, path: str) -> None:
        self.zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED)
        self.records: List[Tuple[str, str, int]] = []

    def add(self, arcname: str, data: bytes, executable: bool = False) -> None:
        info = zipfile.ZipInfo(arcname, ZIP_DATE)
        info.external_attr = ((0o755 if executable else 0o644) | 0o100000) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        self.zip.writestr(info, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        self.records.append((arcname, f"sha256={digest}", len(data)))

    def close(self, dist_info: str) -> None:
        record = f"{dist_info}/RECORD"
        text = "".join(f"{name},{h},{n}\n" for name, h, n in self.records) + f"{record},,\n"
        info = zipfile.ZipInfo(record, ZIP_DATE)
        info.external_attr = (0o644 | 0o100000) << 16
        self.zip.writestr(info, text)
        self.zip.close()


def _package_files() -> List[str]:
    files = []
    root = os.path.join(HERE, PACKAGE)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in ("__pycache__", "_lib"))
        for name in sorted(filenames):
            if name.endswith((".py", ".typed")):
                files.append(os.path.relpath(os.path.join(dirpath, name), HERE))
    return files


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _build(wheel_directory: str, editable: bool) -> str:
    project = _project()
    name, version = str(project["name"]), str(project["version"])
    library = None if editable else _find_library()
    tag = f"py3-none-{_platform_tag()}" if library else "py3-none-any"
    filename = f"{name}-{version}-{tag}.whl"
    dist_info = f"{name}-{version}.dist-info"
    wheel = _Wheel(os.path.join(wheel_directory, filename))
    if editable:
        wheel.add(f"__editable__.{name}-{version}.pth", (HERE + "\n").encode())
    else:
        for rel in _package_files():
            wheel.add(rel.replace(os.sep, "/"), _read(os.path.join(HERE, rel)))
        if library:
            wheel.add(f"{PACKAGE}/_lib/liblsrec.so", _read(library), executable=True)
        else:
            print(
                "lsrec build: no liblsrec.so to bundle (run `make lib-static` first, or set "
                "LSREC_LIBRARY); the package will look for it at run time",
                file=sys.stderr,
            )
    wheel.add(f"{dist_info}/METADATA", _metadata(project).encode())
    wheel.add(
        f"{dist_info}/WHEEL",
        (
            "Wheel-Version: 1.0\nGenerator: lsrec_build\n"
            f"Root-Is-Purelib: {'false' if library else 'true'}\nTag: {tag}\n"
        ).encode(),
    )
    wheel.close(dist_info)
    return filename


# ---- PEP 517 / PEP 660 hooks -------------------------------------------------------------------


def get_requires_for_build_wheel(config_settings=None) -> List[str]:
    return []


def get_requires_for_build_sdist(config_settings=None) -> List[str]:
    return []


def get_requires_for_build_editable(config_settings=None) -> List[str]:
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None) -> str:
    return _build(wheel_directory, editable=False)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None) -> str:
    return _build(wheel_directory, editable=True)


def build_sdist(sdist_directory, config_settings=None) -> str:
    project = _project()
    base = f"{project['name']}-{project['version']}"
    filename = f"{base}.tar.gz"
    files = ["pyproject.toml", "README.md"] + _package_files()
    for dirpath, dirnames, filenames in os.walk(os.path.join(HERE, "_build_backend")):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        files += [os.path.relpath(os.path.join(dirpath, n), HERE) for n in sorted(filenames) if n.endswith(".py")]
    pkg_info = _metadata(project).encode()
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for rel in files:
            path = os.path.join(HERE, rel)
            if os.path.isfile(path):
                tar.add(path, arcname=f"{base}/{rel}")
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        info.size = len(pkg_info)
        tar.addfile(info, io.BytesIO(pkg_info))
    return filename
