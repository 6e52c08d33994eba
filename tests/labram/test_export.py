"""`labram export`: safetensors out, read back by every reader, with a model card beside it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file, save_file

from labram.checkpoints.errors import CorruptCheckpointError
from labram.checkpoints.layouts import is_ours, load_official, save_official, save_ours, to_official
from labram.checkpoints.load import load_model
from labram.checkpoints.safe_read import read_checkpoint
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config
from labram.model.mem import LaBraMForMEM
from labram.stages.export import export
from labram.train.checkpoint import attach_subjects as attach
from labram.train.leakage import make_record
from tests.labram.training_stores import write_tuab_like


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture()
def classifier(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    path = tmp_path / "run" / "seed0" / "best.pt"
    save_ours(LaBraMClassifier(model_config("tiny"), 1), path)
    attach(path, make_record(["tuh:s1", "tuh:s2", "tuh:s3"]))
    (path.parent.parent / "results.json").write_text(
        json.dumps({"task": "tuab", "stores": ["tuab.zarr"], "test": {"auroc": {"mean": 0.9}}})
    )
    return path


def test_round_trip_is_exact_and_keeps_the_record(classifier: Path, tmp_path: Path) -> None:
    res = export(classifier, tmp_path / "out" / "tuab.safetensors")
    weights = Path(res["weights"])
    back = read_checkpoint(weights)  # the one reader: same structure as the .pt
    pt = read_checkpoint(classifier)
    assert is_ours(back) and back["kind"] == "classifier" and back["n_outputs"] == 1
    assert back["config"] == pt["config"]
    assert back["pretrain_subjects"] == pt["pretrain_subjects"]
    assert _same(back["model"], pt["model"])
    a, b = load_model(classifier).model, load_model(weights).model
    x = torch.randn(2, 3, 2, 200)
    assert torch.equal(a(x, [1, 2, 3]), b(x, [1, 2, 3]))
    # plain safetensors tools see our module's names, nothing else
    assert a.load_state_dict(load_file(weights)) is not None


def test_model_card(classifier: Path, tmp_path: Path) -> None:
    res = export(classifier, tmp_path / "tuab.safetensors")
    card = json.loads(Path(res["card_json"]).read_text())
    assert card["kind"] == "classifier" and card["task"] == "tuab"
    assert card["n_parameters"] == sum(p.numel() for p in load_model(classifier).model.parameters())
    assert card["data"]["pretrain_subjects"] == {"n": 3, "complete": True}
    assert card["data"]["stores"] == ["tuab.zarr"]
    assert card["size_bytes"] == (tmp_path / "tuab.safetensors").stat().st_size
    md = Path(res["card"]).read_text()
    assert "| subjects seen in pre-training | 3 |" in md and "License" in md
    assert Path(res["card"]).name == "tuab.card.md"


def test_every_reader_takes_the_export(classifier: Path, tmp_path: Path) -> None:
    """finetune --init, evaluate --checkpoint (with its leakage check), the released-layout
    loader on someone else's safetensors."""
    from labram.stages.evaluate import evaluate
    from labram.stages.finetune import init_classifier

    weights = Path(export(classifier, tmp_path / "c.safetensors")["weights"])
    model = init_classifier(weights, 3, "tiny", 0.0)
    assert model.n_outputs == 3
    url = write_tuab_like(tmp_path / "tuab.zarr", n_train=2, n_eval=2, seconds=20)
    res = evaluate([url], "tuab", weights, device="cpu")
    assert res["n_windows"] == 4 and "0 of 2 test subjects" in res["leakage"]
    # a released pre-training layout someone saved as safetensors
    torch.manual_seed(1)
    mem = LaBraMForMEM(model_config("tiny"))
    save_file(
        {k: v.contiguous() for k, v in to_official(mem).items()}, tmp_path / "rel.safetensors"
    )
    back = load_official(tmp_path / "rel.safetensors", "mem")
    assert _same(back.state_dict(), mem.state_dict())


