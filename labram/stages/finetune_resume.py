"""The checks ``labram finetune --resume`` makes before it writes anything: the run's folds
(``splits.json``), its seeds and its initial weights must be this command's.

Each refuses in one line (:class:`~eegprep.base.errors.UsageError`), naming the run folder and
what differs, with what to do: resume with the run's own options, or a new ``--out``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eegprep.base import strict_json
from eegprep.base.errors import UsageError
from eegprep.base.path_limits import shown_path
from eegprep.base.wording import noun
from labram.data.store_set import same_stores
from labram.data.subjects import clean_fold
from labram.stages import backbone_used
from labram.stages.tokenizer_used import read_run_record
from labram.train.run import RUN_FILES, read_run_json


def check_resumed_splits(path: Path, record: dict[str, Any]) -> None:
    """On ``--resume``, the run's ``splits.json`` must describe the same task, stores and folds
    as this command: refused (nothing written) when it does not. Its folds' subject keys are
    compared as labram now cleans them (:func:`~labram.data.subjects.clean_fold`): a run an
    earlier version started lists them as its stores held them (``"S01 "``, an NFD ``é``), and
    was refused as one of other folds. A ``splits.json`` that is damaged, or does not match its
    checksum, is refused (it was written anew, unchecked). Its ``labels``
    (:func:`~labram.data.protocols.labels_digest`) must match the stores' now: a label changed
    since (no fold moved) resumed, and seeds of the old labels were averaged with seeds of the
    new; a file an earlier labram wrote states none and is compared without."""
    before = read_run_json(path)  # (rewritten while read, or changed since written: one line)
    if not isinstance(before, dict):
        if path.exists() or path.is_symlink():  # rewriting it would erase what it should check
            raise UsageError(
                f"cannot resume {shown_path(path.parent)}: {shown_path(path)} is damaged (not a "
                "strict JSON object: cut short, or not a file), so its folds cannot be compared "
                "with this command's; restore it from a copy, or delete it to resume with this "
                "command's folds"
            )
        return  # none yet (killed before it was written): written anew
    if isinstance(before.get("folds"), list):  # an earlier version's keys: "S01 ", NFD
        before["folds"] = [clean_fold(f) for f in before["folds"]]
    now = json.loads(strict_json.dumps(record))
    if "labels" in before and before["labels"] != now.get("labels"):  # (first: folds follow)
        raise UsageError(
            f"cannot resume {shown_path(path.parent)}: the labels of task {now.get('task')!r} in "
            f"the stores changed since its run was made ({shown_path(path)} has labels "
            f"{before['labels']!r}, the stores now {now.get('labels')!r}: a label edited and "
            "ingested again), so its finished seeds were trained and scored on other labels: pass "
            "another --out for a new run"
        )
    changed = [k for k in ("task", "stores", "protocol", "split_seed", "val_split",
                           "val_rounding", "folds") if before.get(k) != now.get(k)]  # fmt: skip
    if "stores" in changed and same_stores(before.get("stores"), now.get("stores")):
        changed.remove("stores")  # (the same stores, spelled otherwise: `s.zarr/`, a link)
    if changed:
        k = changed[0]
        raise UsageError(
            f"cannot resume {shown_path(path.parent)}: its run was made with another "
            f"{', '.join(changed)} ({shown_path(path)} has {k} {before.get(k)!r:.80}, this command "
            f"{now.get(k)!r:.80}); resume with the run's own options, or pass another --out for a "
            "new run"
        )


def check_resumed_seeds(out: Path, seeds: Sequence[int]) -> None:
    """On ``--resume``, refuse (nothing written) seeds that leave out a seed the folder holds a
    run of (``seed<N>/`` or ``fold<K>/seed<N>/`` with a :data:`~labram.train.run.RUN_FILES`
    file): ``--seed 3`` over a run of seed 0 trained seed 3 beside it and wrote results.json of
    seed 3 alone, the run's seed-0 results dropped from it. More seeds (``--seeds``) than the
    run's continue it."""
    held: set[int] = set()
    for folder in [*out.glob("seed*"), *out.glob("fold*/seed*")]:
        number = folder.name[4:]
        digits = number.isascii() and number.isdigit()  # (``seed²``: isdigit, and no int)
        if digits and any((folder / f).exists() for f in RUN_FILES):
            held.add(int(number))
    dropped = sorted(held - set(seeds))
    if dropped:
        raise UsageError(
            f"cannot resume {shown_path(out)}: it holds the run of {noun(len(held), 'seed')} "
            f"{', '.join(map(str, sorted(held)))}, and this command runs "
            f"{noun(len(seeds), 'seed')} {', '.join(map(str, seeds))}, without "
            f"{', '.join(map(str, dropped))}; resume with the run's own --seed and --seeds, or "
            "pass another --out for a new run"
        )


def check_backbone(out: Path, backbone: dict[str, Any]) -> None:
    """On ``--resume``, refuse (nothing written) other initial weights than those every seed
    folder's ``config.json`` records (:func:`labram.stages.backbone_used.check_resume`)."""
    for path in sorted([*out.glob("seed*/config.json"), *out.glob("fold*/seed*/config.json")]):
        backbone_used.check_resume(path.parent, read_run_record(path.parent), backbone)


__all__ = ["check_backbone", "check_resumed_seeds", "check_resumed_splits"]
