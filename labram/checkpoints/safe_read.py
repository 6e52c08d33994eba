"""Checkpoint files read without running code from them: the one reader of labram.

:func:`read_checkpoint` is the only way labram reads a checkpoint: ``torch.load`` with
``weights_only=True`` (nothing in the file can run), or a safetensors file, which holds no
code at all (:mod:`labram.checkpoints.safetensors_files`). What a file it loaded may hold is
checked by :mod:`labram.checkpoints.contents`; what the files mean (layouts, conversion,
models) is :mod:`labram.checkpoints.layouts`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import pickle
import pickletools
import re
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import torch
from torch.torch_version import TorchVersion

from eegprep.base.files import named_error
from eegprep.base.path_limits import shown_path, unmatched_pattern
from eegprep.base.unchanged_reads import unchanged_while_read
from eegprep.base.wording import counted
from labram.checkpoints.byte_order import meta_skeleton
from labram.checkpoints.cards import EXPORT_ID, check_cards
from labram.checkpoints.claims import check_claims, check_unjudged
from labram.checkpoints.contents import check_contents
from labram.checkpoints.errors import (
    ChangedCheckpointError,
    CheckpointError,
    CorruptCheckpointError,
    UnsafeCheckpointError,
    first_sentence,
)
from labram.checkpoints.export_journal import card_paths, finish_or_warn
from labram.checkpoints.pickled_stdlib import (
    STDLIB_VALUE_GLOBALS,
    BuiltinType,
    defaultdicts_made,
    finished_type,
)
from labram.checkpoints.pickled_values import (
    PLACEHOLDERS,
    SAFE_VALUE_GLOBALS,
    RefusedValue,
    finished,
)
from labram.checkpoints.safetensors_files import is_safetensors, read_safetensors

# Reading checkpoints: never runs code from the file.
#
# Every checkpoint labram reads goes through :func:`read_checkpoint`, which is
# ``torch.load(weights_only=True)``: the unpickler only rebuilds tensors and plain containers
# (dict, OrderedDict, list, tuple, set, str, int, float, bool, None, torch.Size, dtype and
# device) and refuses any other import or call *before* making it. Allow-listed beside them,
# for the duration of our load only: ``argparse.Namespace``, because the original LaBraM code
# saves its command-line arguments under ``args`` in every checkpoint it writes
# (``utils.save_model``). A Namespace is a bare attribute bag: creating one and setting its
# attributes runs no code of the file's choosing, and its values must themselves be allowed
# types. It is turned into a dict right after loading. And the values training scripts keep
# in it or beside the weights (paths, numpy scalars, arrays and dtypes, frozensets), through
# constructors of our own that check what they are given
# (:mod:`labram.checkpoints.pickled_values`).
SAFE_GLOBALS: tuple[type, ...] = (argparse.Namespace,)
_NOT_RUN = "checkpoints are loaded without running code: none from this file was run"
_KEEP_WEIGHTS = (
    "If you trust where it came from, keep only its weights: load it with torch.load with "
    "weights_only turned off, then torch.save({'model': its 'model' entry}, NEW_FILE)"
)  # (what a training script adds beside the weights that labram does not rebuild)


VALUE_GLOBALS: list[tuple[Any, str]] = [*SAFE_VALUE_GLOBALS, *STDLIB_VALUE_GLOBALS]
"""Every ``(constructor, name)`` allow-listed for a load: paths, numpy values, frozensets
(:mod:`~labram.checkpoints.pickled_values`), and slices, ranges, decimals, dates and times,
defaultdicts (:mod:`~labram.checkpoints.pickled_stdlib`)."""

NAMED_GLOBALS_SINCE = "2.6"
"""The first torch whose allow-list takes ``(constructor, name)`` pairs, which every value of
:data:`~labram.checkpoints.pickled_values.SAFE_VALUE_GLOBALS` needs (a constructor of ours
under numpy's or pathlib's name): torch 2.5's took bare classes and functions only, under
their own ``__module__`` and ``__name__``, and read a pair as one (an ``AttributeError`` on
every load while it was listed). pyproject's lower bound of torch is this release."""


def _named_globals() -> bool:
    """Whether this torch takes ``(constructor, name)`` pairs in its allow-list."""
    return bool(TorchVersion(torch.__version__) >= NAMED_GLOBALS_SINCE)  # (as versions)


