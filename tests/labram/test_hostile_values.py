"""labram's outputs on values it did not make: class names, subjects, task names and paths that
hold line breaks, terminal escapes or direction overrides (a store's labels, a user's paths).

Every printed line stays one line, CSV rows stay rows, and the HTML page shows such characters
as escapes instead of reading as other text."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from eegprep.base import strict_json
from eegprep.base.errors import UsageError
from labram.commands import labram_cli
from labram.data.tasks import Task
from labram.data.windows import RecordingPlan, WindowIndex
from labram.stages.predict import write_csv
from labram.stages.predictions import read_predictions, write_predictions
from tests.machine_paths import shown as shown_path

CLASSES = ("a\rb", "c\nd", "\x1b[31mred", "\u202eevil", 'q"u,o')
SHOWN = ("\x1b[31mred", "\u202eevil", "\x85nel", "\x08bs", "plain")
"""Class names a CSV holds as they are, that a terminal or a page would show as other text."""
TASK = Task(name="label:k\r\n", kind="multiclass", classes=CLASSES, window_seconds=None)


def _index(subject: str = "s{k}\r\nforged,row") -> WindowIndex:
    """Two windows of each of 5 recordings, one per class; subjects hold a carriage return."""
    plans = [
        RecordingPlan(0, f"c/r{k}", "c", subject.format(k=k), np.arange(19), np.arange(19))
        for k in range(5)
    ]
    rec = np.repeat(np.arange(5), 2)
    n = len(rec)
    labels = rec.astype(np.float32)[:, None]
    return WindowIndex(["s.zarr"], plans, rec, np.zeros(n, int), np.full(n, 4), np.zeros(n, int),
                       labels)  # fmt: skip


def test_predictions_csv_keeps_rows_whole(tmp_path: Path) -> None:
    path = write_predictions(tmp_path / "predictions.csv", TASK, _index(), np.eye(5).repeat(2, 0))
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) == 11 and {len(r) for r in rows} == {6 + 5 + 1}  # + row_crc32
    assert not path.read_bytes().split(b"\n", 1)[0].endswith(b"\r")  # rows end in \n
    back = read_predictions(path)
    assert back["classes"] == list(CLASSES)
    assert [r["label"] for r in back["rows"]] == [c for c in CLASSES for _ in (0, 1)]
    assert back["rows"][0]["subject"] == "s0\r\nforged,row"


def test_a_ragged_predictions_file_is_one_line_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "predictions.csv"
    path.write_text("split,recording,subject,label,p_0,p_1\ntest,r,s,0,0.5,0.5,extra\n")
    with pytest.raises(UsageError, match=r"predictions.csv: line 2 has 7 fields, the header 6"):
        read_predictions(path)
    path.write_text("split,recording,subject,label,p_0,p_1\ntest,r,s,0\n")
    with pytest.raises(UsageError, match=r"line 2 has 4 fields, the header 6"):
        read_predictions(path)


def test_predict_csv_keeps_rows_whole() -> None:
    probs = dict.fromkeys(CLASSES, 0.2)
    rec = {"file": "x\ry.edf", "n_windows": 1, "label": "a\rb", "probabilities": probs}
    res = {"classes": list(CLASSES), "recordings": [rec]}
    out = io.StringIO()
    write_csv(res, out)
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert len(rows) == 2 and {len(r) for r in rows} == {2 + 5 + 1}
    assert rows[1][0] == "x\ry.edf" and rows[1][-1] == "a\rb"


def _run_folder(root: Path) -> Path:
    run = root / "run\nforged line"
    seed = run / "seed0"
    seed.mkdir(parents=True)
    task = Task(name=TASK.name, kind="multiclass", classes=SHOWN, window_seconds=None)
    write_predictions(seed / "predictions.csv", task, _index("s{k}"), np.eye(5).repeat(2, 0))
    test = {"balanced_accuracy": 0.5}
    metrics = {"seed": 0, "test": test, "val": test, "checkpoint": str(seed / "best.pt")}
    (seed / "metrics.json").write_text(strict_json.dumps(metrics))
    results = {"task": TASK.name, "stores": ["s\n.zarr"], "leakage": "0 of 5\r\nforged",
               "seeds": [metrics], "windows": {"test": 10}}  # fmt: skip
    (run / "results.json").write_text(strict_json.dumps(results))
    return run


def test_report_prints_one_line_per_line_and_the_page_shows_escapes(tmp_path: Path) -> None:
    run = _run_folder(tmp_path)
    page = tmp_path / "page.html"
    res = CliRunner().invoke(labram_cli, ["report", str(run), "--html", str(page)])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].startswith(f"{tmp_path}/run\\nforged line (finetune label:k\\r\\n, 1 seed")
    assert not any(x.startswith(("forged", "ird")) for x in lines)
    text = page.read_text()
    for raw in ("\x1b", "\u202e", "\x85", "\x08", "\r"):
        assert raw not in text
    for shown in (r"\x1b[31mred", r"\u202eevil", r"\x85nel", r"\x08bs", r"run\nforged line"):
        assert shown in text


# ---- labram embed: label keys, --out, and the task's outputs ---------------------------------

KEYS = ("a/b", "../../escape", "sp ace", "we\nird", "per%cent", "K" * 300)


@pytest.fixture(scope="module")
def embed_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A store whose label keys are no Zarr node names, and an untrained 1-output classifier."""
    import torch

    from labram.checkpoints.layouts import save_ours
    from labram.model.classifier import LaBraMClassifier
    from labram.model.config import model_config

    root = tmp_path_factory.mktemp("hostile_embed")
    rng = np.random.default_rng(0)
    for name, keys in (("s.zarr", KEYS), ("plain.zarr", ())):
        _write(root / name, rng, keys)
    torch.manual_seed(0)
    save_ours(LaBraMClassifier(model_config("tiny"), 1), root / "best.pt")
    return {"root": root, "store": root / "s.zarr", "plain": root / "plain.zarr",
            "ckpt": root / "best.pt"}  # fmt: skip


