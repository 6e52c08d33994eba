"""Stores read together (labram/data/store_set.py): the same store named twice, the same
recording held by two stores, stores of other recipes, rates or channel vocabularies."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import eegprep.store.writer as store_writer
from eegprep.base.errors import UsageError
from eegprep.pipeline.channels import VOCABULARY
from eegprep.pipeline.recipe import Recipe
from eegprep.store.reader import open_store
from eegprep.store.writer import StoreWriter
from labram.data.block_reader import BlockReader
from labram.data.tasks import build_task_indexes, get_task, source_identity
from labram.data.windows import WindowConfig, build_pretrain_index, open_stores, subjects_of
from labram.train.leakage import seen_sources, trained_record
from tests.labram.cli_runs import fixed_windows, run_labram
from tests.labram.training_stores import TUAB_ORDER, eeg, put

TINY = ["--size", "tiny", "--max-steps", "1", "--batch-size", "4", "--device", "cpu",
        "--set", "token_budget=40", "--set", "max_channels=8"]  # fmt: skip
CFG = WindowConfig(token_budget=40, max_channels=8)

Rec = tuple[str, str, str, str]
"""(id, subject_key, split, source file digest) of a recording to write."""


def _digest(name: str) -> str:
    return name.encode().hex().ljust(64, "0")[:64]


def _write(path: Path, recs: list[Rec], *, recipe: Recipe | None = None) -> str:
    """A store of 23-channel, 20-s TUAB-like recordings (label ``abnormal`` alternating), each
    with the source digest given (``""``: none stated, as records of early versions)."""
    rng = np.random.default_rng(len(recs))
    with StoreWriter(str(path), recipe or Recipe()) as w:
        for k, (rid, key, split, digest) in enumerate(recs):
            extra = {"source_blake3": digest} if digest else {}
            put(w, rid, eeg(rng, 23, 20, k % 2), list(TUAB_ORDER), subject=key.split(":")[1],
                subject_key=key, split=split, labels={"abnormal": k % 2}, **extra)  # fmt: skip
    return str(path)


A_RECS: list[Rec] = [
    (f"tuab/s{k}", f"tuh:s{k}", "eval" if k >= 6 else "train", _digest(f"f{k}")) for k in range(8)
]
"""Eight recordings of eight subjects; s6 and s7 are the test split."""

B_RECS: list[Rec] = [
    # copies of a's files, ingested by another manifest: other ids, other subject keys, and
    # for the test file a split that would put it on the training side
    ("mine/x1", "mine:x1", "train", _digest("f1")),
    ("mine/x6", "mine:x6", "train", _digest("f6")),
    # a's subject s2 with another recording: must fall on the side of a's s2
    ("tuab/s2_other", "tuh:s2", "train", _digest("g2")),
    ("tuab/s9", "tuh:s9", "train", _digest("g9")),
    ("tuab/s10", "tuh:s10", "train", ""),  # states no digest: never a copy
]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    root = tmp_path_factory.mktemp("pair")
    return _write(root / "a.zarr", A_RECS), _write(root / "b.zarr", B_RECS)


def _warnings(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if text in r.getMessage()]


# --- 1. the same store given twice -------------------------------------------------------------


def test_a_store_spelled_four_ways_is_read_once(
    pair: tuple[str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    a = pair[0]
    link = tmp_path / "link.zarr"
    link.symlink_to(a)
    spellings = [a, a + "/", f"{Path(a).parent}/./a.zarr", "file://" + a, str(link)]
    with caplog.at_level(logging.WARNING):
        opened = open_stores(spellings, warn=True)
    assert [s.url for s in opened] == [open_store(a).url]
    said = _warnings(caplog, "given twice")
    assert len(said) == 4 and all(s.endswith(f"the same store as {a}, given twice; it is read "
                                             "once") for s in said)  # fmt: skip
    assert [s.split(": the same")[0] for s in said] == spellings[1:]  # each named as given


def test_a_store_reached_through_another_mount_is_read_once(
    pair: tuple[str, str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bind mount (`mount --bind /data /mnt/data`) gives a store a second real path: told
    apart by real path, it was read twice; by device and inode it is read once. The mount is
    stood for by a real path that differs for the second spelling (mounting needs root)."""
    import labram.data.store_set as store_set

    a = pair[0]
    other = f"{Path(a).parent}/./a.zarr"  # the same folder ...
    real = store_set.os.path.realpath

    def mounted(path: str) -> str:  # ... whose real path names another mount point
        return "/mnt" + real(path) if path == other else real(path)

    monkeypatch.setattr(store_set.os.path, "realpath", mounted)
    with caplog.at_level(logging.WARNING):
        assert len(store_set.unique_stores([a, other])) == 1
    assert _warnings(caplog, "given twice") == [
        f"{other}: the same store as {a}, given twice; it is read once"
    ]


