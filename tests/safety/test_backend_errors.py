"""A store's fsspec file system refusing a call: a listing, a look-up, a read, a write, a copy
or a deletion raising ``PermissionError`` (with and without a file name), an ``OSError`` with
no errno, or a backend's own exception class (botocore's ``ClientError``), each found by
failing the calls of ``memory://`` (tests/io_faults.py, :func:`failing_backend`).

Before: a listing's refusal reached ``eegprep stats`` and ``ingest`` as "internal error (a
bug): ClientError" (status 1); ``validate`` listed it as damage ("recordings: cannot be listed
(ClientError: ...)", status 1); a refused look-up was "no eegprep store here" or "its root
zarr.json is missing" (fsspec's ``exists`` answers no to any error); a refused read of the
index said "remove or replace that file"; a refused read of a recording's samples in ``labram
embed`` named the output store as the file it could not use. Now each is one line, status 2,
naming the object of the store once (its URL), the backend's words (and class, where it is no
operating system's error) and what to do; a recording whose own objects cannot be written is
one skipped line and the rest of the ingest goes on; nothing written before is changed.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from eegprep.base.errors import StoreAccessError
from eegprep.store.refusals import refusal
from tests.conftest import write_tuh_edf
from tests.io_faults import BACKEND_ERRORS, ClientError, failing_backend
from tests.safety.test_io_errors import one_line, run_eegprep

BASE = "/backend-errors/s.zarr"
URL = f"memory:/{BASE}"
SECOND = "aaaaaaab_s002_t001"  # the second recording's name


def _corpus(root: Path) -> Path:
    write_tuh_edf(root / "edf/000/aaaaaaaa/s001_2015_12_30/01_tcp_ar/aaaaaaaa_s001_t000.edf",
                  sfreq=250, seconds=20, seed=1)  # fmt: skip
    write_tuh_edf(root / f"edf/000/aaaaaaab/s002_2015/02_tcp_le/{SECOND}.edf",
                  sfreq=256, seconds=20, montage="02_tcp_le", seed=2)  # fmt: skip
    return root


def _ingest(src: Path, out: str) -> tuple[int, str]:
    res = run_eegprep("ingest", "tuh", "--src", src, "--out", out, "--workers", "0")
    return res.exit_code, res.output


def _memory() -> dict[str, bytes]:
    """The store's objects in ``memory://``, by path."""
    import fsspec

    fs = fsspec.filesystem("memory")
    found = fs.find(BASE) if fs.exists(BASE) else []
    return {p: bytes(fs.cat_file(p)) for p in found if "/_eegprep/reports/" not in p}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _corpus(tmp_path_factory.mktemp("backend-errors") / "tuh_eeg")


@pytest.fixture
def store(corpus: Path) -> Iterator[dict[str, bytes]]:
    """A store of the corpus's two recordings in ``memory://``; its objects."""
    import fsspec

    code, said = _ingest(corpus, URL)
    assert code == 0, said
    try:
        yield _memory()
    finally:
        fsspec.filesystem("memory").rm("/backend-errors", recursive=True)


def _names_once(line: str, kind: str, url: str = URL) -> None:
    """``line`` names one object of the store ``url`` once (the store's URL is in it once: no
    second path of it, whole or relative), says what the backend said, and what to do."""
    assert line.startswith(f"error: {url}"), line
    assert line.count("backend-errors") == 1, line
    assert "Access Denied" in line or "Forbidden" in line or "Connection reset" in line, line
    if kind in ("ClientError", "OSError naming nothing"):  # (no errno: the class says what)
        assert f"({kind.split()[0]}: " in line, line
    assert line.endswith("and run the same command again"), line


def _refused(kind: str) -> Callable[[str], BaseException]:
    return BACKEND_ERRORS[kind]


KINDS = sorted(BACKEND_ERRORS)

READS: dict[str, Callable[[str, str], bool]] = {
    "a listing": lambda op, path: op in ("ls", "find"),
    "a look-up": lambda op, path: op == "info",
    "a read of the index": lambda op, path: op in ("cat_file", "_open") and "/index/" in path,
    "a read of the root": lambda op, path: (
        op in ("cat_file", "_open") and path.endswith(f"{BASE}/zarr.json")
    ),
}
"""The refused calls of every command that reads the store."""


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("call", sorted(READS))
@pytest.mark.parametrize("command", ["validate", "stats"])
def test_a_refused_call_of_a_reading_command_is_one_line_naming_the_object_once(
    store: dict[str, bytes], command: str, call: str, kind: str
) -> None:
    with failing_backend(READS[call], _refused(kind)) as calls:
        res = run_eegprep(command, URL)
    assert any(READS[call](*c.split(" ", 1)) for c in calls), calls
    _names_once(one_line(res.exit_code, res.output), kind)
    assert _memory() == store  # (nothing written by a reader)


