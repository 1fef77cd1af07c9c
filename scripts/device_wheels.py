"""Fetch, here, the wheels that a GPU machine without a package index lacks for running the notebooks, into ``.whl/``.

Written for a time-limited GPU machine (a spot instance, a locked-down cluster node) whose image has Python 3.12
with torch, numpy, pandas, matplotlib and more, but no papermill, Jupyter kernel or fvcore, and no package index
to install them from. This script takes the
closure of what those need, as installed in this checkout's environment (so the versions are the pinned
ones), drops what the device image already holds, and downloads the rest as CPython 3.12 manylinux wheels;
pure-Python packages published only as source (fvcore, iopath, ...) are built into wheels here.
``scripts/gpu_setup.sh`` installs them there. Run with the environment's Python:

    .venv/bin/python scripts/device_wheels.py
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WANTED = ["papermill", "ipykernel", "fvcore", "scipy"]
# Already in that GPU image (its package list, read 2026-11-17);
# kept out so that the image's own builds (numpy under torch, say) are the ones imported there.
ON_DEVICE = {
    "aiohttp", "aiosignal", "attrs", "certifi", "charset-normalizer", "click", "cloudpickle", "contourpy", "cycler", "filelock",
    "fonttools", "fsspec", "idna", "jinja2", "kiwisolver", "markupsafe", "matplotlib", "numpy", "packaging",
    "pandas", "pillow", "portalocker", "psutil", "pygments", "pyparsing", "python-dateutil",
    "pytz", "pyyaml", "requests", "rich", "setuptools", "six", "tabulate", "torch", "torchvision", "tqdm",
    "typing-extensions", "tzdata", "urllib3", "wheel", "pytest", "pluggy", "iniconfig",
}
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64",
             "manylinux1_x86_64"]


def canonical(name: str) -> str:
    """A distribution name as pip compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(names: list[str]) -> dict[str, str]:
    """``{name: installed version}`` for ``names`` and everything they require on the device's Python 3.12
    (extras skipped), leaving out what the device holds and what it requires."""
    found, todo = {}, list(names)
    while todo:
        name = canonical(todo.pop())
        if name in found or name in ON_DEVICE:
            continue
        dist = metadata.distribution(name)
        found[name] = dist.version
        for requirement in dist.requires or []:
            if "extra ==" in requirement:
                continue
            marker = requirement.split(";", 1)[1] if ";" in requirement else ""
            if marker and not _applies(marker):
                continue
            todo.append(re.split(r"[ ;<>=!~\[(]", requirement, maxsplit=1)[0])
    return found


def _applies(marker: str) -> bool:
    from packaging.markers import Marker

    return Marker(marker).evaluate({"python_version": "3.12", "sys_platform": "linux", "platform_system": "Linux",
                                    "implementation_name": "cpython", "platform_python_implementation": "CPython"})


def main() -> int:
    out = ROOT / ".whl"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    needed = closure(WANTED)
    platform_args = [arg for p in PLATFORMS for arg in ("--platform", p)]
    for name, version in sorted(needed.items()):
        pin = f"{name}=={version}"
        binary = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
             "--python-version", "3.12", "--implementation", "cp", *platform_args, "-d", str(out), pin],
            capture_output=True, text=True)
        if binary.returncode != 0:  # published as source only: build a wheel here (pure Python)
            subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), pin],
                           check=True)
    wheels = sorted(out.glob("*.whl"))
    size = sum(w.stat().st_size for w in wheels) / 2**20
    print(f"{len(wheels)} wheels, {size:.1f} MiB in {out}: {' '.join(sorted(needed))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