@contextlib.contextmanager
def _allow_listed() -> Iterator[None]:
    """The allow-list of :data:`SAFE_GLOBALS` and
    :data:`~labram.checkpoints.pickled_values.SAFE_VALUE_GLOBALS` for one load: what was added
    is removed again when it ends, and what the user had allow-listed before is left as it was
    (an entry already there is not added, so not removed either). A torch older than
    :data:`NAMED_GLOBALS_SINCE` (installed beside labram's declared range) gets
    :data:`SAFE_GLOBALS` alone: a file holding a path or numpy value is refused with a line
    that names the release it needs (:func:`_older_torch`)."""
    ctx = getattr(torch.serialization, "safe_globals", None)  # torch >= 2.5
    if ctx is None:  # older torch: no allow-list, a file with a Namespace is refused
        yield
        return
    ours: list[Any] = list(SAFE_GLOBALS)
    if _named_globals():
        ours += VALUE_GLOBALS
    before = set(getattr(torch.serialization, "get_safe_globals", list)())
    with ctx([g for g in ours if g not in before]):
        yield


def _older_torch(name: str) -> str:
    """What to say when ``name`` is one of ours and this torch cannot allow-list it."""
    if _named_globals() or name not in {n for _, n in VALUE_GLOBALS}:
        return ""
    return (
        f" (labram rebuilds it with torch {NAMED_GLOBALS_SINCE} or later; this is torch "
        f"{torch.__version__}: pip install 'torch>={NAMED_GLOBALS_SINCE}')"
    )


def _plain(obj: Any) -> Any:
    """``obj`` with every ``argparse.Namespace`` replaced by a dict, and every numpy dtype or
    array the pickle built as a placeholder by its value (containers walked)."""
    if isinstance(obj, argparse.Namespace):
        return {k: _plain(v) for k, v in vars(obj).items()}
    if isinstance(obj, PLACEHOLDERS):
        return finished(obj)
    if isinstance(obj, BuiltinType):  # (a built-in type kept as a value: ``{"kind": int}``)
        return finished_type(obj)
    if isinstance(obj, dict):
        if any(isinstance(k, _KEYS_WALKED) for k in obj):  # (a numpy dtype as a key)
            items = [(_plain(k), v) for k, v in obj.items()]
            obj.clear()
            obj.update(items)
        for k, v in obj.items():
            if isinstance(v, _WALKED):
                obj[k] = _plain(v)
        return obj
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    if type(obj) is tuple:
        return tuple(_plain(v) for v in obj)
    if type(obj) in (set, frozenset):
        try:
            return type(obj)(_plain(v) for v in obj)
        except TypeError:  # (an array in a set: numpy never writes one)
            raise RefusedValue("a numpy array inside a set") from None
    return obj


_WALKED = (argparse.Namespace, dict, list, tuple, set, frozenset, *PLACEHOLDERS, BuiltinType)
_KEYS_WALKED = (tuple, frozenset, *PLACEHOLDERS, BuiltinType)


_STRING_OPS = frozenset(
    ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "STRING", "BINSTRING",
     "SHORT_BINSTRING")
)  # fmt: skip


def pickle_imports(path: Path) -> list[str]:
    """The globals the file's pickle names, read with :mod:`pickletools` (a disassembler: it
    decodes opcodes and executes nothing). Best effort, for the error message only."""
    names: list[str] = []
    strings: list[str] = []
    try:
        with contextlib.ExitStack() as stack:
            if zipfile.is_zipfile(path):
                archive = stack.enter_context(zipfile.ZipFile(path))
                member = next(n for n in archive.namelist() if n.endswith("data.pkl"))
                fh = stack.enter_context(archive.open(member))
            else:
                fh = stack.enter_context(path.open("rb"))
            for op, arg, _ in pickletools.genops(fh):
                if op.name in ("GLOBAL", "INST") and isinstance(arg, str):
                    names.append(arg.replace(" ", "."))
                elif op.name == "STACK_GLOBAL" and len(strings) >= 2:
                    names.append(f"{strings[-2]}.{strings[-1]}")
                elif op.name in _STRING_OPS and isinstance(arg, str | bytes):
                    strings.append(arg if isinstance(arg, str) else arg.decode("latin-1"))
    except Exception:  # a damaged pickle: report what was decoded before the damage
        pass
    return names