def _write(path: Path, rng: np.random.Generator, keys: tuple[str, ...]) -> None:
    from eegprep.pipeline.recipe import Recipe
    from eegprep.store.writer import StoreWriter
    from tests.labram.training_stores import TUAB_ORDER, eeg, put

    with StoreWriter(str(path), Recipe()) as w:
        for k in range(3):
            labels = {**dict.fromkeys(keys, k), "cond": ["x", "y", "z"][k]}
            split = "eval" if k == 2 else "train"
            put(w, f"c/r{k}", eeg(rng, 19, 14), list(TUAB_ORDER[:19]), subject=f"s{k}",
                subject_key=f"c:s{k}", split=split, labels=labels)  # fmt: skip


def _embed(files: dict[str, Path], out: Path | str, *extra: str, store: str = "plain") -> Any:
    args = ["embed", "--store", str(files[store]), "--checkpoint", str(files["ckpt"])]
    return CliRunner().invoke(labram_cli, [*args, "--out", str(out), *extra])


def test_label_keys_become_one_coordinate_each(embed_files: dict[str, Path]) -> None:
    import xarray as xr

    from labram.stages.embed_coordinates import NAME_BYTES, label_array_name

    out = embed_files["root"] / "emb"
    res = _embed(embed_files, out, store="store")
    assert res.exit_code == 0, res.output
    ds = xr.open_zarr(out)
    names = {label_array_name(k): k for k in (*KEYS, "cond")}
    assert len(names) == len(KEYS) + 1 and set(names) <= set(ds.coords)
    assert {ds[n].attrs["label_key"] for n in names} == set(names.values())
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("label_")) == sorted(names)
    assert not (embed_files["root"].parent / "escape").exists()
    assert all(len(n.encode()) <= NAME_BYTES for n in names)
    assert label_array_name("sp ace") == "label_sp%20ace" and label_array_name("x_y.z-1") == (
        "label_x_y.z-1"
    )


def test_embed_out_inside_a_zarr_store_is_refused(embed_files: dict[str, Path]) -> None:
    store = embed_files["plain"]
    before = sorted(p.name for p in store.iterdir())
    for out in (store / "emb", store / "recordings" / "emb"):
        res = _embed(embed_files, out)
        assert res.exit_code == 2
        assert res.output.strip().splitlines() == [
            f"error: --out {out}: inside the Zarr store {store}; an embedding store must not be "
            "written among another store's objects: pick a folder outside it"
        ]
    assert sorted(p.name for p in store.iterdir()) == before
    assert not (store / "recordings" / "emb").exists()


def test_embed_out_through_a_symlink_writes_its_target(embed_files: dict[str, Path]) -> None:
    root = embed_files["root"]
    (root / "target").mkdir()
    (root / "link").symlink_to("target")
    res = _embed(embed_files, root / "link")
    assert res.exit_code == 0, res.output
    assert (root / "link").is_symlink() and (root / "target/embedding/zarr.json").is_file()
    again = _embed(embed_files, root / "link")  # resumes through the link
    assert again.exit_code == 0 and "0 computed, 1 already done" in again.output


