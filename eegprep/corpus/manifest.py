"""Corpus manifests: one declarative TOML file per corpus, validated on load.

A manifest says which files make up a corpus, which reader opens them, how channel names
normalise, the mains frequency and units, how subject / session / split / labels are read from
each file's path, and which named sidecar parser gives labels and events. The format is
documented in docs/manifest-format.md; the shipped manifests live in the repository's
``manifests/`` and, in a wheel, in ``eegprep/manifests/`` (package data). A user's own manifest
(``--manifest FILE``) needs no code change.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eegprep.base.errors import ManifestError, UsageError
from eegprep.base.field_text import clean_text
from eegprep.base.file_urls import local_path
from eegprep.base.path_limits import shown_path
from eegprep.base.resources import shipped_dir
from eegprep.base.strict_json import find_beyond_int64, find_not_finite, find_unsafe
from eegprep.base.toml_files import load_toml
from eegprep.base.wording import counted
from eegprep.corpus.patterns import parse_patterns, path_fields
from eegprep.pipeline.channels import rename_problem, shown_label
from eegprep.readers.base import DEFAULT_UNIT, unit_to_uv

MANIFEST_DIR = shipped_dir("manifests")
"""The shipped manifests: package data of the installed package, or the checkout's folder."""

DESCRIPTIVE_KEYS = frozenset(
    {"title", "description", "version", "homepage", "hours", "labels_summary", "formats", "quirks"}
)
"""Manifest keys that describe the corpus for people and change nothing that is stored."""

SELECTING_KEYS = frozenset({"files"})
"""Manifest keys that choose which files are ingested and change nothing stored of any of them
(``[files] include`` / ``exclude``, ``--include``): ingesting part of a corpus, then all of it,
re-ingests nothing the first run wrote."""

# key -> (type(s), required). Nested tables are validated by their own schema below.
_TOP: dict[str, tuple[type | tuple[type, ...], bool]] = {
    "name": (str, True),
    "title": (str, True),
    "description": (str, False),
    "version": (str, False),
    "homepage": (str, False),
    "mains": ((int, float), True),
    "h_freq": ((int, float), False),
    "unit": (str, False),
    "hours": ((int, float), False),
    "labels_summary": (str, False),
    "formats": (list, False),
    "files": (dict, True),
    "reader": (dict, True),
    "channels": (dict, False),
    "path": (dict, False),
    "labels": (dict, False),
    "sidecar": (dict, False),
    "quirks": (list, False),
}
_FILES = {"include": (list, True), "exclude": (list, False)}
_READER = {"name": (str, True), "options": (dict, False)}
_CHANNELS = {"rename": (dict, False), "exclude": (list, False), "on_unknown": (str, False)}
_PATH = {
    "pattern": ((str, list), False),
    "subject": (str, False),
    "session": (str, False),
    "split": (str, False),
    "subject_key": (str, False),
    "name": (str, False),
}
_SIDECAR = {"parser": (str, True), "suffixes": (list, False), "files": (list, False),
            "required": (bool, False), "options": (dict, False), "always": (bool, False),
            "annotations": (str, False)}  # fmt: skip
# Schema extensions (see docs/manifest-format.md):
# - path.pattern may be a list of regexes, tried in order (first match wins), so that one
#   corpus can hold differently shaped paths (TUEV train vs eval) with the same group names.
# - sidecar.files: templates, relative to the corpus root, of sidecars that do not share the
#   recording's stem ("{dir}/Seizures-list-{subject}.txt"); path fields and glob wildcards.
# - sidecar.always: call the parser even when no sidecar file exists (it reads the header's own
#   annotations, as for EEGMMIDB).
# - sidecar.annotations: "keep" (default) stores the recording's own annotations as events
#   beside the parser's; "replace" stores only the parser's (it has re-labelled them).
_QUIRK = {"text": (str, True), "source": (str, False)}