def _foreign_import(path: Path) -> str | None:
    """The first global in the file that a weights-only load does not allow, if any is seen."""
    try:
        from torch._weights_only_unpickler import _get_allowed_globals

        allowed: set[str] | None = set(_get_allowed_globals())
    except Exception:  # private in torch: fall back to "anything outside torch"
        allowed = None
    ours = {f"{c.__module__}.{c.__qualname__}" for c in SAFE_GLOBALS}
    ours |= {name for _, name in VALUE_GLOBALS} if _named_globals() else set()
    for name in pickle_imports(path):
        known = name in allowed if allowed is not None else name.startswith("torch.")
        if not known and name not in ours:
            return name
    return None


def _why_refused(path: Path, exc: pickle.UnpicklingError) -> str:
    """One line: what the weights-only unpickler refused, in the file's terms."""
    text = str(exc)
    found = re.search(r"GLOBAL ([\w.]+)", text)
    name = found.group(1) if found else _foreign_import(path)
    if name:
        return f"it asks to import `{name}`{_older_torch(name)}"
    detail = re.search(
        r"(Unsupported operand \d+|Can only [^.\n]+|Trying to call reduce[^\n]*)", text
    )
    return "it holds pickle instructions outside tensors and plain containers" + (
        f" ({detail.group(1).strip()})" if detail else ""
    )


def read_checkpoint(path: str | os.PathLike[str], *, what: str = "checkpoint") -> Any:
    """Read a checkpoint file without running code from it (the one reader of labram).

    ``torch.load(path, map_location="cpu", weights_only=True)``, with ``argparse.Namespace``
    allow-listed (the released LaBraM files keep their arguments under ``args``; returned as a
    dict), and, for this load only, what scripts keep there: paths, numpy scalars, arrays and
    dtypes, frozensets (:mod:`labram.checkpoints.pickled_values`; returned as themselves).
    Everything else a pickle can ask for (an import, a call) is refused before it happens. A
    ``.safetensors`` file (recognised by its header, whatever its name) holds no pickle at
    all: :func:`read_safetensors` returns the same structure. An export of ``path`` that a kill
    interrupted between its renames is completed first
    (:func:`labram.checkpoints.export_journal.finish_or_warn`).

    What the file claims is judged before any tensor byte is read
    (:func:`~labram.checkpoints.claims.check_claims`: an archive's pickle is unpickled onto the
    ``meta`` device first), then each storage is read once, into the tensor returned.

    Raises
    ------
    CheckpointError
        Not found (``what`` names the role, e.g. ``--init checkpoint``).
    UnsafeCheckpointError
        The file asks for an import or call a checkpoint never needs; names it.
    CorruptCheckpointError
        Truncated, empty, not a PyTorch checkpoint, or claiming more bytes than the model it
        describes holds.
    ChangedCheckpointError
        The file (or a model card beside it) was rewritten in place while it was read.
    """
    path = Path(path)
    finish_or_warn(path, [p.name for p in (path, *card_paths(path))])  # a killed export's
    if not path.is_file():
        raise CheckpointError(_not_a_file(path, what))
    try:  # (a read's error names no file: the disk's, EIO, said so below)
        # One open file for every pass: a file renamed over ``path`` while it is read (a run's
        # next last.pt, an export replaced with --force) is never judged in one pass and read in
        # another; one rewritten in place (the same file truncated and written again) changes its
        # size, mtime or ctime between the first pass and the last, and is refused.
        with path.open("rb") as fh, unchanged_while_read(fh, path, ChangedCheckpointError):
            if is_safetensors(fh):
                info = read_safetensors(path, opened=fh)
                export_id = info.get(EXPORT_ID)
                check_cards(path, export_id if isinstance(export_id, str) else None)
                return info
            if zipfile.is_zipfile(fh):  # the pickle's claims before any tensor byte is read
                _check_archive(path, fh)
                try:
                    check_claims(path, _checked(path, _unpickled(path, fh, "meta"), claims=True))
                except _NotOnMeta:  # (nested, quantized: judged by what the archive stores instead)
                    check_unjudged(path, _stored_bytes(path, fh), "they are no dense weights")
                _check_crcs(path, fh, tensors=True)
            else:  # a legacy torch.save file (PyTorch before 1.6) or a bare pickle: read as it goes
                check_unjudged(path, os.fstat(fh.fileno()).st_size, _LEGACY)
            obj = _checked(path, _unpickled(path, fh, "cpu"))  # (each storage read once)
            check_cards(path, None, opened=fh)  # (a torch.save file named NAME.safetensors, ...)
    except OSError as exc:
        if exc.filename is not None:  # (a card beside it, named already)
            raise
        raise named_error(exc, path) from exc
    return obj


