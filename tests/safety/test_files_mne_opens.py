"""Promise: every file MNE opens for a recording is one eegprep opened without waiting and
checked to be a regular file, never a name MNE looks up after eegprep's checks.

MNE was given the path eegprep had just checked, and opened it, and the files its header
names (a BrainVision samples and marker file, an EEGLAB ``.fdt``), by name: a file swapped for
a FIFO in between hung the ingest for ever, and a file swapped for another one was read in
place of the one checked. Now MNE is given a private folder of links to the checked
descriptors (:mod:`eegprep.base.held_files`, :mod:`eegprep.readers.mne_held`).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import mne
import numpy as np
import pytest
import scipy.io

import eegprep.readers.mne_formats as mne_formats
from eegprep import open_store
from eegprep.ingestion.driver import ingest
from tests.safety.test_hostile_folders import _brainvision
from tests.safety.test_reader_fuzz import _cnt_seed, _gdf_seed
from tests.safety.test_reader_fuzz_formats import CONFIG, LABELS, _manifest, _set_variables

_READERS = {
    "vhdr": "read_raw_brainvision",
    "set": "read_raw_eeglab",
    "gdf": "read_raw_gdf",
    "cnt": "read_raw_cnt",
    "fif": "read_raw_fif",
}


def _opener(fmt: str) -> tuple[Any, str]:
    """(module, name) of the function the mne reader opens a file of ``fmt`` with: MNE's
    reader, or for EEGLAB eegprep's own, MNE's RawEEGLAB keeping its boundary events
    (eegprep/readers/set_raw.py), and for BrainVision eegprep's, MNE's RawBrainVision or its
    text data read by eegprep (eegprep/readers/vhdr_raw.py)."""
    if fmt == "vhdr":
        from eegprep.readers import vhdr_raw

        return vhdr_raw, "read_raw_brainvision"
    if fmt == "set":
        from eegprep.readers import set_raw

        return set_raw, "read_raw_eeglab"
    return mne.io, _READERS[fmt]


# (format, the file swapped): every file MNE opens for each format
_SWAPS = [
    ("vhdr", "r.vhdr"),
    ("vhdr", "r.eeg"),
    ("vhdr", "r.vmrk"),
    ("set", "r.set"),
    ("set", "r.fdt"),
    ("gdf", "r.gdf"),
    ("cnt", "r.cnt"),
    ("fif", "r_raw.fif"),
]


class Hung(BaseException):
    """Raised by the alarm: no ``except Exception`` of the code under test turns it into a
    one-line failure, so a test that waited fails."""


@pytest.fixture
def no_hang() -> Iterator[None]:
    """Fail, rather than hang, a test whose code waits on a FIFO (no duration asserted)."""

    def stop(signum: int, frame: Any) -> None:
        raise Hung("waited on a FIFO")

    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(60)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _write(fmt: str, folder: Path, seed: int = 0) -> str:
    """A sound recording of ``fmt`` (four channels, 250 Hz or 200 Hz, 10 s) in ``folder``:
    its file name."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    if fmt == "vhdr":
        _brainvision(folder)
        if seed:  # other samples, same size
            (folder / "r.eeg").write_bytes(
                rng.integers(-300, 300, (4 * 2500,)).astype("<i2").tobytes()
            )
        return "r.vhdr"
    if fmt == "set":
        fields = _set_variables()
        x = np.asarray(fields["data"], "<f4") + np.float32(seed)
        x.T.tofile(folder / "r.fdt")
        fields["data"] = "r.fdt"
        scipy.io.savemat(folder / "r.set", fields)
        return "r.set"
    if fmt == "gdf":
        (folder / "r.gdf").write_bytes(_gdf_seed(folder, "2.20"))
        (folder / "seed.gdf").unlink()
        return "r.gdf"
    if fmt == "cnt":
        (folder / "r.cnt").write_bytes(_cnt_seed(folder))
        (folder / "seed.cnt").unlink()
        return "r.cnt"
    info = mne.create_info(LABELS, 250.0, "eeg")
    raw = mne.io.RawArray(rng.normal(0, 20e-6, (4, 2500)), info, verbose="error")
    raw.save(folder / "r_raw.fif", verbose="error")
    return "r_raw.fif"


