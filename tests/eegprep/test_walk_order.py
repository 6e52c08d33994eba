"""A folder reached under two real names (a bind mount inside the corpus) is listed under the
same name whatever order the file system lists the corpus in: the first in name order.

The walk took the folders in ``os.scandir``'s order, which is the file system's own (hash order
on ext4, creation order elsewhere): the same corpus copied onto another disk, or the same files
created in another order, could keep the other name, and so store its recordings under other
source paths and names."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from eegprep.corpus import walk


@pytest.mark.parametrize("order", ["as listed", "reversed"])
def test_the_first_name_in_name_order_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, order: str
) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "x.edf").write_bytes(b"")
    twins = {str(tmp_path / "a"), str(tmp_path / "b")}
    real_identity, real_scandir = walk._identity, os.scandir

    def identity(path: str, st: os.stat_result) -> tuple[object, object]:
        return ("one folder", 0) if path in twins else real_identity(path, st)

    class Listing(list):  # type: ignore[type-arg]
        def __enter__(self) -> Listing:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

    def scandir(path: str) -> Listing:
        with real_scandir(path) as found:
            entries = sorted(found, key=lambda e: e.name)
        return Listing(entries if order == "as listed" else entries[::-1])

    monkeypatch.setattr(walk, "_identity", identity)
    monkeypatch.setattr(walk.os, "scandir", scandir)
    tree = walk.walk_corpus(tmp_path)
    assert tree.entries == ["a/x.edf"]
    assert [p for p, _ in tree.problems] == ["b/"]