def _check_archive(path: Path, fh: BinaryIO) -> None:
    """A zip checkpoint before its pickle is read: its members against zip bombs and
    encryption, and the CRC-32 of every member but the tensors' (checked after the claims)."""
    _check_inflation(path, fh)
    _check_crcs(path, fh, tensors=False)


_LEGACY = (
    "a file of the format PyTorch wrote before 1.6 is read as it is unpickled: save it again "
    "with a current PyTorch"
)


def _unpickled(path: Path, fh: BinaryIO, device: str) -> Any:
    """``torch.load`` with weights only onto ``device`` (``meta``: every tensor's dtype and
    shape as the pickle claims them, and no byte of them read); a refusal, damage or anything
    torch raises for an unreadable file is one line naming the file."""
    if device == "meta":  # (an archive of the other byte order: its skeleton, see there)
        fh = meta_skeleton(path, fh)
    try:
        fh.seek(0)
        with _allow_listed(), defaultdicts_made() as made, warnings.catch_warnings():
            # torch warns about pickle protocols above 2 before refusing them: the one line
            # below says what matters
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            # (a file object: given a path ending in .safetensors, torch.load reads it as
            # safetensors, whatever it holds)
            return made(torch.load(fh, map_location=device, weights_only=True))
    except RefusedValue as exc:  # (a value beside the weights that labram does not rebuild)
        raise _refused_value(path, exc) from exc
    except pickle.UnpicklingError as exc:
        if "Weights only load failed" not in str(exc):  # a damaged pickle, not a refusal
            raise CorruptCheckpointError(
                f"{shown_path(path)}: truncated or corrupt ({first_sentence(exc)})"
            ) from exc
        garbage = None if zipfile.is_zipfile(fh) else _not_a_pickle(fh)
        if garbage is not None:  # (bytes the unpickler took for an opcode it refuses)
            raise CorruptCheckpointError(
                f"{shown_path(path)}: truncated or corrupt: {_none_of(fh, 'a pickle')} ({garbage})"
            ) from exc
        protocol = _pickle_protocol(fh)  # (refused at its first newer opcode, unjudged: one
        # that names an import no checkpoint needs, seen by disassembling it, is refused so)
        if protocol > 2 and "Unsupported operand" in str(exc) and not _foreign_import(path):
            raise CheckpointError(_newer_protocol(path, protocol)) from exc
        raise UnsafeCheckpointError(
            f"{shown_path(path)}: not a checkpoint this version can read safely: "
            f"{_why_refused(path, exc)}; {_NOT_RUN}. {_KEEP_WEIGHTS}"
        ) from exc
    except Exception as exc:  # torch raises many types for unreadable files
        if device == "meta":
            raise _NotOnMeta from exc
        raise CorruptCheckpointError(f"{shown_path(path)}: {_damage(fh, exc)}") from exc


def _pickle_protocol(fh: BinaryIO) -> int:
    """The pickle protocol the file was saved with (its pickle's ``PROTO`` opcode: the zip
    archive's ``data.pkl``, or a legacy file's first pickle); 0 where it names none."""
    try:
        fh.seek(0)
        if zipfile.is_zipfile(fh):
            with zipfile.ZipFile(fh) as archive:
                member = next(n for n in archive.namelist() if n.endswith("data.pkl"))
                head = archive.open(member).read(2)
        else:
            fh.seek(0)
            head = fh.read(2)
    except (StopIteration, zipfile.BadZipFile, OSError, EOFError, ValueError):
        return 0
    return head[1] if len(head) == 2 and head[0] == pickle.PROTO[0] else 0


def _newer_protocol(path: Path, protocol: int) -> str:
    """One line for a file saved with a pickle protocol above 2 (``torch.save(...,
    pickle_protocol=4)``): PyTorch's weights-only unpickler implements protocol 2's opcodes
    (torch.save's default) and refuses the first of the newer ones it meets (protocol 4's
    frames, memo and ``STACK_GLOBAL``; protocol 3's ``bytes``) before reading on, so the file
    is neither read nor judged; nothing in it ran."""
    return (
        f"{shown_path(path)}: saved with pickle protocol {protocol} (torch.save(..., "
        f"pickle_protocol={protocol})), whose instructions PyTorch's weights-only loader does "
        "not all read (it reads torch.save's default, protocol 2): none of it was used or "
        "run. Save it again "
        "without pickle_protocol where it was made; or, if you trust where it came from, load "
        "it with torch.load with weights_only turned off, then torch.save({'model': its "
        "'model' entry}, NEW_FILE)"
    )