def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def _ingest_swapping(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
    when: str,
    swap: Callable[[Path], None],
) -> Any:
    """Ingest ``a/`` and ``b/`` (each one recording of ``fmt``), calling ``swap(a/)`` once:
    right after eegprep's last check of ``a``'s files before MNE opens them (``when="checked"``)
    or inside MNE's reader, before it opens anything (``when="opening"``)."""
    src = tmp_path / "src"
    name = _write(fmt, src / "a")
    _write(fmt, src / "b")
    done: list[bool] = []

    def once() -> None:
        if not done:
            done.append(True)
            swap(src / "a")

    if when == "checked":
        checks = mne_formats.check_before_mne

        def checked_then_swap(path: str, options: Any) -> None:
            checks(path, options)
            if Path(path).parent == src / "a":
                once()

        monkeypatch.setattr(mne_formats, "check_before_mne", checked_then_swap)
    else:  # MNE is called for a/ first (the recordings are read in order)
        home, func = _opener(fmt)
        read = getattr(home, func)

        def swap_then_read(fname: Any, **kwargs: Any) -> Any:
            once()
            return read(fname, **kwargs)

        monkeypatch.setattr(home, func, swap_then_read)
    mne_formats.clear_cache()
    rep = ingest(_manifest(tmp_path, fmt), src=src, out=tmp_path / "s.zarr", config=CONFIG)
    assert done, "the swap never happened"
    return rep, f"a/{name}", f"b/{name}"


@pytest.mark.parametrize(("fmt", "swapped"), _SWAPS)
def test_a_file_swapped_for_a_fifo_after_the_last_check_is_not_waited_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, swapped: str, no_hang: None
) -> None:
    """Swapped between eegprep's last check and MNE's open: MNE opened it by name, and waited
    for a writer for ever. Now its descriptor, opened without waiting, is refused: one line
    naming the file, the other recording ingested."""
    rep, target, other = _ingest_swapping(
        tmp_path, monkeypatch, fmt, "checked", lambda a: _fifo(a / swapped)
    )
    lines = [*rep.failed, *rep.unmatched]
    assert len(lines) == 1 and lines[0].startswith(f"{target}: "), lines
    assert "\n" not in lines[0] and swapped in lines[0], lines
    if swapped == "r.vmrk":  # no marker file is no error: MNE reads none, the stamps differ
        assert "r.vmrk changed while it was being ingested" in lines[0], lines
    else:
        assert "a FIFO, not a file" in lines[0], lines
    assert [r.source for r in open_store(tmp_path / "s.zarr")] == [other]


@pytest.mark.parametrize(("fmt", "swapped"), _SWAPS)
def test_a_file_swapped_for_a_fifo_while_mne_opens_it_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, swapped: str, no_hang: None
) -> None:
    """Swapped once MNE was called: MNE reads the file checked (its descriptor), and the
    recording then fails in one line (its file changed), the other one ingested."""
    rep, target, other = _ingest_swapping(
        tmp_path, monkeypatch, fmt, "opening", lambda a: _fifo(a / swapped)
    )
    lines = [*rep.failed, *rep.unmatched]
    assert len(lines) == 1 and lines[0].startswith(f"{target}: "), lines
    assert "\n" not in lines[0], lines
    assert "a FIFO, not a file" in lines[0] or "changed while it was being ingested" in lines[0]
    assert [r.source for r in open_store(tmp_path / "s.zarr")] == [other]


@pytest.mark.parametrize(
    ("fmt", "swapped"), [("vhdr", "r.eeg"), ("set", "r.fdt"), ("fif", "r_raw.fif")]
)
def test_a_file_swapped_for_another_while_mne_opens_it_is_not_read_in_its_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, swapped: str
) -> None:
    """Swapped for another regular file (another recording's, of the same size) once MNE was
    called: MNE read the other file's samples in place of those checked. Now the Raw reads
    the file checked (and the ingest's check of each file's stamps fails a recording whose
    files changed while it was read: the samples and the fingerprint are of one file)."""
    _write(fmt, tmp_path / "other", seed=1)
    name = _write(fmt, tmp_path / "a")
    path = str(tmp_path / "a" / name)
    checked = mne.io.read_raw(path, preload=True, verbose="error").get_data()
    home, func = _opener(fmt)
    read = getattr(home, func)

    def swap_then_read(fname: Any, **kwargs: Any) -> Any:
        os.replace(tmp_path / "other" / swapped, tmp_path / "a" / swapped)
        return read(fname, **kwargs)

    monkeypatch.setattr(home, func, swap_then_read)
    mne_formats.clear_cache()
    raw = mne_formats._raw(path, ())
    monkeypatch.undo()
    swapped_in = mne.io.read_raw(path, preload=True, verbose="error").get_data()
    assert not np.array_equal(checked, swapped_in)  # the swap changed the samples
    np.testing.assert_array_equal(raw.get_data(), checked)


