"""Writing a weights file where `labram export` wrote one: the export (`NAME.safetensors`, its
two cards) is replaced as a unit, never left as old cards beside other weights; and what a
reader says about cards that do not describe the weights beside them.

`labram convert --force` onto an export once replaced the weights and left the cards, which
then described other weights, and no reader said so (the converted file carries no export id
to compare). The kills of that path: tests/safety/test_kill_during_export.py."""

from __future__ import annotations

import json
import os
import warnings
import zipfile
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import save_file

from eegprep.base.errors import OutputError, UsageError
from labram.checkpoints import export_journal
from labram.checkpoints.contents import save_checkpoint
from labram.checkpoints.export_journal import card_paths, journal_path
from labram.checkpoints.layouts import (
    convert_file,
    load_ours,
    ours_dict,
    save_official,
    save_ours,
    to_official,
)
from labram.checkpoints.safe_read import read_checkpoint
from labram.checkpoints.safetensors_files import is_safetensors, save_safetensors
from labram.model.classifier import LaBraMClassifier
from labram.model.config import model_config
from labram.stages.export import card_markdown, export, model_card

STALE = "describes other weights"


def _model(seed: int) -> LaBraMClassifier:
    torch.manual_seed(seed)
    return LaBraMClassifier(model_config("tiny"), 1)


@pytest.fixture()
def sources(tmp_path: Path) -> tuple[Path, Path]:
    """(our checkpoint of one model, the released layout of another)."""
    ours, released = tmp_path / "src" / "a.pt", tmp_path / "src" / "b.pth"
    save_ours(_model(0), ours)
    save_official(_model(1), released)
    return ours, released


def _exported(tmp_path: Path, src: Path) -> Path:
    out = tmp_path / "out" / "m.safetensors"
    export(src, out)
    assert all(p.exists() for p in card_paths(out))
    return out