_HEAD_BYTES = 1 << 16
"""How much of a file :func:`_not_a_pickle` disassembles."""


def _not_a_pickle(fh: BinaryIO) -> str | None:
    """Why the start of ``path`` is no pickle at all (an opcode no pickle has, an argument
    that does not parse), or None when it is one or cannot be told from its first
    :data:`_HEAD_BYTES`. The weights-only unpickler refuses garbage (random bytes, a JSON or
    gzip file named ``last.pt``) as "pickle instructions outside tensors", whose message tells
    a user to load the file with ``weights_only`` off; :mod:`pickletools` decodes opcodes and
    executes nothing."""
    fh.seek(0)
    head = fh.read(_HEAD_BYTES + 1)
    whole = len(head) <= _HEAD_BYTES
    try:
        for _ in pickletools.genops(io.BytesIO(head[:_HEAD_BYTES])):
            pass
    except Exception as exc:  # pickletools: ValueError mostly; any type for odd arguments
        cut = "remain" in str(exc) or "newline" in str(exc) or isinstance(exc, EOFError)
        return None if cut and not whole else first_sentence(exc)
    return None


class _NotOnMeta(Exception):
    """torch cannot rebuild the file's tensors on the ``meta`` device (a nested or quantized
    one, a damaged archive): the full read says what it is."""


def _stored_bytes(path: Path, fh: BinaryIO) -> int:
    """Bytes the zip checkpoint ``path`` (open as ``fh``) stores for tensors (its ``*/data/*``
    members)."""
    with _zip(path, fh) as archive:
        return sum(i.file_size for i in archive.infolist() if "/data/" in i.filename)


def _refused_value(path: Path, exc: RefusedValue) -> UnsafeCheckpointError:
    """The line for a value refused: where it lies (its key path, ``args.lr``) and what it is."""
    held = f"its value at `{exc.where}` is {exc.why}" if exc.where else f"it holds {exc.why}"
    return UnsafeCheckpointError(
        f"{shown_path(path)}: not a checkpoint this version can read safely: {held}; {_NOT_RUN}. "
        f"{_KEEP_WEIGHTS}"
    )


def _checked(path: Path, obj: Any, *, claims: bool = False) -> Any:
    """``obj`` once :func:`check_contents` passes it, its Namespaces made dicts and its numpy
    placeholders values (``claims``: its tensors on ``meta``, as the pickle claims them)."""
    try:
        check_contents(path, obj, claims=claims)
        return _plain(obj)
    except RefusedValue as exc:
        raise _refused_value(path, exc) from exc
    except RecursionError:  # (a crafted pickle nests as deep as it likes: it builds iteratively)
        raise CorruptCheckpointError(
            f"{shown_path(path)}: not a checkpoint: its objects nest deeper than any checkpoint "
            "does"
        ) from None


def _not_a_file(path: Path, what: str) -> str:
    """Why ``path`` (which :meth:`Path.is_file` refused) cannot be read as a checkpoint: one line
    that tells a folder, a link that leads nowhere and a FIFO or device from a missing file."""
    if path.is_dir():
        return (
            f"{what} {shown_path(path)} is a folder, not a checkpoint file: give the file inside it"
        )
    if path.is_symlink() and not path.exists():
        return (
            f"{what} {shown_path(path)} is a link that leads to no file (dangling, or looping back "
            "to itself): give the checkpoint file itself"
        )
    if path.exists():
        return (
            f"{what} {shown_path(path)} is not a regular file (a FIFO, socket or device): copy the "
            "checkpoint to a file first"
        )
    return f"{what} not found: {shown_path(path)}{unmatched_pattern(path)}"


ZIP_INFLATION_LIMIT = (100, 64 * 2**20)
"""A zip member that inflates more than 100-fold to more than 64 MiB is refused: ``torch.save``
stores its members uncompressed, and a deflated one of that ratio is a zip bomb."""


@contextlib.contextmanager
def _zip(path: Path, fh: BinaryIO) -> Iterator[zipfile.ZipFile]:
    """The zip checkpoint ``path`` (open as ``fh``) as an archive; what the zip module raises
    for a damaged one is one line naming the file."""
    try:
        with zipfile.ZipFile(fh) as archive:
            yield archive
    except CorruptCheckpointError:
        raise
    except (
        zipfile.BadZipFile,
        OSError,
        EOFError,
        ValueError,
        NotImplementedError,
        zlib.error,
    ) as exc:
        raise CorruptCheckpointError(
            f"{shown_path(path)}: truncated or corrupt ({first_sentence(exc)})"
        ) from exc


