"""``labram export``: safe weights out (safetensors), with a model card beside them.

Any checkpoint labram reads (ours, a training ``last.pt``, the released layouts) becomes
``NAME.safetensors`` in our layout: the state dict as its tensors (the model's own names:
``safetensors.torch.load_file`` gives what ``model.load_state_dict`` takes), and the entries that
rebuild the model (kind, config, outputs) plus what the checkpoint records (pre-training subjects,
task) as JSON metadata. Every command that reads a checkpoint reads it back
(:func:`labram.checkpoints.safe_read.read_checkpoint`). Beside it: ``NAME.card.md`` (for people) and
``NAME.card.json`` (the same facts, strict JSON).
"""

from __future__ import annotations

import contextlib
import os
import shlex
from pathlib import Path
from typing import Any

from eegprep.base import strict_json
from eegprep.base.errors import UsageError
from eegprep.base.field_text import noted_text
from eegprep.base.files import claim_temporary, discard, remove_stale_temporaries
from eegprep.base.path_limits import shown_path
from eegprep.base.version import __version__
from eegprep.cli_group import markdown_line, shown_line
from labram.checkpoints import made_by
from labram.checkpoints.cards import EXPORT_ID, file_sha256
from labram.checkpoints.export_journal import (
    card_paths,
    check_not_card_name,
    finish,
    journal_path,
    switch,
)
from labram.checkpoints.layouts import count_parameters, ours_dict
from labram.checkpoints.load import Loaded, load_model
from labram.checkpoints.output_paths import check_not_source, check_output, writing
from labram.checkpoints.safetensors_files import content_digest, save_safetensors
from labram.data.windows import TRAIN_CONFIG_KEY as TRAIN_CONFIG
from labram.stages import backbone_used, tokenizer_used
from labram.stages.provenance_records import sound_or_none
from labram.train.leakage import KEY as SUBJECTS_KEY
from labram.train.leakage import record_of
from labram.train.run import read_run_json

FORMATS = ("safetensors",)
LICENSE_NOTE = (
    "labram's MIT license covers the code, not these weights. Weights inherit the terms of the "
    "data they were trained on (e.g. the TUH EEG Corpus data use agreement: no redistribution "
    "of the data) and, when initialised from the released LaBraM weights, the terms of those "
    "weights. Check both before you share this file."
)


def _json_beside(path: Path, *names: str) -> dict[str, Any]:
    """The first of ``names`` found next to ``path`` or one folder up (a run folder)."""
    for folder in (path.parent, path.parent.parent):
        for name in names:
            f = folder / name
            if f.is_file():
                data = read_run_json(f)  # (None: damaged; rewritten while read: raised)
                if isinstance(data, dict):
                    return {"file": str(f), **data}
    return {}


def _subjects(loaded: Loaded) -> dict[str, Any] | None:
    rec = record_of(loaded.info, loaded.source)
    if rec is None:
        return None
    n = rec.get("n")
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        n = len(rec["keys"]) if "keys" in rec else int(rec["sha256_64"].numel())
    return {"n": n, "complete": bool(rec.get("complete", True))}


def _tokenizer(loaded: Loaded) -> dict[str, Any] | None:
    """The tokenizer whose codes a masked-modelling model was trained to predict
    (:func:`labram.stages.tokenizer_used.found_in`); None when the file holds none."""
    return tokenizer_used.found_in(loaded.info, source=loaded.source)


def _task(loaded: Loaded) -> dict[str, Any] | None:
    """The task record of a classifier: its own, else the run folder's built-in task."""
    # (a last.pt's in its extra)
    record = tokenizer_used.found_in(loaded.info, "task", source=loaded.source)
    if record is not None:
        return record
    name = _json_beside(Path(loaded.source), "results.json").get("task")
    if loaded.kind != "classifier" or not isinstance(name, str) or name.startswith("label:"):
        return None
    from labram.data.task_records import task_record
    from labram.data.tasks import get_task

    try:
        return task_record(get_task(name))
    except UsageError:
        return None