@dataclass(frozen=True)
class LabelRule:
    """A recording-level label read from a path field: ``value = map[group]`` (or the raw text).
    The field and the map's keys are compared as the record text rule cleans them
    (:func:`~eegprep.base.field_text.clean_text`: a folder ``"é"`` in NFD, as macOS names it,
    or ``" left"`` finds the key ``"é"`` or ``"left"``)."""

    name: str
    group: str
    mapping: tuple[tuple[str, Any], ...] = ()

    def value(self, fields: dict[str, str]) -> Any:
        raw = fields.get(self.group)
        if not raw:  # the group did not take part in the match: no label
            return None
        if not self.mapping:
            return raw
        table = {clean_text(k): v for k, v in self.mapping}
        if clean_text(raw) not in table:
            raise UsageError(f"label {self.name!r}: value {raw!r} not in {sorted(table)}")
        return table[clean_text(raw)]


@dataclass(frozen=True, kw_only=True)
class Manifest:
    """A validated corpus manifest. Build with :func:`load_manifest`."""

    name: str
    title: str
    file: str
    mains: float
    include: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    reader: str = "edf"
    reader_options: tuple[tuple[str, Any], ...] = ()
    unit: str = "uV"
    rename: tuple[tuple[str, str], ...] = ()
    exclude_channels: tuple[str, ...] = ()
    on_unknown: str = "warn"
    pattern: str | None = None
    patterns: tuple[str, ...] = ()
    subject: str = ""
    session: str = ""
    split: str = ""
    subject_key: str = ""
    name_template: str = "{stem}"
    labels: tuple[LabelRule, ...] = ()
    sidecar_parser: str | None = None
    sidecar_suffixes: tuple[str, ...] = ()
    sidecar_files: tuple[str, ...] = ()
    sidecar_required: bool = False
    sidecar_options: tuple[tuple[str, Any], ...] = ()
    sidecar_always: bool = False
    sidecar_annotations: str = "keep"
    description: str = ""
    version: str = ""
    homepage: str = ""
    hours: float | None = None
    h_freq: float | None = None
    labels_summary: str = ""
    formats: tuple[str, ...] = ()
    quirks: tuple[tuple[str, str], ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def fields(self, relpath: str) -> dict[str, str] | None:
        """Named groups of the first path pattern that matches a file (``None``: none does)."""
        patterns = self.patterns or ((self.pattern,) if self.pattern else ())
        return path_fields(patterns, relpath)

    def hash(self) -> str:
        """A hash of what shapes the stored data; prose and catalogue facts are left out, so
        rewording a description or a quirk does not make a store re-ingest its corpus, and so
        are the globs choosing the files (:data:`SELECTING_KEYS`); the keys of every table
        are taken in sorted order, so that reordering them (TOML gives them no order) does
        not either. Lists keep their order (a list of label rules is tried in it)."""
        shaping = {k: v for k, v in self.raw.items() if k not in DESCRIPTIVE_KEYS | SELECTING_KEYS}
        return _digest(sorted((k, _sorted_tables(v)) for k, v in shaping.items()))

    def hashes(self) -> frozenset[str]:
        """:meth:`hash` and the hashes earlier versions computed, with ``[files]`` in, and
        one of them with the top-level keys alone sorted: a record that states any was
        ingested under this manifest (a store an earlier version wrote is not re-ingested
        whole for the change of hash)."""
        shaping = {k: v for k, v in self.raw.items() if k not in DESCRIPTIVE_KEYS}
        return frozenset(
            {
                self.hash(),
                _digest(sorted((k, _sorted_tables(v)) for k, v in shaping.items())),
                _digest(sorted(shaping.items())),
            }
        )


def _sorted_tables(value: Any) -> Any:
    """``value`` with the keys of every table in it in sorted order (lists as they are)."""
    if isinstance(value, dict):
        return {k: _sorted_tables(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted_tables(v) for v in value]
    return value


def _digest(shaping: list[tuple[str, Any]]) -> str:
    """The first 12 hex digits of the SHA-256 of ``repr(shaping)``."""
    return hashlib.sha256(repr(shaping).encode()).hexdigest()[:12]


def _check_table(file: str, where: str, table: dict[str, Any], schema: dict[str, Any]) -> None:
    """One table against its schema: no unknown key, each of its type, none required missing."""
    for key, value in table.items():
        if key not in schema:
            import difflib

            near = difflib.get_close_matches(key, list(schema), n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ManifestError(f"{shown_path(file)}: unknown key {where}{key!r}{hint}")
        types, _ = schema[key]
        # (a TOML ``true`` is a Python int: ``h_freq = true`` was a 1 Hz low-pass, ``hours =
        # true`` 1 hour; a bool is taken only where the schema names bool)
        allowed = types if isinstance(types, tuple) else (types,)
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in allowed):
            expected = (
                types.__name__ if isinstance(types, type) else "/".join(t.__name__ for t in types)
            )
            got = type(value).__name__
            raise ManifestError(
                f"{shown_path(file)}: key {where}{key!r} must be {expected}, got {got}"
            )
    for key, (_, required) in schema.items():
        if required and key not in table:
            raise ManifestError(f"{shown_path(file)}: missing required key {where}{key!r}")


def _strings(file: str, where: str, values: list[Any]) -> tuple[str, ...]:
    """A list that must hold only strings, as a tuple."""
    for v in values:
        if not isinstance(v, str):
            raise ManifestError(f"{shown_path(file)}: {where} must hold strings, got {v!r}")
    return tuple(values)


def parse_manifest(data: dict[str, Any], file: str) -> Manifest:
    """Validate a parsed TOML document and build a :class:`Manifest`.

    The checks run in a fixed order, which decides what a manifest with several mistakes is
    refused for: every table's keys and types first, then the values that must be one of a few
    or name something known, then each section as it is read into the manifest's fields.
    """
    _check_tables(file, data)
    files, reader = data["files"], data["reader"]
    channels = data.get("channels", {})
    path = data.get("path", {})
    sidecar = data.get("sidecar", {})
    patterns = parse_patterns(file, path.get("pattern"))
    annotations = _sidecar_annotations(file, sidecar)
    _check_mains(file, data["mains"])
    _check_unit(file, data.get("unit", DEFAULT_UNIT))
    _check_corpus_name(file, data["name"])
    on_unknown = _on_unknown(file, channels)
    _check_reader_name(file, reader["name"])
    quirks = _quirks(file, data.get("quirks", []))
    rename = _rename(file, channels)
    return Manifest(
        file=file,
        **_files_fields(file, files),
        **_reader_fields(file, reader),
        **_channels_fields(file, channels, on_unknown, rename),
        **_path_fields(path, patterns),
        labels=_label_rules(file, data.get("labels", {})),
        **_sidecar_fields(file, sidecar, annotations),
        **_corpus_fields(file, data, quirks),
        raw=data,
    )


def _check_tables(file: str, data: dict[str, Any]) -> None:
    """Keys and types of the document and of each table in it; the sidecar parser must exist."""
    _check_table(file, "", data, _TOP)
    _check_table(file, "files.", data["files"], _FILES)
    _check_table(file, "reader.", data["reader"], _READER)
    _check_table(file, "channels.", data.get("channels", {}), _CHANNELS)
    _check_table(file, "path.", data.get("path", {}), _PATH)
    sidecar = data.get("sidecar", {})
    if sidecar:
        _check_table(file, "sidecar.", sidecar, _SIDECAR)
        _check_sidecar_parser(file, sidecar["parser"])


def _sidecar_annotations(file: str, sidecar: dict[str, Any]) -> str:
    """``sidecar.annotations``: ``"keep"`` (the default) or ``"replace"``."""
    annotations = sidecar.get("annotations", "keep")
    if annotations not in ("keep", "replace"):
        raise ManifestError(
            f"{shown_path(file)}: key sidecar.annotations must be 'keep' or 'replace', got "
            f"{annotations!r}"
        )
    return annotations


def _finite(value: float) -> bool:
    """Whether a TOML number is finite and within what a float holds (``nan``, ``inf`` and an
    integer of 400 digits, which ``float()`` raised on, are not)."""
    if isinstance(value, int):
        return find_beyond_int64(value) is None
    return math.isfinite(value)


def _check_mains(file: str, mains: float) -> None:
    """``mains``: 50 or 60 (Hz), or 0 when it is unknown. Anything else (TOML's ``nan`` and
    ``inf`` too) is refused here, once, naming the manifest: a NaN was refused by every file
    it reached, in a line naming that file, and a 55 notched the samples at 55 Hz."""
    if isinstance(mains, bool) or mains not in (0, 50, 60):
        raise ManifestError(
            f"{shown_path(file)}: key mains must be 50, 60 or 0 (unknown), got {mains!r}"
        )


def _check_unit(file: str, unit: str) -> None:
    """``unit``, what a channel whose file states no unit is in, must be a voltage."""
    if unit_to_uv(unit) is None:
        raise ManifestError(
            f"{shown_path(file)}: key unit must be a voltage (uV, mV, V or nV: the unit of the "
            f"samples of a file that states none), got {unit!r}"
        )


def _on_unknown(file: str, channels: dict[str, Any]) -> str:
    """``channels.on_unknown``: ``"raise"``, ``"warn"`` (the default) or ``"ignore"``."""
    on_unknown = channels.get("on_unknown", "warn")
    if on_unknown not in ("raise", "warn", "ignore"):
        raise ManifestError(
            f"{shown_path(file)}: key channels.on_unknown must be 'raise', 'warn' or 'ignore', got "
            f"{on_unknown!r}"
        )
    return on_unknown


def _check_reader_name(file: str, name: str) -> None:
    """``reader.name``: one of :data:`eegprep.readers.READERS`."""
    from eegprep.readers import READERS

    if name not in READERS:
        raise ManifestError(
            f"{shown_path(file)}: key reader.name is {name!r}; known readers: {', '.join(READERS)}"
        )


def _quirks(file: str, items: list[Any]) -> tuple[tuple[str, str], ...]:
    """``quirks``: tables of ``text`` and, optionally, ``source``, as (text, source) pairs."""
    quirks = []
    for i, q in enumerate(items):
        if not isinstance(q, dict):
            raise ManifestError(
                f"{shown_path(file)}: quirks[{i}] must be a table with `text` and `source`"
            )
        _check_table(file, f"quirks[{i}].", q, _QUIRK)
        quirks.append((q["text"], q.get("source", "")))
    return tuple(quirks)


def _rename(file: str, channels: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """``channels.rename``: a table of channel name -> new name (a string), sorted by name."""
    rename = channels.get("rename", {})
    for k, v in rename.items():
        if not isinstance(v, str):
            raise ManifestError(
                f"{shown_path(file)}: channels.rename.{k} must be a string, got {v!r}"
            )
        problem = rename_problem(v)
        if problem:
            raise ManifestError(
                f"{shown_path(file)}: channels.rename.{shown_label(k)} = {shown_label(v)} {problem}"
            )
    return tuple(sorted(rename.items()))


MAX_PATTERNS = 1000
"""Most globs in ``files.include`` and in ``files.exclude`` (and ``--include``): every file
found is matched against each, so a list of 10^6 took minutes per file; a real corpus needs a
handful."""


def too_many_patterns(where: str, n: int) -> str | None:
    """The problem with a list of ``n`` globs at ``where``; ``None`` when there are not too
    many."""
    if n <= MAX_PATTERNS:
        return None
    return (
        f"{where} holds {counted(n, 'pattern')}, more than {MAX_PATTERNS}: every file is matched "
        "against each; cover them with fewer globs (`**/bad_*.edf`)"
    )


def _files_fields(file: str, files: dict[str, Any]) -> dict[str, Any]:
    """The ``[files]`` table: the globs of the files to include and to exclude."""
    out = {
        "include": _strings(file, "files.include", files["include"]),
        "exclude": _strings(file, "files.exclude", files.get("exclude", [])),
    }
    for key, globs in out.items():
        problem = too_many_patterns(f"files.{key}", len(globs))
        if problem:
            raise ManifestError(f"{shown_path(file)}: {problem}")
    return out


def _reader_fields(file: str, reader: dict[str, Any]) -> dict[str, Any]:
    """The ``[reader]`` table: the reader's name and its options, their numbers checked as
    ``sidecar.options``' are (:func:`_check_options`)."""
    options = reader.get("options", {})
    _check_options(file, "reader.options", options, "reader option", "rates, scales and counts")
    return {
        "reader": reader["name"],
        "reader_options": tuple(sorted(reader.get("options", {}).items())),
    }


def _channels_fields(
    file: str,
    channels: dict[str, Any],
    on_unknown: str,
    rename: tuple[tuple[str, str], ...],
) -> dict[str, Any]:
    """The ``[channels]`` table: renames, excluded channels and what an unknown name does."""
    return {
        "rename": rename,
        "exclude_channels": _strings(file, "channels.exclude", channels.get("exclude", [])),
        "on_unknown": on_unknown,
    }


def _sidecar_options(file: str, options: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """``sidecar.options``, sorted by name, its numbers checked (:func:`_check_options`)."""
    _check_options(
        file, "sidecar.options", options, "sidecar option", "times, durations and scales"
    )
    return tuple(sorted(options.items()))


def _check_options(file: str, where: str, options: dict[str, Any], what: str, kinds: str) -> None:
    """Refuse, once at load and naming the key path, an integer beyond int64 anywhere in the
    free-form table ``where`` (a trial label ``2**70``) or a float that is NaN or an infinity
    (TOML ``nan``, ``inf``: a trial label, a duration that made every event's end infinite, a
    reader's rate or scale): no option takes one, and one that reaches a label, an event or a
    sample is what a store cannot hold, refused at every file (or not at all). ``what`` names
    one entry of the table in the message (``"reader option"``), ``kinds`` its numbers."""
    found = find_beyond_int64(options)
    if found is not None:
        raise ManifestError(
            f"{shown_path(file)}: {where}.{found[0]} is {str(found[1])[:40]}, an integer beyond "
            f"int64 (-2**63 to 2**63-1), which no {what} takes and a store cannot hold: fix the "
            "manifest"
        )
    found_float = find_not_finite(options)
    if found_float is not None:
        raise ManifestError(
            f"{shown_path(file)}: {where}.{found_float[0]} is {found_float[1]}, not a finite "
            f"number, which no {what} takes (its {kinds} are finite) and a store cannot hold: "
            "write a finite number, or leave the option out"
        )
    other = find_unsafe(options)  # (what is left: a TOML date or time, which JSON has not)
    if other is not None:
        raise ManifestError(
            f"{shown_path(file)}: {where}.{other[0]} is {str(other[1])[:40]}, a TOML "
            f"{type(other[1]).__name__}, which no {what} takes and a store cannot hold: write it "
            "as text or a number"
        )


def _path_fields(path: dict[str, Any], patterns: tuple[str, ...]) -> dict[str, Any]:
    """The ``[path]`` table: the patterns and the path fields that name each recording."""
    return {
        "pattern": patterns[0] if patterns else None,
        "patterns": patterns,
        "subject": path.get("subject", ""),
        "session": path.get("session", ""),
        "split": path.get("split", ""),
        "subject_key": path.get("subject_key", ""),
        "name_template": path.get("name", "{stem}"),
    }


def _sidecar_fields(file: str, sidecar: dict[str, Any], annotations: str) -> dict[str, Any]:
    """The ``[sidecar]`` table: the parser, which files it reads and how."""
    return {
        "sidecar_parser": sidecar.get("parser"),
        "sidecar_suffixes": _strings(file, "sidecar.suffixes", sidecar.get("suffixes", [])),
        "sidecar_files": _strings(file, "sidecar.files", sidecar.get("files", [])),
        "sidecar_required": bool(sidecar.get("required", False)),
        "sidecar_options": _sidecar_options(file, sidecar.get("options", {})),
        "sidecar_always": bool(sidecar.get("always", False)),
        "sidecar_annotations": annotations,
    }


def _corpus_fields(
    file: str, data: dict[str, Any], quirks: tuple[tuple[str, str], ...]
) -> dict[str, Any]:
    """The top-level keys: the corpus's name, mains, unit and low-pass, and its description."""
    return {
        "name": data["name"],
        "title": data["title"],
        "mains": float(data["mains"]),
        "unit": data.get("unit", DEFAULT_UNIT),
        "description": data.get("description", ""),
        "version": data.get("version", ""),
        "homepage": data.get("homepage", ""),
        "hours": _hours(file, data.get("hours")),
        "h_freq": _h_freq(file, data.get("h_freq")),
        "labels_summary": data.get("labels_summary", ""),
        "formats": _strings(file, "formats", data.get("formats", [])),
        "quirks": quirks,
    }


def _h_freq(file: str, value: float | None) -> float | None:
    """``h_freq``: a lower low-pass (Hz) for this corpus, positive, or ``None`` when not given."""
    if value is not None and not (_finite(value) and value > 0):
        raise ManifestError(
            f"{shown_path(file)}: key h_freq must be a positive number of Hz, got {value!r}"
        )
    return None if value is None else float(value)


def _hours(file: str, value: float | None) -> float | None:
    """``hours``: how long the corpus is, a finite number >= 0 (the catalogue shows it)."""
    if value is not None and not (_finite(value) and value >= 0):
        raise ManifestError(
            f"{shown_path(file)}: key hours must be a number of hours >= 0, got {value!r}"
        )
    return value


def _label_rules(file: str, table: dict[str, Any]) -> tuple[LabelRule, ...]:
    """The ``[labels]`` table: one :class:`LabelRule` per label, read ``from`` a path group."""
    rules = []
    for name, spec in table.items():
        if not isinstance(spec, dict) or "from" not in spec:
            raise ManifestError(
                f"{shown_path(file)}: labels.{name} must be a table with `from` (a path group)"
            )
        extra = set(spec) - {"from", "map"}
        if extra:
            raise ManifestError(
                f"{shown_path(file)}: unknown key labels.{name}.{sorted(extra)[0]!r}"
            )
        mapping = spec.get("map", {})
        if not isinstance(mapping, dict):
            raise ManifestError(f"{shown_path(file)}: labels.{name}.map must be a table")
        unsafe = find_unsafe(mapping)
        if unsafe is not None:  # (2**70 would be refused at every file, naming the file)
            raise ManifestError(
                f"{shown_path(file)}: labels.{name}.map.{unsafe[0]} is {unsafe[1]!r:.40}, which a "
                "store cannot hold (integers from -2**63 to 2**63-1, finite numbers, text): fix "
                "the manifest"
            )
        rules.append(LabelRule(name, spec["from"], tuple(sorted(mapping.items()))))
    return tuple(rules)


def _check_sidecar_parser(file: str, name: str) -> None:
    """``sidecar.parser``: the name of a registered sidecar parser."""
    from eegprep.corpus.sidecars import load_parsers

    parsers = load_parsers()
    if name not in parsers:
        known = ", ".join(sorted(parsers))
        raise ManifestError(
            f"{shown_path(file)}: key sidecar.parser is {name!r}; known parsers: {known}"
        )


CORPUS_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
"""A corpus name: it is a folder of the store (``recordings/{name}``), so a lower-case letter
or digit, then lower-case letters, digits, ``_`` and ``-``; never ``.``, ``..``, a slash, a
hidden name, or two names that one case-insensitive file system (macOS, Windows) would take
for the same folder."""


def _check_corpus_name(file: str, name: str) -> None:
    """``name``: a corpus name that may name a folder of the store (:data:`CORPUS_NAME`)."""
    if not CORPUS_NAME.fullmatch(name):
        raise ManifestError(
            f"{shown_path(file)}: key name is {name!r}; a corpus name must start with a lower-case "
            "letter or digit and hold only lower-case letters, digits, '_' and '-' (at most 64 "
            "characters): it names a folder of the store"
        )


def available() -> list[str]:
    """Names of the shipped manifests."""
    return sorted(p.stem for p in MANIFEST_DIR.glob("*.toml"))


def load_manifest(name_or_path: str | os.PathLike[str]) -> Manifest:
    """A shipped manifest by name (``"tuh"``) or a user's TOML file by path."""
    text = local_path(os.fspath(name_or_path))  # a file: URL decoded (or refused)
    path = Path(text)
    if not (path.suffix == ".toml" or os.sep in text):
        known = available()
        if text not in known:  # (decided before any file is named: a name of 5,000 characters)
            # (a manifest file, not `--manifest`, which only `ingest` has: `corpora NAME` and
            # `labram predict --corpus` take the file itself)
            raise _unknown_corpus(text, known, "(or give a manifest file, my_corpus.toml)")
        path = MANIFEST_DIR / f"{text}.toml"
    elif not os.path.lexists(path):
        _check_not_a_name(text)
    data = load_toml(path, "manifest file", ManifestError)
    return parse_manifest(data, str(path))


def _unknown_corpus(text: str, known: list[str], hint: str) -> UsageError:
    """``unknown corpus 'TEXT'. Did you mean 'x'? Known: ...`` (the suggestion in any letter
    case: `TUH` is `tuh`), ``hint`` after it."""
    from eegprep.base.path_limits import SHOWN_CHARS, shown_path
    from eegprep.base.validation import did_you_mean

    near = did_you_mean(text[:SHOWN_CHARS], known)
    shown = repr(text) if len(text) <= SHOWN_CHARS else shown_path(text)
    return UsageError(f"unknown corpus {shown}.{near} Known: {', '.join(known)} {hint}")


def check_replaced(corpus: str, manifest: str | os.PathLike[str]) -> None:
    """A :class:`UsageError` unless ``corpus``, given beside ``--manifest manifest``, is a
    shipped corpus's name (the one the file replaces) or the file's own ``name``: anything
    else (a misspelling, a second file) was ignored, unsaid, and the ingest went on."""
    known = available()
    if corpus in known:
        return
    own = load_manifest(manifest).name
    if corpus != own:
        from eegprep.base.path_limits import shown_path

        raise _unknown_corpus(
            corpus, sorted({*known, own}), f"(beside --manifest, CORPUS is a shipped corpus or "
            f"the name {shown_path(os.fspath(manifest))} gives, {own!r})"
        )  # fmt: skip


def _check_not_a_name(text: str) -> None:
    """A :class:`UsageError` when ``text``, a manifest file that is not there, is a shipped
    corpus's name written as a file (``tuh.toml``, ``tuh/``): it was ``tuh.toml: manifest file
    not found``, which did not say that ``tuh`` was meant."""
    name = os.path.normpath(text).removesuffix(".toml")  # (`./tuh.toml`, `tuh/`: `tuh`)
    if name in available():
        from eegprep.base.path_limits import shown_path

        raise UsageError(
            f"{shown_path(text)}: no such manifest file; the shipped corpus is named without a "
            f"path or '.toml': {name}"
        )