def test_a_split_fif_is_read_from_parts_held_before_mne_opens_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_hang: None
) -> None:
    """A FIF over MNE's split size is written as parts, each naming the next, which MNE opens
    by name: every part is held before MNE opens the first, so a part swapped for a FIFO
    meanwhile is not waited on, and the recording is read whole, across its parts."""
    info = mne.create_info([f"E{i}" for i in range(64)], 250.0, "eeg")
    x = np.random.default_rng(0).normal(0, 20e-6, (64, 250 * 200))
    mne.io.RawArray(x, info, verbose="error").save(
        tmp_path / "r_raw.fif", split_size="10MB", fmt="single", verbose="error"
    )
    assert (tmp_path / "r_raw-1.fif").is_file()
    path = str(tmp_path / "r_raw.fif")
    checked = mne.io.read_raw_fif(path, preload=True, verbose="error").get_data(picks=[0, 63])
    read = mne.io.read_raw_fif

    def swap_then_read(fname: Any, **kwargs: Any) -> Any:
        _fifo(tmp_path / "r_raw-1.fif")
        return read(fname, **kwargs)

    monkeypatch.setattr(mne.io, "read_raw_fif", swap_then_read)
    mne_formats.clear_cache()
    raw = mne_formats._raw(path, ())
    assert raw.n_times == 250 * 200
    np.testing.assert_array_equal(raw.get_data(picks=[0, 63]), checked)


def test_a_split_fifs_parts_are_files_of_its_recording(tmp_path: Path) -> None:
    """The parts are in the recording's fingerprint (a changed part is a changed recording)
    and are what MNE is given: those numbered as MNE and BIDS number them, nothing else."""
    from eegprep.readers.companions import data_files

    for name in [
        "r_raw.fif", "r_raw-1.fif", "r_raw-2.fif", "r_raw-x.fif", "rr_raw-1.fif",
        "sub-01_split-01_eeg.fif", "sub-01_split-02_eeg.fif", "sub-02_split-02_eeg.fif",
    ]:  # fmt: skip
        (tmp_path / name).write_bytes(b"x")
    os.mkfifo(tmp_path / "r_raw-3.fif")
    assert data_files(str(tmp_path / "r_raw.fif")) == [
        str(tmp_path / "r_raw-1.fif"),
        str(tmp_path / "r_raw-2.fif"),
    ]
    assert data_files(str(tmp_path / "sub-01_split-01_eeg.fif")) == [
        str(tmp_path / "sub-01_split-02_eeg.fif")
    ]


@pytest.mark.parametrize("fmt", sorted(_READERS))
def test_without_proc_self_fd_mne_is_given_the_checked_paths_and_reads_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    """Where the system names no descriptors (not Linux), MNE is given the paths checked
    just before, as eegprep did before: the same header and samples."""
    import eegprep.readers.mne_held as mne_held
    from eegprep.readers.mne_formats import MneReader

    path = str(tmp_path / "a" / _write(fmt, tmp_path / "a"))

    def read() -> tuple[Any, np.ndarray]:
        mne_formats.clear_cache()
        header = MneReader.read_header(path)
        n = header.signals[0].n_samples
        return header, MneReader.read_segment(header, range(len(header.signals)), 0, n)

    held_header, held_samples = read()
    monkeypatch.setattr(mne_held, "supported", lambda: False)
    header, samples = read()
    assert header == held_header
    np.testing.assert_array_equal(samples, held_samples)


def _split_naming(tmp_path: Path, target: str) -> Path:
    """A FIF written in two parts whose first names ``target`` (padded with ``./`` to the
    length of the name MNE wrote) as its continuation: the first part's path."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    base = "r" * 150 + "_raw.fif"
    info = mne.create_info([f"E{i}" for i in range(64)], 250.0, "eeg")
    x = np.random.default_rng(0).normal(0, 20e-6, (64, 250 * 200))
    mne.io.RawArray(x, info, verbose="error").save(
        folder / base, split_size="10MB", fmt="single", verbose="error"
    )
    written = ("r" * 150 + "_raw-1.fif").encode()
    head, name = os.path.split(target)
    pad = len(written) - len(target)
    assert pad >= 2, "the test's target name is too long"
    if pad % 2:
        name, pad = "x" + name, pad - 1
    forged = os.path.join(head, *(["."] * (pad // 2)), name).encode()
    assert len(forged) == len(written)
    data = (folder / base).read_bytes()
    assert data.count(written) == 1
    (folder / base).write_bytes(data.replace(written, forged))
    return folder / base


@pytest.mark.parametrize("where", ["absolute", "parent"])
def test_a_fif_naming_a_next_part_outside_its_folder_is_refused_unread(
    tmp_path: Path, where: str, no_hang: None
) -> None:
    """MNE opens the continuation a FIF names as written, relative to its folder: a crafted
    name outside it (absolute, or ``../``) is one line naming the file, and the outside file,
    here a FIFO that would block, is never opened."""
    from eegprep.base.errors import SourceError

    outside = tmp_path / "outside"
    outside.mkdir()
    os.mkfifo(outside / "p.fif")
    target = str(outside / "p.fif") if where == "absolute" else "../outside/p.fif"
    path = _split_naming(tmp_path, target)
    mne_formats.clear_cache()
    with pytest.raises(SourceError, match="outside its folder") as caught:
        mne_formats._raw(str(path), ())
    assert str(path) in str(caught.value)