@pytest.mark.parametrize("kind", KINDS)
def test_a_refused_read_of_samples_stops_validate_and_the_reader(
    store: dict[str, bytes], kind: str
) -> None:
    """``validate`` took it for damage of each recording; a reader, for a damaged chunk."""
    from eegprep import open_store

    def samples(op: str, path: str) -> bool:
        return op in ("cat_file", "_open") and "/data/c" in path

    with failing_backend(samples, _refused(kind)):
        res = run_eegprep("validate", URL)
        opened = open_store(URL)
        with pytest.raises(StoreAccessError) as info:
            opened.read(opened.recordings[0].id)
    _names_once(one_line(res.exit_code, res.output), kind)
    _names_once(f"error: {info.value}", kind)
    assert "/data/c" in str(info.value)


WRITES: dict[str, Callable[[str, str], bool]] = {
    "the lock's write": lambda op, path: op == "pipe_file" and path.endswith("/_eegprep/lock"),
    "a look-up": lambda op, path: op == "info",
    "a listing": lambda op, path: op in ("ls", "find"),
    "the index's write": lambda op, path: op == "pipe_file" and "/_eegprep/index/" in path,
    "a read of the index": lambda op, path: op in ("cat_file", "_open") and "/index/" in path,
    "a copy (a rename)": lambda op, path: op == "cp_file",
    "a deletion": lambda op, path: op in ("rm", "_rm"),
}
"""The refused calls of an ingest that stop it: each is the store's, not one recording's."""


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("call", sorted(WRITES))
def test_a_refused_call_of_an_ingest_stops_it_in_one_line_and_changes_nothing(
    store: dict[str, bytes], corpus: Path, tmp_path: Path, call: str, kind: str
) -> None:
    """An ingest that writes a new version of one recording into the store."""
    changed = _corpus(tmp_path / "tuh_eeg")
    write_tuh_edf(next(changed.rglob(f"{SECOND}.edf")), sfreq=256, seconds=21,
                  montage="02_tcp_le", seed=3)  # fmt: skip
    with failing_backend(WRITES[call], _refused(kind)) as calls:
        code, said = _ingest(changed, URL)
    assert any(WRITES[call](*c.split(" ", 1)) for c in calls), calls
    if code == 0:  # (the ingest did without it: a deletion of a temporary left for later)
        assert call == "a deletion", said
    else:
        _names_once(one_line(code, said), kind)
    after = _memory()
    assert {p: b for p, b in after.items() if p in store and "/_eegprep/" not in p} == {
        p: b for p, b in store.items() if "/_eegprep/" not in p
    }  # (every recording written before, byte for byte)
    check = run_eegprep("validate", URL)
    assert check.exit_code == 0, check.output
    if call == "a deletion" and f"{BASE}/_eegprep/lock" in after:  # (its deletion refused:
        import fsspec  # the next ingest takes it over once this process is gone)

        fsspec.filesystem("memory").rm_file(f"{BASE}/_eegprep/lock")
    code, said = _ingest(changed, URL)
    assert code == 0, said


@pytest.mark.parametrize("kind", KINDS)
def test_a_recording_whose_objects_are_refused_is_skipped_and_the_rest_goes_on(
    corpus: Path, kind: str
) -> None:
    """Into a new store: the second recording's writes refused, it is one skipped line naming
    the object once; the first is ingested, and the store validates."""
    import fsspec

    def its_objects(op: str, path: str) -> bool:
        return op == "pipe_file" and f"/{SECOND}" in path

    try:
        with failing_backend(its_objects, _refused(kind)):
            code, said = _ingest(corpus, URL)
        assert code == 3, said
        skipped = [x for x in said.splitlines() if x.startswith("skipped:")]
        assert len(skipped) == 1 and skipped[0].startswith("skipped: edf/000/aaaaaaab/"), said
        _names_once("error: " + skipped[0].split(".edf: ", 1)[1], kind)
        assert "1 ingested" in said, said
        check = run_eegprep("validate", URL)
        assert check.exit_code == 0 and "1 recording checked" in check.output, check.output
    finally:
        fs = fsspec.filesystem("memory")
        if fs.exists("/backend-errors"):
            fs.rm("/backend-errors", recursive=True)


@pytest.mark.parametrize("bug", [TypeError("a bug"), AttributeError("a bug")])
def test_a_programming_error_in_a_backend_call_is_not_taken_for_a_refusal(
    store: dict[str, bytes], bug: Exception
) -> None:
    """A ``TypeError`` is a bug (ours, or the backend's): it stays what it is, never a line
    that says to check the connection."""
    from eegprep import open_store

    with (
        failing_backend(lambda op, path: op == "info", lambda path: bug),
        pytest.raises(type(bug)),
    ):
        open_store(URL)


@pytest.mark.parametrize(
    ("exc", "refused"),
    [(PermissionError(errno.EACCES, "x"), True), (OSError("x"), True), (ClientError("x"), True),
     (TimeoutError(), True), (RuntimeError("Event loop is closed"), True),
     (TypeError("x"), False), (AttributeError("x"), False), (KeyError("x"), False),
     (StoreAccessError(None, "x", "p"), False)],
)  # fmt: skip
def test_which_exceptions_are_a_file_systems_refusal(exc: Exception, refused: bool) -> None:
    assert refusal(exc) is refused