def _read_quietly(path: Path) -> dict[str, object]:
    """read_checkpoint, failing on any warning (a card that does not describe the weights)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return dict(read_checkpoint(path))


def _cli(*args: str) -> tuple[int, str]:
    from cli import labram_cli

    res = CliRunner().invoke(labram_cli, list(args))
    return res.exit_code, res.output


def _folder(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


@pytest.mark.parametrize("direction", ["released -> ours", "ours -> released"])
def test_convert_force_over_an_export_deletes_its_cards(
    sources: tuple[Path, Path], tmp_path: Path, direction: str
) -> None:
    """The cards described the weights convert replaced: they go with them, with a warning."""
    ours, released = sources
    out = _exported(tmp_path, ours)
    src = released if direction == "released -> ours" else ours
    code, output = _cli("convert", str(src), str(out), "--force")
    assert code == 0, output
    assert _folder(out) == ["m.safetensors"]  # no card, no journal, no temporary
    assert "warning: " in output and "deleted its model cards (m.card.md, m.card.json)" in output
    assert is_safetensors(out)  # (ours -> released too: a .safetensors name holds no pickle)
    obj = _read_quietly(out)
    expected = load_ours(ours) if src == ours else None
    if expected is not None:  # the released layout of a.pt, read back
        assert obj["model"].keys() == to_official(expected).keys()  # type: ignore[attr-defined]


def test_every_writer_of_the_weights_replaces_the_export_as_a_unit(
    sources: tuple[Path, Path], tmp_path: Path
) -> None:
    """save_ours, save_official, save_safetensors, save_checkpoint (the writers behind
    `labram convert`, and the Python API) over an export: the cards go too."""
    ours, _ = sources
    writers = [
        lambda p: save_ours(_model(2), p),
        lambda p: save_official(_model(2), p),
        lambda p: save_safetensors(ours_dict(_model(2)), p),
        lambda p: save_checkpoint(ours_dict(_model(2)), p),
    ]
    for write in writers:
        out = _exported(tmp_path, ours)
        with pytest.warns(UserWarning, match=r"m\.safetensors: replaced the weights of an export"):
            write(out)
        assert _folder(out) == ["m.safetensors"]
        assert load_ours(out) if write is not writers[1] else read_checkpoint(out)["model"]
        export(ours, out, force=True)  # (the next writer starts from an export again)
        out.unlink()
        for card in card_paths(out):
            card.unlink()


def test_a_pt_beside_an_export_keeps_the_exports_cards(
    sources: tuple[Path, Path], tmp_path: Path
) -> None:
    """`NAME.card.md` is `NAME.safetensors`' card: writing `NAME.pt` leaves it."""
    ours, released = sources
    out = _exported(tmp_path, ours)
    cards = {p: p.read_bytes() for p in card_paths(out)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        convert_file(released, out.with_suffix(".pt"))
        save_ours(_model(3), out.with_suffix(".pt"))
    assert {p: p.read_bytes() for p in card_paths(out)} == cards
    assert _read_quietly(out)["export_id"]


def test_cards_without_their_weights_are_refused_unless_force(
    sources: tuple[Path, Path], tmp_path: Path
) -> None:
    """An export whose weights were deleted: its cards would seem to describe what convert
    writes; refused as an existing DST is, deleted with --force."""
    ours, released = sources
    out = _exported(tmp_path, ours)
    out.unlink()
    code, output = _cli("convert", str(released), str(out))
    assert code == 2 and output.count("\n") == 1, output
    assert output.startswith("error: DST ") and "m.card.md of an export" in output
    assert "pass --force" in output and not out.exists()
    code, output = _cli("convert", str(released), str(out), "--force")
    assert code == 0 and _folder(out) == ["m.safetensors"], output
    card = card_paths(out)[1]
    card.mkdir()
    code, output = _cli("convert", str(released), str(out), "--force")
    assert code == 2 and "m.card.json is a folder" in output and output.count("\n") == 1


@pytest.mark.parametrize("card", ["m.card.json", "m.card.md", "M.CARD.JSON"])
def test_no_writer_puts_weights_under_the_name_of_a_card(
    sources: tuple[Path, Path], tmp_path: Path, card: str
) -> None:
    """`labram convert SRC m.card.json --force` replaced an export's card with a weights file
    (which readers of m.safetensors then took for its card). Every writer of weights refuses a
    card's name up front, even with --force, in one line, and writes nothing."""
    ours, released = sources
    out = _exported(tmp_path, ours)
    dst, owner = out.with_name(card), card.split(".")[0] + ".safetensors"
    before = {p.name: p.read_bytes() for p in out.parent.iterdir()}
    for src in (released, tmp_path / "missing.pt"):  # (refused before SRC is read)
        code, output = _cli("convert", str(src), str(dst), "--force")
        assert code == 2 and output.count("\n") == 1, output
        assert output.startswith(f"error: DST {dst}: the name of a model card"), output
        assert f"of the export {owner} " in output and "give the weights another name" in output
    code, output = _cli("export", str(ours), "--out", str(dst), "--force")
    assert code == 2 and output.count("\n") == 1, output
    assert output.startswith(f"error: --out {dst}: the name of a model card"), output
    writers = [
        lambda p: save_ours(_model(2), p),
        lambda p: save_official(_model(2), p),
        lambda p: save_safetensors(ours_dict(_model(2)), p),
        lambda p: save_checkpoint(ours_dict(_model(2)), p),
        lambda p: convert_file(released, p, force=True),
    ]
    for write in writers:
        with pytest.raises(UsageError, match=f"the name of a model card of the export {owner} "):
            write(dst)
    assert {p.name: p.read_bytes() for p in out.parent.iterdir()} == before
    _read_quietly(out)
    lone = tmp_path / "elsewhere" / card  # no export there: the name is a card's all the same
    code, output = _cli("convert", str(released), str(lone))
    assert code == 2 and "the name of a model card" in output and not lone.parent.exists()


def test_convert_completes_or_refuses_an_interrupted_export_before_writing(
    sources: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A journal that cannot be completed now (its folder held by another export) once gave
    convert a warning and a write, which the journal then undid, renaming the interrupted
    export's files over convert's: now convert stops with one line and writes nothing."""
    import fcntl

    ours, released = sources
    out = _exported(tmp_path, ours)
    tmp = out.with_name(out.name + ".tmp-0123abcd")
    tmp.write_bytes(out.read_bytes())  # an interrupted export's new weights, about to be renamed
    journal_path(out).write_text(json.dumps({"files": [[out.name, tmp.name]]}))
    before = out.read_bytes()
    monkeypatch.setattr(export_journal, "LOCK_WAIT_S", 0.05)
    fd = os.open(out.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        cannot = pytest.raises(OutputError, match=r"m\.safetensors: cannot write")
        with cannot, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            convert_file(released, out, force=True)
    finally:
        os.close(fd)
    assert out.read_bytes() == before and journal_path(out).exists()
    assert sorted(p.name for p in card_paths(out) if p.exists()) == ["m.card.json", "m.card.md"]
    with pytest.warns(UserWarning) as seen:
        convert_file(released, out, force=True)
    said = " ".join(str(w.message) for w in seen)
    assert "completed an export" in said and "deleted its model cards" in said
    assert _folder(out) == ["m.safetensors"] and "export_id" not in _read_quietly(out)


def test_convert_force_replaces_a_damaged_journal(
    sources: tuple[Path, Path], tmp_path: Path
) -> None:
    """A damaged journal beside DST was left there (and warned about by every reader): the
    convert that replaces the export replaces it too."""
    ours, released = sources
    out = _exported(tmp_path, ours)
    journal_path(out).write_bytes(b"{not json")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        convert_file(released, out, force=True)
    assert _folder(out) == ["m.safetensors"]
    _read_quietly(out)


def test_a_journal_deletes_only_the_cards_of_its_weights(tmp_path: Path) -> None:
    """A journal's `remove` names only the export's cards, never the weights it renames nor any
    other file: anything else is a damaged journal, which deletes nothing."""
    out = tmp_path / "m.safetensors"
    for name in ("m.safetensors", "m.card.md", "m.card.json", "other.pt"):
        (tmp_path / name).write_text(name)
    tmp = out.with_name(out.name + ".tmp-0123abcd")
    for remove in (["other.pt"], ["m.safetensors"], ["../m.card.md"], "m.card.md"):
        tmp.write_text("new")
        doc = {"files": [[out.name, tmp.name]], "remove": remove}
        journal_path(out).write_text(json.dumps(doc))
        with pytest.warns(UserWarning, match="damaged"):
            export_journal.finish_or_warn(out, [p.name for p in (out, *card_paths(out))])
        assert (tmp_path / "other.pt").exists() and out.read_text() == "m.safetensors"
    doc = {"files": [[out.name, tmp.name]], "remove": ["m.card.md"]}
    journal_path(out).write_text(json.dumps(doc))
    assert export_journal.finish(out, [p.name for p in (out, *card_paths(out))]) == "completed"
    assert _folder(out) == ["m.card.json", "m.safetensors", "other.pt"]
    assert out.read_text() == "new"


# -- what readers say about the cards -------------------------------------------------------


def test_a_reader_names_cards_left_beside_weights_that_are_no_export(
    sources: tuple[Path, Path], tmp_path: Path
) -> None:
    """What convert left before this fix (the weights replaced, an export's cards kept): the
    weights carry no export id, and no reader said a word. They now name each card."""
    ours, released = sources
    out = _exported(tmp_path, ours)
    cards = {p: p.read_bytes() for p in card_paths(out)}
    for write in (
        lambda: convert_file(released, out, force=True),  # ours, as safetensors
        lambda: save_file({"w": torch.zeros(2)}, str(out)),  # another tool's safetensors
        lambda: torch.save({"model": to_official(load_ours(ours))}, out),  # a pickle so named
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (convert deleting the cards says so)
            write()
        for card, data in cards.items():
            card.write_bytes(data)
        with pytest.warns(UserWarning, match=STALE) as seen:
            read_checkpoint(out)
        named = sorted(Path(str(w.message).split(" ")[0]).name for w in seen)
        assert named == ["m.card.json", "m.card.md"], [str(w.message) for w in seen]


def test_an_export_without_an_export_id_keeps_its_cards_quiet(
    sources: tuple[Path, Path], tmp_path: Path
) -> None:
    """An export of a labram before export ids: its cards carry the weights' SHA-256, and a
    reader takes them as the weights' own (no warning)."""
    from labram.checkpoints.load import load_model

    ours, _ = sources
    out = tmp_path / "m.safetensors"
    save_safetensors(ours_dict(load_ours(ours)), out)
    card = model_card(load_model(ours, what="export"), out, export_id=None)
    card_paths(out)[0].write_text(card_markdown(card))
    card_paths(out)[1].write_text(json.dumps(card))
    assert "export_id" not in _read_quietly(out)


def test_an_export_with_cards_deleted_or_edited_by_hand(
    sources: tuple[Path, Path], tmp_path: Path
) -> None:
    """Weights shared without their cards, or cards a user edited keeping their export id, are
    read without a word; a card whose export id was edited away is named."""
    ours, _ = sources
    out = _exported(tmp_path, ours)
    md, js = card_paths(out)
    md.write_text(md.read_text() + "\n## Notes\n\nFine-tuned on our site's data.\n")
    _read_quietly(out)
    doc = json.loads(js.read_text())
    js.write_text(json.dumps({**doc, "notes": "fine-tuned on our site's data"}, indent=1))
    _read_quietly(out)
    md.unlink()
    _read_quietly(out)
    js.write_text(json.dumps({**doc, "export_id": "0" * 64}))
    with pytest.warns(UserWarning, match=r"m\.card\.json describes other weights"):
        read_checkpoint(out)
    js.unlink()
    _read_quietly(out)


def _damaged_json(text: str) -> dict[str, str]:
    """A ``.card.json`` damaged or edited out of shape, several ways, each still holding every
    id it held (what a text search found)."""
    doc = json.loads(text)
    return {
        "not JSON (a trailing comma)": text.rstrip()[:-1] + ",}",
        "not strict JSON (NaN)": text.replace('"size_bytes": ', '"x": NaN, "size_bytes": ', 1),
        "cut short": text[: text.index('"license"')],
        "no longer an object": json.dumps([doc]),
        "its fields rewritten": json.dumps({"name": "m", "ids": [doc["sha256"], doc["export_id"]]}),
        "sha256 malformed": json.dumps({**doc, "sha256": doc["sha256"] + "0"}),
        "export id malformed": json.dumps({**doc, "export_id": [doc["export_id"]]}),
    }


def _damaged_markdown(text: str) -> dict[str, str]:
    """A ``.card.md`` edited out of shape, each still holding every id it held."""
    lines = text.split("\n")
    sha = next(line for line in lines if line.startswith("| sha256 |"))
    export_row = next(line for line in lines if line.startswith("| export id |"))
    return {
        "sha256 row gone, its hash in a note": text.replace(sha, "") + f"\nwas {sha[11:]}\n",
        "sha256 row broken": text.replace(sha, sha.replace(" | `", " | ``")),
        "export id row broken": text.replace(export_row, export_row.replace("`", "")),
        "export id row twice": text.replace(export_row, f"{export_row}\n| export id | `-` |"),
        "no title": text.split("\n", 1)[1],
        "not UTF-8": text + "\n\udcff",
    }


@pytest.mark.parametrize("export_ids", [True, False], ids=["export", "older export"])
def test_a_damaged_card_holding_the_right_id_is_named(
    sources: tuple[Path, Path], tmp_path: Path, export_ids: bool
) -> None:
    """Readers compared a card with the weights by a text search for the export id (or, for
    weights without one, their SHA-256): a card damaged or edited by hand out of shape passed
    as long as the id was still somewhere in it. Each card is now read by its structure, and a
    damaged one is named in one warning line (the other card says nothing)."""

    ours, _ = sources
    out = _exported(tmp_path, ours)
    if not export_ids:
        _as_an_older_export(ours, out)
    _read_quietly(out)
    for path, damages in zip(card_paths(out), (_damaged_markdown, _damaged_json), strict=True):
        good = path.read_text()
        for how, text in damages(good).items():
            if not export_ids and "export id" in how:
                continue  # (an older card states none)
            path.write_bytes(text.encode("utf-8", "surrogateescape"))
            with pytest.warns(UserWarning) as seen:
                read_checkpoint(out)
            said = [str(w.message) for w in seen]
            assert len(said) == 1 and "\n" not in said[0], (how, said)
            assert said[0].startswith(f"{path}: damaged ("), (how, said)
            assert "labram export ... --force" in said[0], (how, said)
        path.write_text(good)
        _read_quietly(out)


def test_export_force_over_what_convert_wrote(sources: tuple[Path, Path], tmp_path: Path) -> None:
    """The reverse: an export onto weights without cards is refused without --force, and with
    it writes the three files as one export."""
    ours, released = sources
    out = tmp_path / "out" / "m.safetensors"
    convert_file(released, out)
    code, output = _cli("export", str(ours), "--out", str(out))
    assert code == 2 and "--out" in output and "exists: pass --force" in output
    code, output = _cli("export", str(ours), "--out", str(out), "--force")
    assert code == 0, output
    assert _folder(out) == ["m.card.json", "m.card.md", "m.safetensors"]
    export_id = _read_quietly(out)["export_id"]
    assert json.loads(card_paths(out)[1].read_text())["export_id"] == export_id


def test_a_torch_file_named_safetensors_is_read(tmp_path: Path) -> None:
    """What `labram convert OURS DST.safetensors` wrote before: a torch.save zip under a
    .safetensors name, which torch.load (given the path) reads as safetensors and fails on."""
    path = tmp_path / "old.safetensors"
    torch.save({"model": to_official(_model(4))}, path)
    assert zipfile.is_zipfile(path)
    assert read_checkpoint(path)["model"].keys() == to_official(_model(4)).keys()


@pytest.mark.parametrize("export_ids", [True, False], ids=["export", "older export"])
def test_a_card_naming_another_weights_file_is_named(
    sources: tuple[Path, Path], tmp_path: Path, export_ids: bool
) -> None:
    """A card's ``file`` was never compared with the weights' name: an export renamed with its
    cards, or a card copied from another export keeping the right id, passed without a word.
    Each such card is now one warning line naming both names; the weights are read (they are
    the card's), and a link's target name, or a name with Markdown's special characters, is
    the card's own."""

    ours, _ = sources
    out = tmp_path / "out" / "my_model [v2] *.safetensors"
    export(ours, out)
    if not export_ids:
        _as_an_older_export(ours, out)
    _read_quietly(out)  # (the Markdown card escapes the name it states)
    link = out.with_name("latest.safetensors")
    link.symlink_to(out.name)
    for card, linked in zip(card_paths(out), card_paths(link), strict=True):
        linked.symlink_to(card.name)
    _read_quietly(link)  # a link's cards name its target
    renamed = out.with_name("renamed.safetensors")
    for src, dst in zip((out, *card_paths(out)), (renamed, *card_paths(renamed)), strict=True):
        src.rename(dst)
    with pytest.warns(UserWarning) as seen:
        assert read_checkpoint(renamed)
    said = sorted(str(w.message) for w in seen)
    assert len(said) == 2 and all("\n" not in s for s in said), said
    for card, line in zip(sorted(str(p) for p in card_paths(renamed)), said, strict=True):
        assert line.startswith(f"{card} names the weights file "), line
        assert "not 'renamed.safetensors': it describes these weights" in line, line
    md, js = card_paths(renamed)
    md.unlink()
    doc = json.loads(js.read_text())
    js.write_text(json.dumps({**doc, "file": "renamed.safetensors"}))
    _read_quietly(renamed)
    js.write_text(json.dumps({**doc, "file": "other.safetensors"}))  # copied from elsewhere
    with pytest.warns(UserWarning, match=r"names the weights file 'other\.safetensors', not "):
        read_checkpoint(renamed)
    js.write_text(json.dumps({**doc, "file": None}))
    with pytest.warns(UserWarning, match=r"damaged \(its file None is not a file name\)"):
        read_checkpoint(renamed)


def _as_an_older_export(ours: Path, out: Path) -> None:
    """Make ``out`` an export of a labram before export ids: the weights written again without
    one, and cards that state their SHA-256 instead."""
    from labram.checkpoints.load import load_model

    with pytest.warns(UserWarning, match="deleted its model cards"):
        save_safetensors(ours_dict(load_ours(ours)), out)
    card = model_card(load_model(ours, what="export"), out, export_id=None)
    card_paths(out)[0].write_text(card_markdown(card))
    card_paths(out)[1].write_text(json.dumps(card))