def model_card(
    loaded: Loaded, weights: Path, *, name: Path | None = None, export_id: str | None = None
) -> dict[str, Any]:
    """The facts of a model card: what the model is, how it was trained, on what.

    ``weights``: the file whose bytes the card describes (size, SHA-256); ``name``: the name
    it will have, when it is still under a temporary one (default ``weights``); ``export_id``:
    the weights' :func:`~labram.checkpoints.safetensors_files.content_digest`, which the
    weights' metadata carries too (a reader warns when a card beside them has another).
    """
    name = name or weights
    src = Path(loaded.source)
    training = loaded.info.get("config") if loaded.layout == "training" else None
    if isinstance(loaded.info.get(TRAIN_CONFIG), dict):  # what the stage saved with the model
        training = loaded.info[TRAIN_CONFIG]
    run = _json_beside(src, "config.json") if training is None else {}
    run = {k: v for k, v in run.items() if k not in made_by.ENTRIES}  # (the run's, no setting)
    results = _json_beside(src, "results.json")
    task = tokenizer_used.found_in(loaded.info, "task", source=loaded.source) or results.get("task")
    config = getattr(loaded.model, "config")  # noqa: B009 - every model of ours has one
    return {
        "name": name.stem,
        "file": name.name,
        "sha256": file_sha256(weights),
        EXPORT_ID: export_id,
        made_by.KEY: __version__,  # the labram that exported it; the checkpoint's: in source
        "size_bytes": weights.stat().st_size,
        "source": {
            "checkpoint": str(src),
            "layout": loaded.layout,
            made_by.KEY: made_by.recorded(loaded.info),  # (None: an earlier labram's, another's)
        },
        "kind": loaded.kind,
        "n_parameters": count_parameters(loaded.model, trainable_only=False),
        "n_outputs": getattr(loaded.model, "n_outputs", None),
        "model_config": config.to_dict(),
        "task": task,
        "training_config": training or {k: v for k, v in run.items() if k != "file"} or None,
        "training_config_file": run.get("file"),
        "recipe": (training or run).get("recipe"),
        "data": {
            "stores": results.get("stores"),
            "windows": results.get("windows"),
            "pretrain_subjects": _subjects(loaded),
        },
        "test_metrics": results.get("test"),
        tokenizer_used.KEY: _tokenizer(loaded),
        backbone_used.KEY: backbone_used.found_in(loaded.info, source=loaded.source),
        "license": LICENSE_NOTE,
    }


def card_markdown(card: dict[str, Any]) -> str:
    """The card as Markdown. Every text from the user (file and task names, paths, stores,
    recipe) is one escaped line (:func:`eegprep.cli_group.markdown_line`): a name holding a
    newline, ``|`` or a backtick cannot add headings, rows or code to the card. What the
    checkpoint or its run's files say (task, recipe, stores) is capped first
    (:func:`eegprep.base.field_text.noted_text`: 255 characters), so that it cannot flood it."""

    md = markdown_line

    def capped(text: object) -> str:
        return markdown_line(noted_text(str(text)))

    subjects = card["data"]["pretrain_subjects"]
    seen = (
        "not recorded (the released LaBraM weights carry no record)"
        if subjects is None
        else f"{subjects['n']}" + ("" if subjects["complete"] else " (incomplete record)")
    )
    task = card["task"]
    task_name = task.get("name") if isinstance(task, dict) else task
    stores = capped(", ".join(str(s) for s in card["data"]["stores"] or []))
    lines = [
        f"# {md(card['name'])}",
        "",
        f"LaBraM {md(card['kind'])} model, exported by labram export from "
        f"{md(card['source']['checkpoint'])} ({md(card['source']['layout'])} layout).",
        "",
        "| | |",
        "|---|---|",
        f"| file | {md(card['file'])} ({card['size_bytes']:,} bytes) |",
        f"| sha256 | `{card['sha256']}` |",  # (hex digits: safe in a code span)
        f"| export id | `{card.get(EXPORT_ID) or '-'}` |",
        *_version_row(card),
        f"| parameters | {card['n_parameters']:,} |",
        f"| outputs | {card['n_outputs'] if card['n_outputs'] is not None else '-'} |",
        f"| task | {capped(task_name or '-')} |",
        f"| training recipe | {capped(card['recipe'] or '-')} |",
        f"| training stores | {stores or '-'} |",
        f"| subjects seen in pre-training | {seen} |",
    ]
    if card["kind"] == "mem" or card.get(tokenizer_used.KEY) is not None:
        tok = card.get(tokenizer_used.KEY)
        said = tokenizer_used.describe(tok, tokenizer_used.MODEL_WITHOUT)
        lines.append(f"| tokenizer (targets) | {md(said)} |")
    if card["kind"] == "classifier" or card.get(backbone_used.KEY) is not None:
        said = backbone_used.describe(card.get(backbone_used.KEY))
        lines.append(f"| initial weights (fine-tuned from) | {md(said)} |")
    lines += [
        "",
        "## Model config",
        "",
        "```json",
        strict_json.dumps(card["model_config"], indent=2),
        "```",
        "",
    ]
    lines += _metrics_and_use(card)
    return "\n".join(lines)