def _check_inflation(path: Path, fh: BinaryIO) -> None:
    """A zip checkpoint's members against zip bombs, and against encryption (the zip module
    raised a ``RuntimeError`` asking for a password: an internal error), from its central
    directory alone."""
    with _zip(path, fh) as archive:
        ratio, floor = ZIP_INFLATION_LIMIT
        for info in archive.infolist():
            if info.flag_bits & 0x1:  # (the zip format's "encrypted" flag)
                raise CorruptCheckpointError(
                    f"{shown_path(path)}: not written by torch.save: its member "
                    f"{shown_path(info.filename)} is encrypted: decrypt the archive first"
                )
            if info.file_size > floor and info.file_size > ratio * max(info.compress_size, 1):
                raise CorruptCheckpointError(
                    f"{shown_path(path)}: not written by torch.save: its member "
                    f"{shown_path(info.filename)} inflates from {info.compress_size:,} to "
                    f"{info.file_size:,} bytes"
                )


def _check_crcs(path: Path, fh: BinaryIO, *, tensors: bool) -> None:
    """A zip checkpoint's members against their CRC-32 (``torch.load`` does not check them, so
    a flipped bit would load as a changed weight), read in chunks of 1 MiB, nothing kept:
    those that hold tensor bytes (``*/data/*``), or the others (the pickle, its records)."""
    bad = why = None
    with _zip(path, fh) as archive:
        for info in archive.infolist():
            if ("/data/" in info.filename) != tensors:
                continue
            try:
                with archive.open(info) as member:
                    while member.read(2**20):
                        pass
            except zipfile.BadZipFile:  # (the zip module's word for a CRC that differs)
                bad, why = info.filename, "fails its CRC-32 check"
                break
            except zlib.error:  # (a deflated member: an internal error before)
                bad, why = info.filename, "does not inflate (its compressed bytes are damaged)"
                break
    if bad is not None:
        raise CorruptCheckpointError(
            f"{shown_path(path)}: damaged: its member {bad} {why} (bit rot, or an incomplete "
            "copy): copy the file again"
        )


_LEGACY_MAGIC = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)[2:-1]
"""How a file of the format PyTorch wrote before 1.6 begins, after its pickle's ``PROTO 2``:
its magic number (``torch.serialization.MAGIC_NUMBER``) as a ``LONG1``."""


def _damage(fh: BinaryIO, exc: Exception) -> str:
    fh.seek(0)
    head = fh.read(2 + len(_LEGACY_MAGIC))
    if not head:
        return "truncated or corrupt (an empty file)"
    if head[2:] == _LEGACY_MAGIC:  # (its pickles parse, its storages do not: not "neither")
        return (
            "truncated or corrupt: a file of the format PyTorch wrote before 1.6 whose "
            f"tensors do not read ({type(exc).__name__}: {first_sentence(exc)})"
        )
    head = head[:4]
    if head == b"PK\x03\x04":
        if not zipfile.is_zipfile(fh):
            return "truncated or corrupt (an incomplete zip archive: no central directory)"
        return f"truncated or corrupt, or not written by torch.save ({first_sentence(exc)})"
    return (
        f"truncated or corrupt: {_none_of(fh, 'a legacy PyTorch file')} "
        f"({type(exc).__name__}: {first_sentence(exc)})"
    )


def _none_of(fh: BinaryIO, last: str) -> str:
    """The formats a checkpoint was read as, for a file none of them fits (``last``: the one
    whose reader failed last); where its first 8 bytes read as a safetensors header length
    that fits in the file, that it looks like a safetensors file whose header is no JSON
    object (a header that starts with ``[`` or a space is not recognised as one, and was
    called "neither a zip archive nor a pickle", which names no safetensors)."""
    fh.seek(0)
    head = fh.read(9)
    size = fh.seek(0, os.SEEK_END)
    n = int.from_bytes(head[:8], "little") if len(head) == 9 else 0
    if 2 <= n <= size - 8:  # (random bytes give a length of exabytes)
        return (
            f"it looks like a safetensors file (its first 8 bytes give a header of "
            f"{counted(n, 'byte')}) whose header is not a JSON object (it starts with "
            f"{head[8:9]!r}); nor is it a zip archive written by torch.save or {last}"
        )
    return f"neither a safetensors file, a zip archive written by torch.save nor {last}"