def test_embed_out_as_a_link_to_nothing_is_refused_not_written_through(
    embed_files: dict[str, Path],
) -> None:
    # (it was written through, making the link's target: docs/cli.md, "a link to nothing")
    root = embed_files["root"]
    (root / "dangling").symlink_to("nowhere")
    res = _embed(embed_files, root / "dangling")
    assert res.exit_code == 2, res.output
    assert shown_path(root / "dangling") in res.output and "\n" not in res.output.strip()
    assert not (root / "nowhere").exists()


def test_embed_task_refuses_a_head_of_another_size(embed_files: dict[str, Path]) -> None:
    out = embed_files["root"] / "emb_task"
    res = _embed(embed_files, out, "--task", "label:cond")
    assert res.exit_code == 2
    assert res.output.startswith(
        f"error: {embed_files['ckpt']}: its head has 1 output, but task 'label:cond' needs 3"
    )
    assert not out.exists()


# ---- export / convert: temporaries a killed write left ---------------------------------------


def test_export_and_convert_remove_what_a_killed_write_of_their_output_left(
    embed_files: dict[str, Path], tmp_path: Path
) -> None:
    src = embed_files["ckpt"]
    out = tmp_path / "m.safetensors"
    stale = [tmp_path / f"{n}.tmp-0123abcd" for n in ("m.safetensors", "m.card.md", "m.card.json")]
    near = ("m.safetensors.tmp-0123abcz", "other.safetensors.tmp-01234567",
            "m.safetensors.tmp-0123abcd0", "m.safetensorz.tmp-0123abcd")  # fmt: skip
    keep = [tmp_path / n for n in near]
    for f in (*stale, *keep):
        f.write_bytes(b"part of a model")
    (tmp_path / "m.safetensors.tmp-89abcdef").symlink_to(src)  # not ours: a link
    (tmp_path / "m.safetensors.tmp-fedcba98").mkdir()  # nor a folder
    runner = CliRunner()
    res = runner.invoke(labram_cli, ["export", str(src), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert not any(f.exists() for f in stale)
    assert all(f.exists() for f in keep)
    assert (tmp_path / "m.safetensors.tmp-89abcdef").is_symlink() and src.is_file()
    assert (tmp_path / "m.safetensors.tmp-fedcba98").is_dir()
    stale[0].write_bytes(b"left by a killed export")
    refused = runner.invoke(labram_cli, ["export", str(src), "--out", str(out)])  # exists
    assert refused.exit_code == 2 and stale[0].exists()  # a refused command removes nothing
    dst = tmp_path / "c.pth"
    left = tmp_path / "c.pth.tmp-00000000"
    left.write_bytes(b"left by a killed convert")
    res = runner.invoke(labram_cli, ["convert", str(src), str(dst)])
    assert res.exit_code == 0, res.output
    assert dst.is_file() and not left.exists()


def test_no_run_folder_nor_page_inside_an_embeddings_store(
    embed_files: dict[str, Path], tmp_path: Path
) -> None:
    emb = tmp_path / "emb"
    emb.mkdir()
    (emb / "zarr.json").write_text('{"zarr_format": 3, "node_type": "group"}')
    run = _run_folder(tmp_path)
    runner = CliRunner()
    page = emb / "page.html"
    res = runner.invoke(labram_cli, ["report", str(run), "--html", str(page)])
    assert res.exit_code == 2 and not page.exists()
    assert res.output.splitlines()[-1].startswith(f"error: {page}: inside the Zarr store {emb} ")
    out = emb / "run"
    args = ["tokenizer", "--store", str(embed_files["plain"]), "--size", "tiny", "--out", str(out)]
    res = runner.invoke(labram_cli, args)
    assert res.exit_code == 2 and not out.exists()
    assert res.output.strip() == (
        f"error: --out {out}: inside the Zarr store {emb}; a run folder must not be written "
        "among a store's objects: pick another --out"
    )


# ---- outputs that are not finite ---------------------------------------------------------


def test_a_model_whose_outputs_overflow_is_one_line_in_every_command(
    tuab: str, tmp_path: Path
) -> None:
    """Weights that are finite (the checkpoint checks pass) but huge (3e38) overflow float32 in
    the forward pass: `predict` showed NaN probabilities labelled with the first class (exit
    0), `evaluate` and `report --predict` stopped with an internal error (sklearn's "Input
    contains NaN"), `embed` wrote NaN logits (which also read as "not computed yet"). Each is
    now one line naming the checkpoint and the largest weight; nothing of it is kept."""
    import torch

    from eegprep.ingestion.inmemory import Preprocessed
    from eegprep.pipeline.channels import VOCABULARY
    from labram.checkpoints.errors import CheckpointError
    from labram.checkpoints.layouts import save_ours
    from labram.data.tasks import get_task
    from labram.model.classifier import LaBraMClassifier
    from labram.model.config import model_config
    from labram.stages.predict import predict_recording
    from labram.stages.predictions import FILENAME, predict_checkpoint

    torch.manual_seed(0)
    clf = LaBraMClassifier(model_config("tiny"), 1)
    with torch.no_grad():
        clf.head.weight.fill_(3e38)
    ckpt = tmp_path / "seed0" / "best.pt"
    save_ours(clf, ckpt)
    want = rf"{ckpt}: the model's outputs are not finite .*largest, 3e\+38, in head\.weight"
    task = get_task("tuab")
    names = list(task.channels or ())
    x = np.random.default_rng(0).standard_normal((len(names), 200 * 20)).astype(np.float32)
    rec = Preprocessed("r.edf", x * 30, names, [VOCABULARY.index(n) for n in names], 200.0)
    with pytest.raises(CheckpointError, match=want):
        predict_recording(clf, task, rec, source=str(ckpt))
    with pytest.raises(CheckpointError, match=want):
        predict_checkpoint(ckpt, [tuab], "tuab", device="cpu")
    assert not (ckpt.parent / FILENAME).exists()
    common = ["--store", tuab, "--task", "tuab", "--checkpoint", str(ckpt), "--device", "cpu"]
    for args in (["evaluate", *common], ["embed", *common, "--out", str(tmp_path / "e.zarr")]):
        res = CliRunner().invoke(labram_cli, ["-q", *args])
        assert res.exit_code == 2, (args[0], res.output)
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {ckpt}: the model's outputs"), (
            args[0],
            lines,
        )


def test_predict_lines_quote_a_class_holding_the_lines_separators() -> None:
    """``labram predict``'s line is ``FILE  CLASS: P  ...  -> LABEL  (N windows)``: a class
    named ``b: 0.99  c`` (a store's label value) read as two classes and a probability no
    model gave. Such a class is shown quoted, as the ``eegprep stats`` labels list quotes it."""
    from labram.stages.predict import table_lines

    classes = ["a", "b: 0.99  c"]
    rec = {"file": "r.edf", "n_windows": 2, "label": classes[1],
           "probabilities": {"a": 0.6, classes[1]: 0.4}}  # fmt: skip
    res = {"kind": "multiclass", "classes": classes, "recordings": [rec]}
    # (two classes: the positive one alone, which read as "b" at 0.99)
    assert table_lines(res) == ['r.edf  "b: 0.99  c": 0.40  -> "b: 0.99  c"  (2 windows)']


def test_the_per_subject_labels_quote_a_class_holding_a_comma(tmp_path: Path) -> None:
    """The results page's per-subject ``labels`` cell joined the subject's classes by ``, ``:
    one class named ``a, b`` read as two classes. Each is listed by the rule of the ``eegprep
    stats`` labels list (:func:`eegprep.base.field_text.listed_text`)."""
    run = tmp_path / "run"
    seed = run / "seed0"
    seed.mkdir(parents=True)
    classes = ("a, b", "c", "d", "e", "f")
    task = Task(name="label:k", kind="multiclass", classes=classes, window_seconds=None)
    write_predictions(seed / "predictions.csv", task, _index("s{k}"), np.eye(5).repeat(2, 0))
    test = {"balanced_accuracy": 0.5}
    metrics = {"seed": 0, "test": test, "val": test, "checkpoint": str(seed / "best.pt")}
    (seed / "metrics.json").write_text(strict_json.dumps(metrics))
    results = {"task": task.name, "stores": ["s.zarr"], "seeds": [metrics], "windows": {"test": 10}}
    (run / "results.json").write_text(strict_json.dumps(results))
    page = tmp_path / "page.html"
    res = CliRunner().invoke(labram_cli, ["report", str(run), "--html", str(page)])
    assert res.exit_code == 0, res.output
    assert "<td>s0</td><td>2</td><td>&quot;a, b&quot;</td>" in page.read_text(encoding="utf-8")