def test_exclude_subjects_of_given_twice_is_read_once(
    pair: tuple[str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    a, b = pair
    out = tmp_path / "run"
    code, output = run_labram("tokenizer", "--store", a, "--exclude-subjects-of", b,
                        "--exclude-subjects-of", b + "/", *TINY, "--out", out)  # fmt: skip
    assert code == 0, output
    assert _warnings(caplog, "given twice") == [
        f"{b}/: the same store as {b}, given twice; it is read once"
    ]
    record = (out / "excluded_subjects.json").read_text()
    assert record.count("b.zarr") == 1


def test_a_store_both_trained_on_and_excluded_is_refused(
    pair: tuple[str, str], tmp_path: Path
) -> None:
    a, b = pair
    out = tmp_path / "run"
    code, output = run_labram("tokenizer", "--store", a, "--store", b, "--exclude-subjects-of",
                        b + "/", *TINY, "--out", out)  # fmt: skip
    assert code == 2 and output.startswith("error:") and len(output.splitlines()) == 1, output
    assert f"--exclude-subjects-of {b}/: the same store as --store {b}" in output
    assert not out.exists()


# --- 2. the same recording in two stores -----------------------------------------------------


def test_recordings_two_stores_hold_are_read_once_with_one_warning(
    pair: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    a, b = pair
    with caplog.at_level(logging.WARNING):
        opened = open_stores([a, b], warn=True)
    assert len(opened[0]) == 8 and sorted(opened[1].index_fields()) == [
        "tuab/s10", "tuab/s2_other", "tuab/s9"
    ]  # fmt: skip
    said = _warnings(caplog, "are also in")
    assert said == [
        f"{b}: 2 of its 5 recordings are also in {a} (the same source files, e.g. mine/x1 as "
        f"tuab/s1); they are read from {a} alone, not twice per epoch; give one of the two "
        "stores to silence this"
    ]
    alone = build_pretrain_index([a], CFG)  # 6 recordings (s6 and s7 are test recordings)
    both = build_pretrain_index([a, b], CFG)
    ids = [p.id for p in both.recordings]
    assert len(ids) == len(set(ids)) == 9 and "mine/x1" not in ids
    assert len(both) == len(alone) * 9 // 6  # every recording alike: 9 of them, once each
    # in the other order, a's copies are the ones left out
    ids = [p.id for p in build_pretrain_index([b, a], CFG).recordings]
    assert "mine/x1" in ids and "tuab/s1" not in ids and len(ids) == 10


def test_task_splits_stay_apart_with_copies_in_two_stores(pair: tuple[str, str]) -> None:
    splits = build_task_indexes(list(pair), get_task("tuab"), split_seed=3)
    opened = open_stores(list(pair))
    sides: dict[str, set[str]] = {}
    sources: dict[str, set[str]] = {}
    for name, index in splits.items():
        for plan in index.recordings:
            sides.setdefault(plan.subject, set()).add(name)
            rec = opened[plan.store].recording(plan.id)
            sources.setdefault(source_identity(rec) or plan.id, set()).add(name)
    assert all(len(s) == 1 for s in sides.values()), sides  # a subject on one side
    assert all(len(s) == 1 for s in sources.values()), sources  # a file on one side
    assert sides["tuh:s6"] == {"test"} and "mine:x6" not in sides  # a's test copy, not b's
    assert sides["tuh:s2"] == {"train"} or sides["tuh:s2"] == {"val"}
    assert sum(len(i.recordings) for i in splits.values()) == 11


def test_the_seen_subjects_record_covers_copies_read_from_the_other_store(
    pair: tuple[str, str],
) -> None:
    a, b = pair
    record = trained_record(build_pretrain_index([a, b], CFG))
    copy, test_copy = (source_identity(open_store(b).recording(r)) for r in ("mine/x1", "mine/x6"))
    assert seen_sources(record, [copy, test_copy]) == {copy}  # a's s1 read, a's s6 is a test file
    assert subjects_of([a, b]) >= {"mine:x1", "tuh:s1"}  # exclusion reads every store whole


def test_a_training_command_says_each_overlap_once(
    pair: tuple[str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    a, b = pair
    with caplog.at_level(logging.WARNING):
        code, output = run_labram("tokenizer", "--store", a, "--store", b, *TINY, "--out",
                            tmp_path / "r")  # fmt: skip
    assert code == 0, output
    assert len(_warnings(caplog, "are also in")) == 1


def test_embed_names_the_stores_as_they_were_given(
    pair: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """`labram embed --store a.zarr --store b.zarr` said `/abs/b.zarr: 2 of its 5 recordings are
    also in /abs/a.zarr` and recorded the absolute paths as the output's `stores`, where every
    other command (and docs/training.md, "Several stores") names the stores as given."""
    import zarr

    from labram.checkpoints.layouts import save_ours
    from labram.model.config import model_config
    from labram.model.mem import LaBraMForMEM

    monkeypatch.chdir(Path(pair[0]).parent)
    save_ours(LaBraMForMEM(model_config("tiny")), tmp_path / "model.pt")
    with caplog.at_level(logging.WARNING):
        code, output = run_labram("embed", "--store", "a.zarr", "--store", "./b.zarr",
                                  "--checkpoint", tmp_path / "model.pt", "--out",
                                  tmp_path / "emb.zarr", "--device", "cpu")  # fmt: skip
    assert code == 0, output
    said = _warnings(caplog, "are also in")
    assert len(said) == 1 and said[0].startswith("./b.zarr: 2 of its 5 recordings are also in "
                                                 "a.zarr (the same source files"), said  # fmt: skip
    assert zarr.open_group(tmp_path / "emb.zarr", mode="r").attrs["stores"] == [
        "a.zarr",
        "./b.zarr",
    ]


# --- 3. stores of other recipes, rates or vocabularies ---------------------------------------


def test_stores_of_another_recipe_are_named_with_the_fields_that_differ(
    pair: tuple[str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    a = pair[0]
    c = _write(tmp_path / "c.zarr", [("tuab/c1", "tuh:c1", "train", _digest("h1"))],
               recipe=Recipe(mode="mne", l_freq=0.5))  # fmt: skip
    with caplog.at_level(logging.WARNING):
        open_stores([a, c], warn=True)
    assert _warnings(caplog, "recipe") == [
        f"{c}: made with another preprocessing recipe than {a} (l_freq 0.5 vs 0.1; mode 'mne' "
        "vs 'fast'): the model sees samples of both recipes mixed; ingest the stores with one "
        "recipe to train on one"
    ]
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        open_stores([a, a + "/."], warn=True)  # one recipe: nothing said but the repeat
    assert not _warnings(caplog, "recipe")


def test_stores_of_another_rate_are_refused(pair: tuple[str, str], tmp_path: Path) -> None:
    a = pair[0]
    c = _write(tmp_path / "c.zarr", [], recipe=Recipe(sfreq=250.0))
    with pytest.raises(UsageError, match=rf"^{c}: sampled at 250 Hz, {a} at 200 Hz; "):
        open_stores([a, c])
    code, output = run_labram(
        "tokenizer", "--store", a, "--store", c, *TINY, "--out", tmp_path / "r"
    )
    assert code == 2 and output.startswith(f"error: {c}: sampled at 250 Hz"), output


def test_stores_of_another_channel_vocabulary_are_refused(
    pair: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = pair[0]
    other = list(VOCABULARY)
    other[3], other[4] = other[4], other[3]
    monkeypatch.setattr(store_writer, "VOCABULARY", tuple(other))
    c = _write(tmp_path / "c.zarr", [])
    monkeypatch.undo()
    shorter = tmp_path / "d.zarr"
    monkeypatch.setattr(store_writer, "VOCABULARY", VOCABULARY[:100])  # an older, shorter one
    _write(shorter, [])
    monkeypatch.undo()
    open_stores([a, str(shorter)])  # agrees where both name a channel
    with pytest.raises(UsageError, match=rf"^{c}: its channel vocabulary differs from {a}'s "
                       rf"\(channel 3: '{other[3]}', not '{other[4]}'\)"):  # fmt: skip
        open_stores([a, c])


# --- 4. each store opened once per command ---------------------------------------------------


def _count_opens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every ``open_store`` call from now on (by whichever module imported it), by the name of
    the store's folder."""
    import sys

    import eegprep.store.reader as reader

    original = reader.open_store
    calls: list[str] = []

    def counted(url: str, **options: Any) -> Any:  # (embed leaves malformed records out)
        calls.append(Path(str(url).rstrip("/")).name)
        return original(url, **options)

    for module in list(sys.modules.values()):
        if getattr(module, "open_store", None) is original:
            monkeypatch.setattr(module, "open_store", counted)
    return calls


@pytest.mark.slow
def test_each_command_opens_each_store_once(
    pair: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command opened and reconciled its stores, then each stage (tokenizer, masked
    modelling, the window index, the leakage record, the batch reader, every seed) opened
    them again by URL: 7 opens of each store for `labram pretrain`, and the check of the
    recordings two stores share (~1 s for 10^5 recordings) at each. Now once per command."""
    a, b = pair
    held = _write(tmp_path / "held.zarr", [("tuab/h1", "tuh:h1", "train", _digest("h1"))])
    calls = _count_opens(monkeypatch)
    runs = tmp_path / "runs"
    both = ["--store", a, "--store", b]
    commands = {
        "tokenizer": ["tokenizer", *both, "--exclude-subjects-of", held, *TINY,
                      "--out", runs / "tok"],
        "pretrain": ["pretrain", *both, "--exclude-subjects-of", held, *TINY,
                     "--tokenizer-max-steps", "1", "--out", runs / "pt"],
        "finetune": ["finetune", *both, "--task", "tuab", *fixed_windows(TINY), "--epochs", "1",
                     "--set", "warmup_epochs=0.5", "--out", runs / "ft"],
        "evaluate": ["evaluate", *both, "--task", "tuab", "--checkpoint", runs / "ft/seed0/best.pt",
                     "--device", "cpu"],
        "evaluate one store": ["evaluate", "--store", a, "--task", "tuab", "--checkpoint",
                               runs / "ft/seed0/best.pt", "--device", "cpu"],
        "embed": ["embed", *both, "--checkpoint", runs / "pt/mem/model.pt", "--out",
                  tmp_path / "emb.zarr", "--device", "cpu"],
        "embed one store": ["embed", "--store", b, "--checkpoint", runs / "pt/mem/model.pt",
                            "--out", tmp_path / "emb1.zarr", "--device", "cpu"],
        "report --predict": ["report", runs / "ft", "--predict", *both, "--device", "cpu"],
    }  # fmt: skip
    for what, args in commands.items():
        if what == "report --predict":
            (runs / "ft/seed0/predictions.csv").unlink()  # so that it runs best.pt again
        calls.clear()
        code, output = run_labram(*args)
        assert code == 0, (what, output)
        given = [Path(args[i + 1]).name for i, x in enumerate(args) if str(x).startswith("--")
                 and str(x) in ("--store", "--exclude-subjects-of")]  # fmt: skip
        assert sorted(calls) == sorted(given), what


def test_stores_a_command_opened_pass_through_its_stages_unchecked_again(
    pair: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stages got URLs and reconciled the stores again (the shared recordings found anew:
    ~1 s for 10^5 recordings each time); the set a command opened now passes through, with
    the names the stores were given as, and no worker process gets the stores."""
    from labram.data import store_set

    a, b = pair
    opened = open_stores([a + "/", b])
    monkeypatch.setattr(store_set, "shared_recordings", _fail)
    again = open_stores(opened)
    assert all(x is y for x, y in zip(again, opened, strict=True)) and len(again) == 2
    assert store_set.given_names(again) == [a + "/", b]  # as given, for the run's records
    index = build_pretrain_index(opened, CFG)
    assert index.opened is not None and all(
        x is y for x, y in zip(index.opened, opened, strict=True)
    )
    assert index.__getstate__()["opened"] is None  # a dataloader worker opens its own
    reader = BlockReader(index)
    assert reader._store(0) is opened[0]  # this process reads through the command's stores
    assert reader.__getstate__()["_stores"] == {}  # a worker (spawned: pickled) its own
    assert index.subset(index.rec == 0).opened is index.opened
    with pytest.raises(AssertionError):  # another list of stores is reconciled as before
        open_stores([opened[1], opened[0]])


def _fail(*_args: object) -> None:
    raise AssertionError("reconciled again")
