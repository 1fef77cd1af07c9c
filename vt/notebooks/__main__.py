"""``python -m vt.notebooks check|resolve PROFILE`` and ``python -m vt.notebooks landed PROFILE NOTEBOOK``."""

from __future__ import annotations

import sys

import yaml

from vt.errors import ConfigError
from vt.notebooks.profiles import landed, load_profile

def main(argv: list[str] | None = None) -> int:
    """``python -m vt.notebooks check|resolve PROFILE``: check a profile; ``resolve`` also prints it as YAML on
    stdout (its parent's values filled in, the check's line going to stderr). Exit status 2 with one line if it
    is bad. ``python -m vt.notebooks landed PROFILE NOTEBOOK`` exits 0 when that study has landed (``landed``),
    1 when not."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 3 and argv[0] == "landed":
        return 0 if landed(argv[1], argv[2]) else 1
    if len(argv) != 2 or argv[0] not in ("check", "resolve"):
        print("usage: python -m vt.notebooks check|resolve PROFILE, or landed PROFILE NOTEBOOK", file=sys.stderr)
        return 2
    try:
        values = load_profile(argv[1])
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    checked = f"profile {argv[1]}: {len(values)} parameters, all known"
    if argv[0] == "resolve":
        print(checked, file=sys.stderr)
        print(yaml.safe_dump(values, sort_keys=False), end="")
    else:
        print(checked)
    return 0


if __name__ == "__main__":
    sys.exit(main())
