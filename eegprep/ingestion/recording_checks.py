"""What an ingest judges of one recording beside its samples: the channels a sidecar leaves
out (BIDS ``channels.tsv``: non-EEG, bad), and the record's QC with the refusals it implies
(samples not finite, every channel constant or flat, units off, a channel louder than any
scalp potential).
"""

from __future__ import annotations

from typing import Any

from eegprep.base.errors import SourceError
from eegprep.base.strict_json import check_values
from eegprep.corpus.sidecars import SidecarResult
from eegprep.ingestion.nonfinite_source import nonfinite_problem
from eegprep.ingestion.source_channels import RateGroup, rate_groups
from eegprep.pipeline import qc
from eegprep.pipeline.channels import ChannelMapping, shown_label
from eegprep.readers.base import Header, Reader


def judge_quality(
    mains: float,
    path: str,
    mapping: ChannelMapping,
    stats: dict[str, Any],
    head: qc.HeadChecks,
    ranged: list[bool],
    source: tuple[type[Reader], Header],
) -> tuple[dict[str, Any], list[str]]:
    """The record's ``qc`` and the report's QC warnings (``mains``: the corpus's line
    frequency in Hz), from the written samples' statistics
    and the checks of the source's head (of the first rate group; ``ranged``: whether each
    channel's source states its physical range); a recording that fails a
    check (samples not finite, every channel constant or flat, units off, a channel louder than
    any scalp potential) is refused. ``source``: its reader and header, read again only to
    say why a channel's samples are not finite (:func:`nonfinite_problem`)."""
    names = list(mapping.names)
    flags, more = qc.summarize(stats["rms"], names, head, mains)
    if any(stats["n_nonfinite"]):
        bad = [
            (src, name)
            for src, name, k in zip(mapping.source_indices, names, stats["n_nonfinite"])
            if k
        ]
        raise SourceError(path, nonfinite_problem(*source, bad))
    if head.constant:
        raise SourceError(path, "every EEG channel is constant: nothing to learn from")
    problem = qc.unit_problem(flags["median_rms_uv"]) or qc.loud_problem(
        stats["rms"], names, ranged
    )
    if problem:
        raise SourceError(path, problem)
    if len(flags["flat_channels"]) == len(names):
        raise SourceError(path, "every EEG channel is flat (RMS under 0.1 uV after filtering)")
    quality = {**flags, "rms_uv": stats["rms"]}
    check_values(quality, path, "QC")
    return quality, more


def channel_status(
    path: str,
    header: Header,
    mapping: ChannelMapping,
    groups: list[RateGroup],
    sidecar: SidecarResult,
) -> tuple[ChannelMapping, list[RateGroup]]:
    """Leave out the channels a sidecar types as non-EEG or marks bad (BIDS channels.tsv).

    Each one left out joins ``dropped_channels`` with the reason, and one line goes to the
    sidecar's problems (the report). Labels are matched as spelled, then stripped.
    """
    if not sidecar.channels:
        return mapping, groups
    status = {**{k.strip(): v for k, v in sidecar.channels.items()}, **sidecar.channels}
    keep: list[int] = []
    dropped = list(mapping.dropped)
    for pos, src in enumerate(mapping.source_indices):
        label = header.signals[src].label
        kind, state, why = status.get(label, status.get(label.strip(), ("", "", "")))
        if kind and kind != "EEG":
            dropped.append((label, f"non-EEG (channels.tsv type {kind})"))
        elif state == "bad":
            dropped.append((label, "bad in channels.tsv" + (f": {why}" if why else "")))
        else:
            keep.append(pos)
    if len(keep) == mapping.n_channels:
        return mapping, groups
    if not keep:
        raise SourceError(path, "channels.tsv marks every EEG channel bad or types it non-EEG")
    left_out = [shown_label(d[0]) for d in dropped[len(mapping.dropped) :]]
    sidecar.problems.append(f"left out, as channels.tsv says (bad, not EEG): {', '.join(left_out)}")
    kept = ChannelMapping(
        tuple(mapping.source_indices[p] for p in keep),
        tuple(mapping.names[p] for p in keep),
        tuple(mapping.indices[p] for p in keep),
        tuple(dropped),
    )
    return kept, rate_groups(header, kept)


__all__ = ["channel_status", "judge_quality"]
