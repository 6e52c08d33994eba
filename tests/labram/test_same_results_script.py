"""benchmarks/same_results.py: its one ``--max-steps`` caps both pre-training stages (before, the
tokenizer stage ran all its epochs whatever the cap), and refuses a cap below one step."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "same_results", ROOT / "benchmarks/same_results.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pretrain_args(script: ModuleType, monkeypatch: pytest.MonkeyPatch, *cap: int) -> list[str]:
    """The arguments ``run_job`` gives ``labram pretrain`` (no command is run)."""
    calls: list[list[str]] = []

    def record(args: list[str], **_: Any) -> None:
        calls.append([str(a) for a in args])

    monkeypatch.setattr(script.subprocess, "run", record)
    script.run_job(Path("tree"), Path("out"), *cap)
    found = [c[3:] for c in calls if c[3:4] == ["pretrain"]]
    assert len(found) == 1, calls
    return found[0]


def _value(args: list[str], option: str) -> str:
    assert args.count(option) == 1, args
    return args[args.index(option) + 1]


def test_one_cap_stops_both_pretraining_stages(monkeypatch: pytest.MonkeyPatch) -> None:
    script = _script()
    args = _pretrain_args(script, monkeypatch, 3)
    assert _value(args, "--max-steps") == "3"  # the masked-modelling stage
    assert _value(args, "--tokenizer-max-steps") == "3"  # the tokenizer stage
    default = _pretrain_args(script, monkeypatch)
    assert _value(default, "--tokenizer-max-steps") == _value(default, "--max-steps") == "12"


def test_the_cap_is_an_option_of_at_least_one_step(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    script = _script()
    monkeypatch.setattr("sys.argv", ["same_results.py", "HEAD", "--max-steps", "0"])
    with pytest.raises(SystemExit) as exc:
        script.main()
    assert exc.value.code == 2
    assert "--max-steps: expected a whole number of steps >= 1, got '0'" in capsys.readouterr().err


def _record(rid: str, mtime_ns: int) -> dict[str, Any]:
    return {"id": rid, "group": f"recordings/tuh/{rid}", "corpus": "tuh", "channels": ["FP1"],
            "channel_index": [1], "n_samples": 2000, "sfreq": 200.0,
            "source_mtime_ns": mtime_ns}  # fmt: skip


def _fields(records: list[dict[str, Any]]) -> bytes:
    """A base segment's fields file as eegprep writes it, for a base holding ``records``."""
    from eegprep.store.index_fields import encode

    base = b'{"base": 1}\n' + b"".join(json.dumps(r).encode() + b"\n" for r in records)
    blob = encode(records, base)
    assert blob is not None
    return blob


def _seen(stamps: list[Any]) -> bytes:
    entry = {"group": "recordings/tuh/a", "hashes": ["ab" * 32], "files": [stamps]}
    return json.dumps({"version": 1, "recordings": {"tuh/a": entry}, "crc32c": "0"}).encode()


def test_file_stamps_and_the_digests_over_them_count_as_the_same(tmp_path: Path) -> None:
    """The demo written twice has other mtimes, ctimes and inodes: the stamps the writer keeps
    (seen.json) and a fields file's digest of its segment (whose lines hold the mtimes) differ,
    and before, the script called an identical checkout's store different for them."""
    script = _script()
    first = [_record("a", 1_796_325_465_841_626_516)]
    later = [_record("a", 1_796_325_465_999_999_999)]
    renamed = [_record("b", 1_796_325_465_841_626_516)]
    seen, fields = "_eegprep/seen.json", "_eegprep/index/0000000001.fields"
    old = _store(tmp_path / "old", {seen: _seen(["a.edf", 10, 1, 1, 7]), fields: _fields(first)})
    new = _store(tmp_path / "new", {seen: _seen(["a.edf", 10, 2, 3, 9]), fields: _fields(later)})
    assert (old / fields).read_bytes() != (new / fields).read_bytes()
    assert script.compare_stores(old, new) == []
    (new / seen).write_bytes(_seen(["a.edf", 11, 1, 1, 7]))  # another size
    (new / fields).write_bytes(_fields(renamed))  # another id
    assert script.compare_stores(old, new) == [fields, seen]


def test_a_seen_files_entry_on_one_side_only_is_no_difference(tmp_path: Path) -> None:
    """Files written seconds before an ingest are racy and not noted in seen.json, so which
    recordings it holds depends on how soon after ``eegprep demo`` each side's ingest began:
    an entry or the whole file on one side only is the same, a shared entry that differs not."""
    script = _script()
    seen = "_eegprep/seen.json"
    one = json.loads(_seen(["a.edf", 10, 1, 1, 7]))
    two = {**one, "recordings": {**one["recordings"], "tuh/b": one["recordings"]["tuh/a"]}}
    old = _store(tmp_path / "old", {seen: json.dumps(one).encode()})
    new = _store(tmp_path / "new", {seen: json.dumps(two).encode()})
    bare = _store(tmp_path / "bare", {"zarr.json": b"{}"})
    (old / "zarr.json").write_bytes(b"{}")
    (new / "zarr.json").write_bytes(b"{}")
    assert script.compare_stores(old, new) == []
    assert script.compare_stores(old, bare) == script.compare_stores(bare, new) == []
    two["recordings"]["tuh/a"] = json.loads(_seen(["a.edf", 11, 1, 1, 7]))["recordings"]["tuh/a"]
    (new / seen).write_text(json.dumps(two))
    assert script.compare_stores(old, new) == [seen]


def _store(root: Path, files: dict[str, bytes]) -> Path:
    for rel, blob in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(blob)
    return root
