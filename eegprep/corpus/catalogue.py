"""Text views of the corpus manifests, for ``eegprep corpora`` (one line each, or one in full)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eegprep.base.path_limits import shown_path
from eegprep.base.resources import doc_path
from eegprep.corpus.manifest import Manifest


def summary_line(m: Manifest) -> str:
    """``name  formats  hours  labels``: one line of the corpus list."""
    hours = f"{m.hours:g} h" if m.hours else "-"
    fmts = _clip(", ".join(m.formats) or m.reader, 26)
    return f"{m.name:<17} {fmts:<26} {hours:>9}  {m.labels_summary or '-'}"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short(value: Any, limit: int = 70) -> str:
    return _clip(repr(value), limit)


def describe(m: Manifest) -> list[str]:
    """Every fact of one manifest, one per line: identity, layout, reader, labels, quirks."""
    out = [f"{m.name}: {m.title} {m.version}".rstrip()]
    if m.description:
        out.append(f"  {m.description}")
    if m.homepage:
        out.append(f"homepage: {m.homepage}")
    hours = f"{m.hours:g} h (LaBraM pre-training)" if m.hours else "-"
    mains = f"{m.mains:g} Hz" if m.mains else "unknown (pass --mains)"
    out.append(f"formats: {', '.join(m.formats) or '-'}; hours: {hours}")
    out.append(f"mains: {mains}; unit: {m.unit}")
    if m.h_freq is not None:
        out.append(f"low-pass: {m.h_freq:g} Hz (instead of the recipe's; recorded per recording)")
    out.append(f"files: {', '.join(m.include)}")
    if m.exclude:
        out.append(f"  except: {', '.join(m.exclude)}")
    opts = ", ".join(f"{k}={_short(v, 40)}" for k, v in m.reader_options)
    out.append(f"reader: {m.reader}" + (f" ({opts})" if opts else ""))
    out += _channels(m)
    if m.pattern:
        out.append(f"path pattern: {m.pattern}")
    ids = [(k, v) for k, v in (("subject", m.subject), ("session", m.session),
                               ("split", m.split), ("subject_key", m.subject_key),
                               ("name", m.name_template)) if v]  # fmt: skip
    out.append("identity: " + ", ".join(f"{k} = {v!r}" for k, v in ids))
    for rule in m.labels:
        mapped = f" via {dict(rule.mapping)}" if rule.mapping else ""
        out.append(f"label {rule.name} = path group {rule.group!r}{mapped}")
    if m.sidecar_parser:
        where = [*(f"<file>{s}" for s in m.sidecar_suffixes), *m.sidecar_files]
        need = "required" if m.sidecar_required else "optional"
        out.append(f"sidecar: {m.sidecar_parser} ({', '.join(where) or 'no file'}; {need})")
    out.append(f"labels: {m.labels_summary or '-'}")
    out += [f"quirk: {text}" + (f" [{shown_path(src)}]" if src else "") for text, src in m.quirks]
    notes = corpus_notes(m)
    if notes:
        out.append(f"notes: {notes}")
    out.append(f"manifest: {shown_path(m.file)}")
    return out


def corpus_notes(m: Manifest) -> str | None:
    """The corpus's section of docs/corpora.md as a file on this installation (with its
    ``#anchor``), or None when the docs have no section of that name (a user's own manifest)."""
    cited = doc_path(f"docs/corpora.md#{m.name}")
    try:
        text = Path(cited.partition("#")[0]).read_text(encoding="utf-8")
    except OSError:
        return None
    return cited if f"\n### {m.name}\n" in text else None


def _channels(m: Manifest) -> list[str]:
    out = []
    if m.rename:
        dropped = [k for k, v in m.rename if v == ""]
        renamed = [f"{k}->{v}" for k, v in m.rename if v]
        if renamed:
            more = f" (+{len(renamed) - 6} more)" if len(renamed) > 6 else ""
            out.append(f"channels renamed: {', '.join(renamed[:6])}{more}")
        if dropped:
            out.append(f"channels marked non-EEG: {', '.join(dropped)}")
    if m.exclude_channels:
        out.append(f"channels excluded: {', '.join(m.exclude_channels)}")
    return out


def as_dict(m: Manifest) -> dict[str, Any]:
    """The machine-readable summary of a corpus (``eegprep corpora --json``)."""
    return {
        "name": m.name,
        "title": m.title,
        "version": m.version,
        "formats": list(m.formats) or [m.reader],
        "hours": m.hours,
        "labels": m.labels_summary,
        "mains_hz": m.mains,
        "files": list(m.include),
        "reader": m.reader,
        "sidecar_parser": m.sidecar_parser,
        "quirks": [{"text": t, "source": src} for t, src in m.quirks],
        "notes": corpus_notes(m),
        "manifest": m.file,
    }