def _version_row(card: dict[str, Any]) -> list[str]:
    """The card's row of the labram versions that exported the weights and wrote the
    checkpoint they come from (none for a card of an earlier labram: it records neither)."""
    exported = made_by.recorded(card)
    if exported is None:
        return []
    theirs = made_by.recorded(card["source"])  # the labram of the checkpoint
    made = f"; {theirs} (the checkpoint)" if theirs else "; the checkpoint records none"
    return [f"| labram version | {exported} (export){made} |"]


def _metrics_and_use(card: dict[str, Any]) -> list[str]:
    """The card's closing Markdown sections: the run's test metrics (if any), how to use the
    file (its name one line, quoted for the shell and for Python) and the license."""
    lines: list[str] = []
    code = shown_line(card["file"]).replace("`", "\\x60")  # one line; cannot close the fence
    if card["test_metrics"]:
        lines += [
            "## Test metrics (of the run)",
            "",
            "```json",
            strict_json.dumps(card["test_metrics"], indent=2),
            "```",
            "",
        ]
    lines += [
        "## Use",
        "",
        "```bash",
        f"labram embed --store S.zarr --checkpoint {shlex.quote(code)} --out emb.zarr",
        f"labram predict FILE.edf --checkpoint {shlex.quote(code)}"
        if card["kind"] == "classifier"
        else f"labram finetune --store S.zarr --task T --init {shlex.quote(code)}",
        "```",
        "",
        "```python",
        "from safetensors.torch import load_file",
        f"state_dict = load_file({code!r})  # our module's names; metadata 'labram'",
        "```",
        "",
        "## License",
        "",
        card["license"],
        "",
    ]
    return lines


def export(
    src: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    fmt: str = "safetensors",
    force: bool = False,
) -> dict[str, Any]:
    """Write ``src``'s model as safetensors with a model card beside it.

    The three files are written under temporary names first and renamed last, as one
    (:func:`labram.checkpoints.export_journal.switch`: a journal written before the renames,
    which the next command that reads or writes the export completes after a kill): a
    failure leaves what was there before, a kill the old three files or the new three. The
    weights' metadata and both cards carry one ``export_id``
    (:func:`~labram.checkpoints.safetensors_files.content_digest`), and every reader of the
    weights warns when a card beside them has another (a card copied from elsewhere:
    :func:`~labram.checkpoints.cards.check_cards`). Existing files are refused unless
    ``force`` (:func:`labram.checkpoints.output_paths.check_output`).

    Parameters
    ----------
    src : path
        Any checkpoint labram reads.
    out : path, optional
        ``NAME.safetensors``; default ``src`` with that suffix.
    fmt : {'safetensors'}
    force : bool
        Replace ``NAME.safetensors`` and its cards if they exist.

    Returns
    -------
    dict
        ``weights``, ``card``, ``card_json`` (paths) and the card's facts.
    """
    if fmt not in FORMATS:
        raise UsageError(f"Invalid value for `format`: allowed {', '.join(FORMATS)}; got {fmt!r}")
    if out is not None:
        check_not_card_name(out, what="--out")  # (before the checkpoint is read)
    loaded = load_model(src, what="export")
    weights = _weights_path(src, out)
    md, js = card_paths(weights)
    with contextlib.suppress(OSError):  # an export a kill interrupted (else: switch() says why)
        finish(weights, [weights.name, md.name, js.name])
    for path in (weights, md, js):
        check_output(path, force=force, what="--out" if path == weights else "model card")
    obj = _payload(loaded)
    obj[EXPORT_ID] = content_digest(obj)
    card = _write_three(loaded, obj, weights, md, js)
    for path in (weights, md, js, journal_path(weights)):  # what killed exports left
        remove_stale_temporaries(path)
    return {"weights": str(weights), "card": str(md), "card_json": str(js), **card}