def test_released_file_exports(tmp_path: Path) -> None:
    torch.manual_seed(2)
    mem = LaBraMForMEM(model_config("tiny"))
    save_official(mem, tmp_path / "labram-base.pth")
    res = export(tmp_path / "labram-base.pth")
    assert res["weights"] == str(tmp_path / "labram-base.safetensors")
    assert res["source"]["layout"] == "released" and res["data"]["pretrain_subjects"] is None
    assert _same(load_model(res["weights"]).model.state_dict(), mem.state_dict())


def test_tokenizer_export_reads_back_in_pretrain(tmp_path: Path) -> None:
    from labram.model.config import tokenizer_config
    from labram.model.tokenizer import VQNSPTokenizer
    from labram.stages.pretrain import load_tokenizer

    torch.manual_seed(3)
    tok = VQNSPTokenizer(tokenizer_config("tiny"))
    save_ours(tok, tmp_path / "tokenizer.pt")
    weights = export(tmp_path / "tokenizer.pt")["weights"]
    assert _same(load_tokenizer(weights).state_dict(), tok.state_dict())


def test_damaged_file_is_one_line(classifier: Path, tmp_path: Path) -> None:
    from cli import labram_cli

    weights = Path(export(classifier, tmp_path / "c.safetensors")["weights"])
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(weights.read_bytes()[:5000])
    with pytest.raises(CorruptCheckpointError, match=r"cut\.safetensors: truncated or corrupt"):
        read_checkpoint(cut)
    res = CliRunner().invoke(
        labram_cli, ["export", str(cut), "--out", str(tmp_path / "x.safetensors")]
    )
    assert res.exit_code == 2 and res.output.count("\n") == 1
    assert res.output.startswith("error: ") and "Traceback" not in res.output


@pytest.mark.parametrize("depth", [990, 5000])
def test_metadata_nested_too_deep_is_one_line(tmp_path: Path, depth: int) -> None:
    """A crafted safetensors file whose metadata nests deeper than Python's parser (5,000) or
    than the decoding of its entries (990) recurses: refused in one line, not a traceback."""
    path = tmp_path / "deep.safetensors"
    save_file({"w": torch.zeros(2)}, str(path), metadata={"labram": "[" * depth + "]" * depth})
    with pytest.raises(CorruptCheckpointError, match=r"deep\.safetensors: .*not"):
        read_checkpoint(path)


def test_a_pickle_nested_too_deep_is_one_line(tmp_path: Path) -> None:
    """A crafted torch.save archive whose pickle builds lists 3,000 deep (the unpickler builds
    them without recursing, and torch's weights-only loader allows lists): refused in one
    line, not a RecursionError."""
    import zipfile

    base = tmp_path / "base.pt"
    torch.save({"a": 1}, base)
    depth = 3000  # {"extra": [[[...]]]} in pickle opcodes: EMPTY_DICT, a key, lists, APPENDs
    crafted = b"\x80\x02}X\x05\x00\x00\x00extra" + b"]" * depth + b"a" * (depth - 1) + b"s."
    deep = tmp_path / "deep.pt"
    with zipfile.ZipFile(base) as src, zipfile.ZipFile(deep, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, crafted if name.endswith("data.pkl") else src.read(name))
    with pytest.raises(CorruptCheckpointError, match=r"deep\.pt: not a checkpoint"):
        read_checkpoint(deep)