@pytest.mark.parametrize("kind", KINDS)
def test_a_refused_read_of_the_seen_files_cache_is_a_warning_naming_it_once(
    store: dict[str, bytes], kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A cache: ignored, and the ingest goes on; its warning named the file, then again in
    the refusal's own line."""
    import logging

    from eegprep.ingestion.seen_files import SEEN, SeenFiles
    from eegprep.store.fs import Location

    loc = Location.parse(URL)
    assert loc.exists(*SEEN)

    def cache(op: str, path: str) -> bool:
        return op in ("cat_file", "_open") and path.endswith("/".join(SEEN))

    with failing_backend(cache, _refused(kind)), caplog.at_level(logging.WARNING):
        assert not SeenFiles.load(loc).vouches({"id": "x"}, ())
    said = [r.getMessage() for r in caplog.records if "seen" in r.getMessage()]
    assert len(said) == 1 and said[0].count("seen.json") == 1, said
    assert "Access Denied" in said[0] or "Forbidden" in said[0] or "reset" in said[0], said


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("command", ["validate", "stats"])
def test_a_refused_read_of_a_zipped_store_behind_a_url_is_one_line(
    store: dict[str, bytes], command: str, kind: str
) -> None:
    """A store zipped into one file at a URL whose read the service refused: "no eegprep store
    here" (the file was taken for no zip file), or "a zip file that cannot be read: zip the
    store again"."""
    import io
    import zipfile

    import fsspec

    fs = fsspec.filesystem("memory")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, blob in store.items():
            archive.writestr(path[len(BASE) + 1 :], blob)
    zipped = "/backend-errors/s.zip"
    fs.pipe_file(zipped, buffer.getvalue())
    assert run_eegprep(command, f"memory:/{zipped}").exit_code == 0

    def reads(op: str, path: str) -> bool:
        return op in ("cat_file", "_open") and path == zipped

    with failing_backend(reads, _refused(kind)) as calls:
        res = run_eegprep(command, f"memory:/{zipped}")
    assert any(reads(*c.split(" ", 1)) for c in calls), calls
    line = one_line(res.exit_code, res.output)
    _names_once(line, kind, f"memory:/{zipped}")
    assert "no eegprep store" not in line and "zip the store again" not in line, line


def test_a_refused_read_in_a_loader_worker_is_one_line(tmp_path: Path) -> None:
    """Met in a DataLoader worker process, the refusal crossed to the main process as torch's
    ``RuntimeError`` ("Caught StoreAccessError in DataLoader worker process 0. Original
    Traceback ..."): ``internal error (a bug)``, status 1."""
    import os

    import fsspec

    from tests.labram.cli_runs import run_labram
    from tests.labram.training_stores import write_pretrain_store

    local = Path(write_pretrain_store(tmp_path / "a.zarr", n_subjects=3, seconds=40))
    fs = fsspec.filesystem("memory")
    for p in sorted(local.rglob("*")):
        if p.is_file() and p.name != "lock.flock":
            fs.pipe_file(
                f"/backend-errors/t.zarr/{p.relative_to(local).as_posix()}", p.read_bytes()
            )
    url = "memory://backend-errors/t.zarr"
    main = os.getpid()

    def in_a_worker(op: str, path: str) -> bool:  # (the check before training reads them too)
        return op in ("cat_file", "_open") and "/data/c" in path and os.getpid() != main

    try:
        with failing_backend(in_a_worker, _refused("ClientError")):
            code, said = run_labram(
                "tokenizer", "--store", url, "--size", "tiny", "--max-steps", 2,
                "--device", "cpu", "--workers", 1, "--out", tmp_path / "r",
            )  # fmt: skip
        line = one_line(code, said)
        _names_once(line.replace("the same command with --resume", "the same command again"),
                    "ClientError", url)  # fmt: skip
    finally:
        fs.rm("/backend-errors", recursive=True)


def test_an_exception_of_our_own_code_in_a_file_system_call_is_not_a_refusal(
    tmp_path: Path,
) -> None:
    """Only the backend's exceptions are its refusals: a ``ValueError`` raised by eegprep's
    own code inside such a call, and any exception but an ``OSError`` of a local disk's call,
    is what it is, never "check the connection"."""
    from eegprep.base.regular_files import open_regular
    from eegprep.store.fs import Location

    remote, local = Location.parse(URL), Location.parse(str(tmp_path / "s.zarr"))
    for loc in (remote, local):
        with pytest.raises(ValueError) as info, loc.calling("read", "x"):
            open_regular(str(tmp_path / "x"), "wb")  # (a mode it refuses: a bug of ours)
        assert not isinstance(info.value, StoreAccessError), info.value
    with pytest.raises(RuntimeError, match=r"^ours$"), local.calling("read", "x"):
        raise RuntimeError("ours")
    assert not remote.refusals and not local.refusals
