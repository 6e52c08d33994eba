"""Promise: `eegprep validate` and every reader judge each index line alike.

Before: validate read a segment whole first, stripping it with ``bytes.strip()``, which takes
``\\x0b`` and ``\\x0c`` for white space as JSON does not; the readers judge each line. A flipped
bit in a segment's last newline (``\\n`` to ``\\x0b``) left validate at ``0 problems`` while
`open_store` refused the store ("damaged index: ... line 9: not valid JSON ...; `eegprep
validate` lists the damage"), `eegprep stats` left the recording out, and the training
commands refused the store: each pointing at a `validate` that found nothing."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep.store.fs import Location
from eegprep.store.index import INDEX_DIR, read_entries, read_index_checked
from eegprep.store.validate import check_store
from tests.safety.corpus import ingest_folder, write_edf

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # numcodecs' zarr3 codecs


@pytest.fixture()
def store(tmp_path: Path) -> tuple[Path, Path]:
    src, out = tmp_path / "src", tmp_path / "s.zarr"
    for i in range(3):
        write_edf(src, f"r{i}.edf", seed=i)
    assert ingest_folder(src, out).n_ingested == 3
    return src, out


def _segment(out: Path) -> Path:
    (segment,) = (out / "/".join(INDEX_DIR)).glob("*.jsonl")
    return segment


def _verdicts(out: Path) -> tuple[tuple[list[str], list[str]], tuple[list[str], list[str]]]:
    """(ids, damaged lines) as validate's index reader and as the readers' take them."""
    loc = Location.parse(str(out))
    records, problems = read_index_checked(loc)
    damaged: list[str] = []
    try:
        entries = list(read_entries(loc, damaged=damaged))
    except Exception as exc:  # a segment the readers refuse whole
        entries, damaged = [], [f"refused: {exc}"]
    return (sorted(records), sorted(problems)), (sorted(entries), sorted(damaged))


@pytest.mark.parametrize("tail", [b"\x0b", b"\x0c", b"\x0b\n", b" \x0b"])
def test_a_last_newline_that_is_no_newline_is_damage_to_every_reader(
    store: tuple[Path, Path], tail: bytes
) -> None:
    src, out = store
    segment = _segment(out)
    good = segment.read_bytes()
    segment.write_bytes(good[:-1] + tail)
    ours, theirs = _verdicts(out)
    assert ours == theirs
    assert len(ours[1]) == 1 and "line " in ours[1][0]
    result = CliRunner().invoke(eegprep_cli, ["validate", str(out)])
    assert result.exit_code == 1 and "not valid JSON" in result.output
    stats = CliRunner().invoke(eegprep_cli, ["stats", str(out)])
    assert stats.exit_code == 3 and "left out: _eegprep/index/" in stats.output
    ingest_folder(src, out, repair=True)  # the recording is listed again from its group
    assert check_store(str(out)).problems == []
    assert len(_verdicts(out)[1][0]) == 3


def test_validate_and_the_readers_agree_on_every_flip_near_a_line_break(
    store: tuple[Path, Path],
) -> None:
    """Every bit of the bytes around each line break and at both ends of the segment."""
    _, out = store
    segment = _segment(out)
    good = segment.read_bytes()
    breaks = [i for i, b in enumerate(good) if b == 0x0A]
    places = {p for i in breaks for p in range(i - 2, i + 3) if 0 <= p < len(good)}
    places |= set(range(8)) | set(range(len(good) - 8, len(good)))
    places |= set(random.Random(5).sample(range(len(good)), 12))
    for place in sorted(places):
        for bit in range(8):
            blob = bytearray(good)
            blob[place] ^= 1 << bit
            segment.write_bytes(bytes(blob))
            ours, theirs = _verdicts(out)
            if theirs[1] and theirs[1][0].startswith("refused: "):
                assert ours[1], (place, bit)  # refused whole by readers: damage to validate
            else:
                assert ours == theirs, (place, bit)
    segment.write_bytes(good)
