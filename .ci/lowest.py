"""Write a pip constraints file that pins each direct dependency to its lowest declared release.

The lower bounds in ``pyproject.toml`` are promises: a user whose environment already holds an
older release inside our range gets it, not the newest. This script turns them into a test.
It reads ``[project] dependencies`` and the named extras (``test`` by default) and prints one
``name==X`` line per package, X being the release the ``>=X`` bound names; ``.ci/run`` installs
with it (``CI_LOWEST=1``) and runs the test suite in that environment::

    python .ci/lowest.py > /tmp/lowest.txt
    pip install torch==2.13.0 && pip install -c /tmp/lowest.txt -e '.[test]'

torch is the one exception: it is pinned to the wheel this project installs first (``--torch``,
2.13.0), never to its lower bound, so that pip never downloads another torch build. A
requirement without a ``>=`` bound is left unpinned (say so on stderr). Standard library only.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# name[extras] >=X, with an optional further clause (",<4") and no environment markers
_REQUIREMENT = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(?P<spec>[^;]*)$"
)
_LOWER = re.compile(r">=\s*(?P<version>[^,\s]+)")


def lowest_pins(pyproject: Path, extras: list[str], torch: str) -> tuple[list[str], list[str]]:
    """The ``name==X`` lines for the main dependencies and ``extras``, and what had no bound.

    Returns
    -------
    pins : list of str
        One line per distinct package, sorted by name: ``name==lowest`` (``torch==torch``).
    unbounded : list of str
        The requirements that declare no ``>=`` bound (left unpinned).
    """
    project = tomllib.loads(pyproject.read_text())["project"]
    requirements = list(project["dependencies"])
    optional = project["optional-dependencies"]
    for extra in extras:
        if extra not in optional:
            raise SystemExit(f"{pyproject}: no extra {extra!r}; it has {sorted(optional)}")
        requirements += optional[extra]
    pins: dict[str, str] = {}
    unbounded: list[str] = []
    for requirement in requirements:
        parsed = _REQUIREMENT.match(requirement)
        if parsed is None:
            raise SystemExit(f"{pyproject}: cannot read the requirement {requirement!r}")
        name = re.sub(r"[-_.]+", "-", parsed["name"]).lower()  # PEP 503's normal form
        if name == "torch":
            pins[name] = torch
            continue
        lower = _LOWER.search(parsed["spec"])
        if lower is None:
            unbounded.append(requirement)
            continue
        if pins.get(name, lower["version"]) != lower["version"]:
            raise SystemExit(
                f"{pyproject}: {name} has two lower bounds, {pins[name]} and {lower['version']}"
            )
        pins[name] = lower["version"]
    return [f"{name}=={version}" for name, version in sorted(pins.items())], unbounded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyproject", type=Path, default=ROOT / "pyproject.toml")
    parser.add_argument("--extra", action="append", help="an extra to include (default: test)")
    parser.add_argument(
        "--torch", default="2.13.0", help="the torch release to pin (default: 2.13.0)"
    )
    args = parser.parse_args()
    pins, unbounded = lowest_pins(args.pyproject, args.extra or ["test"], args.torch)
    for requirement in unbounded:
        print(f"lowest.py: {requirement!r} has no lower bound; left unpinned", file=sys.stderr)
    print("\n".join(pins))


if __name__ == "__main__":
    main()
