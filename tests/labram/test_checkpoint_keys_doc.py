"""docs/training.md's list of a training checkpoint's entries is the entries labram writes.

The list ("Checkpoints and resume") left out `threads` (the intra-op thread count the run's
sums were split by, which a resume keeps) and `rng_ranks` (every rank's generators under
torchrun), both in every `last.pt` of theirs; `labram_version` (the labram that wrote it) is
written under its constant's name.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from labram.checkpoints.made_by import KEY as MADE_BY
from labram.train.rank_rngs import KEY as RNG_RANKS

ROOT = Path(__file__).resolve().parents[2]


def _written_keys() -> set[str]:
    """The entries of ``checkpoint_dict``'s dict (labram/train/checkpoint.py), those it adds
    under a name (``RNG_RANKS``) and the final checkpoint's ``last_metrics`` (the loop's)."""
    tree = ast.parse((ROOT / "labram/train/checkpoint.py").read_text())
    func = next(
        n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "checkpoint_dict"
    )
    made = next(n.value for n in ast.walk(func) if isinstance(n, ast.Return))
    assert isinstance(made, ast.Dict)
    keys = {k.value for k in made.keys if isinstance(k, ast.Constant)}
    named = {"MADE_BY": MADE_BY}  # an entry written under a constant's name
    keys |= {named[k.id] for k in made.keys if isinstance(k, ast.Name) and k.id in named}
    assert '"last_metrics": at.last' in (ROOT / "labram/train/loop.py").read_text()
    return {str(k) for k in keys} | {RNG_RANKS, "last_metrics"}


def test_the_checkpoint_entries_the_training_page_lists_are_those_written() -> None:
    page = " ".join((ROOT / "docs" / "training.md").read_text().split())
    listed = page.split("A training checkpoint (`format_version` 2) is a plain dict:", 1)[1]
    listed = listed.split(". It is written", 1)[0]
    assert set(re.findall(r"`([a-z_]+)`", listed)) == _written_keys()
