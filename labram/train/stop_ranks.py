"""The one line of a training step that every rank of a torchrun run stops at: the rank that
knows why.

A batch holding samples no EEG has on rank 1 made rank 1's loss NaN, and through DDP's
all-reduce every rank's gradients; rank 0, whose own batch was sound, stopped on the generic
"the gradients are nan ... lower the learning rate" line, and as the main rank its line was the
one printed (an every-rank error), so the line naming the recording never reached the user.
:func:`stop_line_of_ranks` hands every rank each rank's own line at that step (as strict JSON in
a byte tensor, gathered: nothing is unpickled), and every rank raises the most telling one:
the first rank's that names samples, else the first whose own loss was not finite, else rank
0's. Collective, and called only where every rank stops together: their gradients, all-reduced,
are not finite alike.
"""

from __future__ import annotations

import torch

from labram.train.distributed import gather_json

NAMES_SAMPLES, OWN_LOSS, GRADIENTS = 2, 1, 0
"""How much a rank's line says (the higher, the more): it names the samples of its batch, its
own loss was not finite, or it saw only the all-reduced gradients."""


def stop_line_of_ranks(rank_line: tuple[int, str], device: torch.device) -> str:
    """The line every rank raises: of the ``(how much it says, line)`` of each rank (this
    rank's: ``rank_line``), the first rank's that says most; this rank's own line in one
    process. Collective: every rank calls it at the same step. ``device``: the rank's (NCCL
    gathers CUDA tensors only)."""
    said = gather_json([int(rank_line[0]), str(rank_line[1])], device)
    most = max(int(level) for level, _ in said)
    return next(str(line) for level, line in said if int(level) == most)


__all__ = ["GRADIENTS", "NAMES_SAMPLES", "OWN_LOSS", "stop_line_of_ranks"]