def _weights_path(src: str | os.PathLike[str], out: str | os.PathLike[str] | None) -> Path:
    """The weights file an export writes (``out``, or ``src`` with the suffix
    ``.safetensors``), refused where it or a card beside it would replace ``src``."""
    weights = Path(out) if out is not None else Path(src).with_suffix(".safetensors")
    if weights.suffix != ".safetensors":
        raise UsageError(
            f"Invalid --out {shown_path(weights)}: expected a file name ending in .safetensors"
        )
    for path in (weights, *card_paths(weights)):  # none of them may replace the checkpoint
        check_not_source(src, path, what="--out" if path == weights else "model card")
    return weights


def _payload(loaded: Loaded) -> dict[str, Any]:
    """What the safetensors file holds of ``loaded`` besides its export id: the weights and
    the records that travel with them (subjects seen, training config, tokenizer, backbone,
    task, the labram versions of the export and of the checkpoint:
    :mod:`labram.checkpoints.made_by`); a malformed subject record is refused here, before
    anything is written."""
    obj = ours_dict(loaded.model)  # (its labram_version: this labram's, which exports it)
    source = made_by.recorded(loaded.info)
    if source is not None:
        obj[made_by.SOURCE_KEY] = source  # the labram that wrote the checkpoint
    subjects = record_of(loaded.info, loaded.source)
    if subjects is not None:
        obj[SUBJECTS_KEY] = subjects  # so that finetune / evaluate still check for leakage
    if isinstance(loaded.info.get(TRAIN_CONFIG), dict):
        obj[TRAIN_CONFIG] = loaded.info[TRAIN_CONFIG]
    tokenizer = sound_or_none(_tokenizer(loaded))  # (a malformed one: warned, not copied on)
    if tokenizer is not None:
        obj[tokenizer_used.KEY] = tokenizer  # which tokenizer's codes it predicts
    backbone = sound_or_none(backbone_used.found_in(loaded.info, source=loaded.source))
    if backbone is not None:
        obj[backbone_used.KEY] = backbone  # what it was fine-tuned from
    task = _task(loaded)
    if task is not None:
        obj["task"] = task  # labram predict needs no --task
    _subjects(loaded)  # (a malformed record is refused before anything is written)
    return obj


def _write_three(
    loaded: Loaded, obj: dict[str, Any], weights: Path, md: Path, js: Path
) -> dict[str, Any]:
    """Write the weights ``obj`` and both cards under claimed temporary names, then rename
    the three as one (:func:`~labram.checkpoints.export_journal.switch`); the temporaries
    are discarded on a failure before the switch. Returns the card."""
    claimed: list[Path] = []
    handed = False  # to switch(), which then owns the temporaries
    try:
        for final in (weights, md, js):
            with writing(final):  # its folder a file, say: one line naming it
                claimed.append(claim_temporary(final))
        tmp, tmp_md, tmp_js = claimed
        save_safetensors(obj, weights, at=tmp)
        card = model_card(loaded, tmp, name=weights, export_id=obj[EXPORT_ID])
        text, doc = card_markdown(card).encode(), strict_json.dumps(card, indent=2).encode()
        with writing(md):
            tmp_md.write_bytes(text)
        with writing(js):
            tmp_js.write_bytes(doc)
        handed = True
        switch(weights, [(tmp_md, md), (tmp_js, js), (tmp, weights)])
    finally:
        if not handed:
            for t in claimed:
                discard(t)
    return card


__all__ = ["FORMATS", "card_markdown", "export", "model_card"]