def test_cli_export(classifier: Path, tmp_path: Path) -> None:
    from cli import labram_cli

    out = tmp_path / "m.safetensors"
    res = CliRunner().invoke(labram_cli, ["export", str(classifier), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "classifier" in res.output and "m.card.md" in res.output
    assert out.is_file() and (tmp_path / "m.card.json").is_file()
    res = CliRunner().invoke(
        labram_cli, ["export", str(classifier), "--out", str(tmp_path / "m.pt")]
    )
    assert res.exit_code == 2 and "ending in .safetensors" in res.output


@pytest.mark.parametrize("command", ["export", "convert"])
def test_quiet_writes_the_file_and_prints_nothing(
    classifier: Path, tmp_path: Path, command: str
) -> None:
    """`labram -q export` printed `classifier, N parameters -> m.safetensors` and `labram -q
    convert` `SRC (labram, classifier) -> DST (released layout)`: a summary naming the file
    written, which `-q` leaves out (docs/cli.md); without `-q` the line is there."""
    from cli import labram_cli

    for quiet, name in ((["-q"], "q.safetensors"), ([], "loud.safetensors")):
        out = tmp_path / name
        args = ["--out", str(out)] if command == "export" else [str(out)]
        res = CliRunner().invoke(labram_cli, [*quiet, command, str(classifier), *args])
        assert res.exit_code == 0 and out.is_file(), res.output
        assert (res.output == "") == bool(quiet), res.output


def test_the_export_is_readable_as_any_file_and_never_written_without_its_card(
    classifier: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """safetensors creates its file 0600 (the cards and every .pt were 0644); a card that
    failed after the weights were written left weights with no card."""
    import os

    import labram.stages.export as export_module

    out = tmp_path / "out" / "tuab.safetensors"
    export(classifier, out)
    assert os.stat(out).st_mode & 0o777 == os.stat(out.with_suffix(".card.json")).st_mode & 0o777
    out.unlink()

    def broken(*args: object) -> str:
        raise RuntimeError("the card")

    monkeypatch.setattr(export_module, "card_markdown", broken)
    cards = {p: p.read_bytes() for p in out.parent.glob("tuab.card.*")}
    with pytest.raises(RuntimeError, match="the card"):
        export(classifier, out, force=True)
    assert not out.exists()  # and the cards of the export before are as they were
    assert {p: p.read_bytes() for p in out.parent.glob("tuab*")} == cards


class _Killed(BaseException):
    """What a kill -9 between two renames amounts to for the files (nothing after it runs)."""


@pytest.mark.parametrize("renames_done", range(5))  # 4: not killed
def test_an_export_killed_between_its_renames_is_one_export_once_read(
    classifier: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, renames_done: int
) -> None:
    """`labram export --force` over an earlier export, killed after each of its renames (the
    journal's, then the two cards' and the weights'): a kill between two of the three files'
    renames once left new cards beside old weights. The next reader completes the export from
    its journal: the three files are the old export's, or the new one's."""
    import os
    import warnings

    out = tmp_path / "tuab.safetensors"
    old_id = export(classifier, out)["export_id"]
    other = tmp_path / "other.pt"
    torch.manual_seed(1)
    save_ours(LaBraMClassifier(model_config("tiny"), 1), other)
    new_id = export(other, tmp_path / "ref" / out.name)["export_id"]
    real, calls = os.replace, []

    def replace(src: object, dst: object) -> None:
        if len(calls) == renames_done:
            raise _Killed
        calls.append(dst)
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", replace)
    try:
        export(other, out, force=True)
    except _Killed:
        assert renames_done < 4  # (4: every rename done, the export complete)
    monkeypatch.undo()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        weights_id = read_checkpoint(out)["export_id"]
    cards = [p.read_text() for p in (out.with_suffix(".card.md"), out.with_suffix(".card.json"))]
    assert all(weights_id in text for text in cards), renames_done
    assert not [w for w in seen if "describes other weights" in str(w.message)]
    assert weights_id == (old_id if renames_done < 1 else new_id), renames_done
    assert not out.with_name(out.name + ".journal").exists()


def test_the_weights_and_both_cards_carry_one_export_id(classifier: Path, tmp_path: Path) -> None:
    res = export(classifier, tmp_path / "tuab.safetensors")
    export_id = read_checkpoint(res["weights"])["export_id"]
    assert res["export_id"] == export_id and len(export_id) == 64
    assert f"| export id | `{export_id}` |" in Path(res["card"]).read_text()
    again = export(classifier, tmp_path / "again.safetensors")
    assert again["export_id"] == export_id  # a digest of the contents: the same for the same


@pytest.mark.slow  # over 5 s on two cores
def test_the_same_checkpoint_gives_the_same_safetensors_bytes_in_every_process(
    tmp_path: Path,
) -> None:
    """safetensors keeps a file's metadata in a hash map seeded anew in each process, so one
    model exported twice gave headers whose keys (``format``, ``labram``) came in either order;
    the header is now written sorted. Eight processes (a chance of 1/128 that they agree
    without it), a header that still loads, the tensors where they were."""
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    script = (
        "import sys, torch\n"
        "from labram.checkpoints.safetensors_files import save_safetensors\n"
        "torch.manual_seed(0)\n"
        "obj = {'model': {'b': torch.randn(3, 2), 'a': torch.arange(5)}, 'kind': 'x', 'n': 2}\n"
        "save_safetensors(obj, sys.argv[1])\n"
    )
    files = [tmp_path / f"{k}.safetensors" for k in range(8)]
    for f in files:
        subprocess.run([sys.executable, "-c", script, str(f)], check=True, cwd=repo)
    blobs = {f.read_bytes() for f in files}
    assert len(blobs) == 1
    blob = files[0].read_bytes()
    header = json.loads(blob[8 : 8 + int.from_bytes(blob[:8], "little")])
    assert list(header) == sorted(header)
    assert list(header["__metadata__"]) == ["format", "labram"]
    got = load_file(str(files[0]))
    torch.manual_seed(0)
    assert torch.equal(got["b"], torch.randn(3, 2)) and torch.equal(got["a"], torch.arange(5))


def _with_header(path: Path, edit: object) -> Path:
    """``path`` (a safetensors file) with its header text replaced by ``edit(text)``; the
    tensors' bytes as they were."""
    import struct

    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    text = edit(raw[8 : 8 + n].decode())  # type: ignore[operator]
    out = path.with_name("crafted.safetensors")
    out.write_bytes(struct.pack("<Q", len(text.encode())) + text.encode() + raw[8 + n :])
    return out


def _first_twice(text: str) -> str:
    """The header's first entry named twice: ``{"a": X, "a": X, ...}``."""
    doc = json.loads(text)
    first = next(iter(doc))
    return "{" + json.dumps({first: doc[first]})[1:-1] + "," + text[1:]


def _inner_twice(text: str) -> str:
    """The ``labram`` metadata naming its ``kind`` twice, the first a tokenizer's."""
    doc = json.loads(text)
    inner = doc["__metadata__"]["labram"]
    doc["__metadata__"]["labram"] = '{"kind": "tokenizer", ' + inner[1:]
    return json.dumps(doc)


@pytest.mark.parametrize(
    ("edit", "named"),
    [(_first_twice, "appears twice"), (_inner_twice, "'kind' appears twice")],
    ids=["a tensor or the metadata named twice", "a metadata entry named twice"],
)
def test_a_header_naming_one_key_twice_is_one_line_in_every_reader(
    classifier: Path, tmp_path: Path, edit: object, named: str
) -> None:
    """safetensors keeps the last of two entries of one name without a word (so does Python's
    json), while other readers take the first: such a file holds two models, and each reader
    of it loaded whichever its parser picked. Now every command refuses it in one line."""
    from cli import labram_cli

    weights = Path(export(classifier, tmp_path / "c.safetensors")["weights"])
    crafted = _with_header(weights, edit)
    with pytest.raises(CorruptCheckpointError, match=rf"crafted\.safetensors: .*{named}"):
        read_checkpoint(crafted)
    for args in (
        ["export", str(crafted), "--out", str(tmp_path / "x.safetensors")],
        ["predict", str(tmp_path / "rec.edf"), "--checkpoint", str(crafted), "--device", "cpu"],
    ):
        res = CliRunner().invoke(labram_cli, args)
        assert res.exit_code == 2, res.output
        lines = res.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {crafted}: "), lines
        assert named in lines[0]


def test_a_card_naming_one_field_twice_is_damaged(classifier: Path, tmp_path: Path) -> None:
    """A card.json stating two sha256 values (the weights' and another's) was read for the
    last one, whichever a reader sees: now it is named as damaged."""
    res = export(classifier, tmp_path / "c.safetensors")
    card = Path(res["card_json"])
    text = card.read_text()
    card.write_text('{"sha256": "' + "0" * 64 + '", ' + text.lstrip()[1:])
    with pytest.warns(UserWarning, match=r"c\.card\.json: damaged .*'sha256' appears twice"):
        read_checkpoint(res["weights"])
