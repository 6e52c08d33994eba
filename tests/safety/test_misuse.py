"""Misuse of the command line, and credentials in store URLs (issue 14, items 10 and 12).

Promises:
- every misuse is one line starting ``error:`` and exit status 2, refused before the store is
  created or locked (nothing made, no lock left), and nothing hangs;
- a full disk or a failing codec names the file and what failed, never "internal error";
- credentials in a store URL (user information, secret query parameters) appear in no output
  and in no byte written to the store.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cli import eegprep_cli
from eegprep.base.errors import UsageError
from eegprep.base.redact import redact, redact_all
from eegprep.ingestion import options as ingest_options
from eegprep.ingestion.driver import IngestConfig, IngestReport, ingest
from eegprep.store.fs import Location

SECRET = "S3cr3tV4lue"


def cli(*args: str) -> Result:
    return CliRunner().invoke(eegprep_cli, list(args))


def assert_one_error(result: Result, *, store: Path | None = None, existed: bool = False) -> str:
    """Exit 2, one line starting ``error:``, no traceback; the store untouched."""
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    if store is not None:
        assert store.exists() == existed
        assert not (store / "_eegprep" / "lock").exists()
    return lines[0]


def ingest_args(src: Path, out: Path | str, *more: str) -> list[str]:
    return ["ingest", "tuh", "--src", str(src), "--out", str(out), "--workers", "0", *more]


# --- misuse: one line, exit 2, nothing created --------------------------------------------


def test_out_is_an_existing_file(tuh_corpus: Path, tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    line = assert_one_error(cli(*ingest_args(tuh_corpus, target)), store=target, existed=True)
    assert "a file, not a store" in line and str(target) in line
    assert target.read_text() == "keep me"
    nested = target / "x.zarr"  # a store below a file
    assert "a file, not a store" in assert_one_error(cli(*ingest_args(tuh_corpus, nested)))


@pytest.mark.parametrize(
    ("where", "says"),
    [("{src}", "is the corpus folder"), ("{src}/s.zarr", "lies inside the corpus folder"),
     ("{src}/edf/s.zarr", "lies inside the corpus folder")],
)  # fmt: skip
def test_out_in_or_as_the_corpus_folder_is_refused(tmp_path: Path, where: str, says: str) -> None:
    """A store inside its corpus (walked by every later ingest) or the corpus folder itself:
    one line, nothing written into the corpus."""
    import shutil

    from eegprep.testing.demo import write_demo_corpus

    src = write_demo_corpus(tmp_path / "demo", n_subjects=1, minutes=0.5)
    before = sorted(p for p in src.rglob("*"))
    out = Path(where.format(src=src))
    line = assert_one_error(cli(*ingest_args(src, out)))
    assert says in line and "keep the store and the corpus apart" in line
    assert sorted(p for p in src.rglob("*")) == before
    # a corpus inside the store: the other way round
    store = tmp_path / "s.zarr"
    shutil.copytree(src, store / "tuh")
    line = assert_one_error(cli(*ingest_args(store / "tuh", store)), store=store, existed=True)
    assert "holds the corpus folder" in line
    assert not (store / "zarr.json").exists()


@pytest.mark.parametrize("out", ["", "  "])
def test_out_empty_is_refused(tuh_corpus: Path, tmp_path: Path, out: str) -> None:
    before = sorted(os.listdir("."))
    assert "--out" in assert_one_error(cli(*ingest_args(tuh_corpus, out)))
    assert sorted(os.listdir(".")) == before


def test_out_is_a_remote_file_or_unreachable(
    tuh_corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fsspec

    fs = fsspec.filesystem("memory")
    fs.pipe_file("/misuse-bucket/notes.txt", b"keep me")
    try:
        line = assert_one_error(cli(*ingest_args(tuh_corpus, "memory://misuse-bucket/notes.txt")))
        assert "a file, not a store" in line
        assert fs.cat_file("/misuse-bucket/notes.txt") == b"keep me"
    finally:
        fs.rm("/misuse-bucket", recursive=True)
    # s3fs takes user information for part of the bucket name, which S3 refuses
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    s3fs = pytest.importorskip("s3fs")
    with _refusing_port() as port:
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
        try:
            line = assert_one_error(cli(*ingest_args(tuh_corpus, f"s3://KEY:{SECRET}@eeg/x.zarr")))
        finally:
            s3fs.S3FileSystem.clear_instance_cache()  # its session points at the closed port
    assert line.startswith("error: s3://***@eeg/x.zarr: cannot reach it (")


def test_out_in_a_read_only_folder(
    tuh_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "readonly"
    folder.mkdir()
    folder.chmod(0o555)
    real_access = os.access

    def access(path: Any, mode: int, **kw: Any) -> bool:  # root ignores mode bits: honour them
        if Path(path) == folder and mode & os.W_OK:
            return False
        return real_access(path, mode, **kw)

    monkeypatch.setattr(os, "access", access)
    try:
        store = folder / "s.zarr"
        line = assert_one_error(cli(*ingest_args(tuh_corpus, store)), store=store)
        assert "read-only" in line and str(folder) in line
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'name = "mine"\ntitle = "caf\xe9"\n', "not UTF-8 text (byte 0xe9 on line 2)"),
        (b'name = "mine"\ntitle = \n', "not valid TOML"),
        (b"name = " + b"[" * 5000 + b"]" * 5000 + b"\n", "not valid TOML"),  # nested too deep
    ],
)
def test_manifest_not_utf8_or_not_toml(
    tuh_corpus: Path, tmp_path: Path, content: bytes, expected: str
) -> None:
    manifest = tmp_path / "mine.toml"
    manifest.write_bytes(content)
    store = tmp_path / "s.zarr"
    args = ingest_args(tuh_corpus, store, "--manifest", str(manifest))
    line = assert_one_error(cli(*args), store=store)
    assert expected in line and str(manifest) in line


@pytest.mark.parametrize(
    ("glob", "expected"),
    [
        ("/abs/**/*.edf", "absolute"),
        ("~/eeg/*.edf", "absolute"),
        ("", "empty"),
        ("  ", "empty"),
        ("../elsewhere/*.edf", "'..' leaves the corpus folder"),
        ("edf/../../*.edf", "'..' leaves the corpus folder"),
    ],
)
def test_include_absolute_empty_or_escaping(
    tuh_corpus: Path, tmp_path: Path, glob: str, expected: str
) -> None:
    store = tmp_path / "s.zarr"
    line = assert_one_error(cli(*ingest_args(tuh_corpus, store, "--include", glob)), store=store)
    assert expected in line and "--include" in line


def test_manifest_include_escaping_is_refused(tuh_corpus: Path, tmp_path: Path) -> None:
    from eegprep.corpus.manifest import MANIFEST_DIR

    text = (MANIFEST_DIR / "tuh.toml").read_text(encoding="utf-8")
    manifest = tmp_path / "tuh_escape.toml"
    manifest.write_text(text.replace("include = [", 'include = ["../up/*.edf", ', 1))
    store = tmp_path / "s.zarr"
    line = assert_one_error(cli(*ingest_args(tuh_corpus, store, "--manifest", str(manifest))))
    assert "files.include" in line and str(manifest) in line and not store.exists()


@pytest.mark.parametrize(
    "address",
    ["nonsense", "tcp://host-without-port", "http://h:8786", "tcp://h:99999", "tcp://h:1/x"],
)
def test_scheduler_malformed(tuh_corpus: Path, tmp_path: Path, address: str) -> None:
    store = tmp_path / "s.zarr"
    args = ingest_args(tuh_corpus, store, "--scheduler", address)
    assert "expected SCHEME://HOST:PORT" in assert_one_error(cli(*args), store=store)


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP port that accepts connections and never says a word (not a dask scheduler)."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()


@contextlib.contextmanager
def _refusing_port() -> Iterator[int]:
    """A loopback port that refuses every connection while the block runs: bound, never
    listening. (A port bound, then closed, and named later could be taken by another process
    on a shared machine in between, and answer.)"""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield int(s.getsockname()[1])


@pytest.mark.parametrize("kind", ["refused", "silent"])
def test_scheduler_unreachable_fails_fast(
    tuh_corpus: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    silent_server: str,
    kind: str,
) -> None:
    import time

    monkeypatch.setattr(ingest_options, "SCHEDULER_TIMEOUT", 1.0)
    store = tmp_path / "s.zarr"
    with _refusing_port() as port:
        address = silent_server if kind == "silent" else f"tcp://127.0.0.1:{port}"
        t0 = time.monotonic()
        line = assert_one_error(
            cli(*ingest_args(tuh_corpus, store, "--scheduler", address)), store=store
        )
    assert time.monotonic() - t0 < 60  # (a guard against a hang: the imports, a loaded machine)
    assert "no dask scheduler there" in line and address in line


@pytest.mark.parametrize(
    ("option", "value"), [("--workers", "-1"), ("--limit", "-1"), ("--limit", "0")]
)
def test_negative_counts(tuh_corpus: Path, tmp_path: Path, option: str, value: str) -> None:
    store = tmp_path / "s.zarr"
    line = assert_one_error(cli(*ingest_args(tuh_corpus, store, option, value)), store=store)
    assert option in line and value in line


@pytest.mark.parametrize(("field", "value"), [("workers", -1), ("limit", -1), ("limit", 0)])
def test_negative_counts_in_python(
    tuh_corpus: Path, tmp_path: Path, field: str, value: int
) -> None:
    store = tmp_path / "s.zarr"
    with pytest.raises(UsageError, match=f"Invalid value for `{field}`"):
        cfg = IngestConfig(progress=False, **{field: value})  # (refused when built)
        ingest("tuh", src=tuh_corpus, out=store, config=cfg)
    assert not store.exists()


def test_workers_minus_one_cannot_hang(tuh_corpus: Path, tmp_path: Path) -> None:
    """The command as a user runs it, in its own process: a hang fails the test."""
    store = tmp_path / "s.zarr"
    code = "from cli import eegprep_cli; eegprep_cli()"
    args = ["ingest", "tuh", "--src", str(tuh_corpus), "--out", str(store), "--workers", "-1"]
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == "" and done.stderr.startswith("error: ") and done.stderr.count("\n") == 1
    assert not store.exists()


def test_click_usage_errors_are_one_line() -> None:
    for args in (["--bogus"], ["ingest"], ["nosuchcommand"], ["ingest", "tuh", "--mode", "x"]):
        assert_one_error(cli(*args))


# --- disk full, codec failure: the file and what failed ------------------------------------


def _enospc(*args: Any, **kwargs: Any) -> Any:
    raise OSError(errno.ENOSPC, "No space left on device", "/store/recordings/x/data/c.0.0")


def test_disk_full_in_a_task_stops_the_ingest_in_one_line(
    tuh_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk while a recording is written is the store's, not the recording's: every
    later recording would fail the same way (a line each, every file read and filtered for
    nothing), so the ingest stops at the first with one line, exit status 2."""
    import eegprep.ingestion.task

    calls = []

    def enospc(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        _enospc()

    monkeypatch.setattr(eegprep.ingestion.task, "write_recording", enospc)
    store = tmp_path / "s.zarr"
    line = assert_one_error(cli(*ingest_args(tuh_corpus, store)))
    assert line == (
        f"error: {store}: no space left on device while writing the store; free some space "
        "and run the same command again (what was committed is kept)"
    )
    assert len(calls) == 1  # no later recording was read
    assert not (store / "_eegprep" / "lock").exists()


def test_disk_full_while_committing_is_one_line(
    tuh_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eegprep.store.writer import StoreWriter

    monkeypatch.setattr(StoreWriter, "commit", _enospc)
    store = tmp_path / "s.zarr"
    line = assert_one_error(cli(*ingest_args(tuh_corpus, store)))
    assert line == (
        f"error: {store}: no space left on device while writing the store; free some space "
        "and run the same command again (what was committed is kept)"
    )
    assert not (store / "_eegprep" / "lock").exists()


def test_codec_failure_names_file_and_codec(
    tuh_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import eegprep.store.shards
    from eegprep.store.blosc_codec import BloscCodec

    monkeypatch.setattr(eegprep.store.shards, "_blosc", lambda encoding: BloscCodec("no-such", 5))
    store = tmp_path / "s.zarr"
    rep = ingest("tuh", src=tuh_corpus, out=store, config=IngestConfig(workers=0, progress=False))
    assert rep.n_ingested == 0 and len(rep.failed) == 3
    for line in rep.failed:
        relpath, _, problem = line.partition(": ")
        assert relpath.endswith(".edf") and (tuh_corpus / relpath).is_file()
        assert problem.startswith("the blosc codec failed while encoding the samples"), line


# --- credentials: never shown, never written ------------------------------------------------

REDACTIONS = [
    ("s3://AKIAFAKE:S3cr3tV4lue@bucket/tuh.zarr", "s3://***@bucket/tuh.zarr"),
    ("s3://AKIAFAKE:wJal/S3cr3tV4lue+x@bucket/t.zarr", "s3://***@bucket/t.zarr"),
    ("gs://S3cr3tV4lue@bucket/t.zarr", "gs://***@bucket/t.zarr"),
    ("https://user:S3cr3tV4lue@host:8443/t.zarr", "https://***@host:8443/t.zarr"),
    ("memory://u:S3cr3tV4lue@b/x", "memory://***@b/x"),
    ("https://h/t.zarr?token=S3cr3tV4lue", "https://h/t.zarr?token=***"),
    ("https://h/t.zarr?a=1&key=S3cr3tV4lue&b=2", "https://h/t.zarr?a=1&key=***&b=2"),
    ("https://h/t?X-Amz-Signature=S3cr3tV4lue&X-Amz-Credential=AK%2F", "https://h/t?X-Amz-Signature=***&X-Amz-Credential=***"),
    ("az://c/t.zarr?sv=2022&sig=S3cr3tV4lue", "az://c/t.zarr?sv=2022&sig=***"),
    ("https://h/t?password=S3cr3tV4lue;secret=S3cr3tV4lue", "https://h/t?password=***;secret=***"),
    ("http://h/t?access_token=S3cr3tV4lue#frag", "http://h/t?access_token=***#frag"),
    ("cannot open '/u:S3cr3tV4lue@b/x/zarr.json'", "cannot open '/***@b/x/zarr.json'"),
    ("s3://k:S3cr3tV4lue@b/x, see s3://k:S3cr3tV4lue@b/y", "s3://***@b/x, see s3://***@b/y"),
]  # fmt: skip
UNTOUCHED = [
    "/data/tuh.zarr",
    "file:///data/tuh.zarr",
    "s3://bucket/tuh.zarr",
    "s3://bucket/path@v2/t.zarr",
    "tcp://10.0.0.5:8786",
    "https://h/t.zarr?version=3",
    "mail maintainer@example.org",
    "--set lr=0.1",
]


@pytest.mark.parametrize(("text", "expected"), REDACTIONS)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected
    assert SECRET not in redact(text)
    assert redact(redact(text)) == redact(text)


@pytest.mark.parametrize("text", UNTOUCHED)
def test_redact_leaves_plain_text(text: str) -> None:
    assert redact(text) == text


def test_redact_all_and_report_to_dict() -> None:
    url = f"s3://k:{SECRET}@b/x.zarr?token={SECRET}"
    nested = {"a": [url, (1, url)], url: {"b": url}, "n": 1.5}
    assert SECRET not in repr(redact_all(nested))
    report = IngestReport("tuh", url, "/data")
    report.failed.append(f"a.edf: cannot write {url}")
    report.details["a.edf"] = f"Traceback ... {url}"
    assert SECRET not in repr(report.to_dict())


def test_location_display() -> None:
    loc = Location.parse(f"memory://user:{SECRET}@bucket/x.zarr")
    assert loc.display == "memory://***@bucket/x.zarr"
    assert loc.shown(loc.path("_eegprep", "reports", "r.json")) == (
        "memory://***@bucket/x.zarr/_eegprep/reports/r.json"
    )
    assert SECRET in loc.url  # what fsspec is given is unchanged


@pytest.fixture
def memory_store() -> Iterator[str]:
    """A store URL with credentials in its user information (fsspec's memory filesystem)."""
    import fsspec

    url = f"memory://AKIAFAKE:{SECRET}@bucket/tuh.zarr"
    fs = fsspec.filesystem("memory")
    try:
        yield url
    finally:
        root = Location.parse(url).root
        if fs.exists(root):
            fs.rm(root, recursive=True)


def test_credentials_in_out_url_are_never_shown_or_stored(
    tuh_corpus: Path, memory_store: str
) -> None:
    first = cli(*ingest_args(tuh_corpus, memory_store))
    assert first.exit_code == 0, first.output
    assert "memory://***@bucket/tuh.zarr" in first.output
    again = cli(*ingest_args(tuh_corpus, memory_store, "--json"))
    assert again.exit_code == 0 and '"store": "memory://***@bucket/tuh.zarr"' in again.output
    for result in (first, again, cli("stats", memory_store), cli("validate", memory_store)):
        assert SECRET not in result.output
    loc = Location.parse(memory_store)
    files = loc.fs.find(loc.root)
    assert any("/_eegprep/reports/" in f for f in files) and len(files) > 10
    for f in files:
        assert SECRET.encode() not in loc.fs.cat_file(f), f


def test_credentials_hidden_in_errors_tracebacks_and_scheduler(
    tuh_corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"memory://u:{SECRET}@nowhere/x.zarr"
    assert SECRET not in assert_one_error(cli("stats", url))  # no store there
    verbose = cli("-v", "stats", url)
    assert verbose.exit_code == 2 and "Traceback" in verbose.output
    assert SECRET not in verbose.output
    address = f"tcp://u:{SECRET}@h"
    assert SECRET not in assert_one_error(
        cli(*ingest_args(tuh_corpus, "x", "--scheduler", address))
    )

    import eegprep.store.reader

    def boom(store: str, **options: object) -> None:
        raise RuntimeError(f"unexpected while opening {store}")

    monkeypatch.setattr(eegprep.store.reader, "open_store", boom)
    crash = cli("stats", url)
    assert crash.exit_code == 1 and "RuntimeError" in crash.output
    assert SECRET not in crash.output


@pytest.mark.parametrize("below", ["", "sub"])
def test_demo_into_a_store_is_refused(tmp_path: Path, below: str) -> None:
    """`eegprep demo --out demo.zarr` (a typo for `--out demo`) wrote a corpus among the
    store's objects: refused in one line, the store untouched."""
    store = tmp_path / "demo.zarr"
    (store / "_eegprep").mkdir(parents=True)
    (store / "zarr.json").write_text("{}")
    out = store / below if below else store
    line = assert_one_error(cli("demo", "--out", str(out)))
    assert "inside the eegprep store" in line and "pick another --out" in line
    assert sorted(p.name for p in store.iterdir()) == ["_eegprep", "zarr.json"]


def test_an_out_too_long_for_the_store_s_own_files_is_refused_before_writing(
    tmp_path: Path,
) -> None:
    """An ``--out`` of ~4,000 bytes made the store's skeleton and index, then every recording
    and the report failed (``File name too long``), leaving a half-made store. It is refused
    before anything is made."""
    from tests.safety.corpus import write_edf

    src = tmp_path / "src"
    write_edf(src, "a.edf")
    room = 4096 - 300 - len(os.fsencode(str(tmp_path / "deep")))
    parts = ["e" * 200] * (room // 201) + ["f" * (room % 201 or 1)]
    store = tmp_path.joinpath("deep", *parts, "s.zarr")
    res = cli("ingest", "folder", "--src", str(src), "--out", str(store), "--mains", "60")
    assert res.exit_code == 2 and "past this file system's limit" in res.output, res.output
    assert res.output.count("\n") == 1 and not (tmp_path / "deep").exists()
