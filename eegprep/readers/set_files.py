"""An EEGLAB ``.set`` given to MNE so that MNE reads the samples file eegprep found.

MNE opens a ``.set`` only by that suffix in lower case, takes ``EEG.data`` only with the
extension ``.fdt`` in lower case (``.FDT`` is refused), and looks for the file under that exact
name in the set's folder, else for the set's own stem with ``.fdt``. eegprep finds the samples
as EEGLAB does on a case-insensitive system
(:func:`~eegprep.readers.companions.set_data_files`: in the set's folder alone, in any letter
case). Where MNE would not find that file itself, :func:`openable_set` gives MNE a folder of
its own holding a link ``STEM.set`` to the set (or, when ``EEG.data``'s extension is not
lower case, a copy whose ``EEG.data`` says ``.fdt``: only that text is changed) and a link to
the samples under each name MNE looks for.

Given a :class:`~eegprep.base.held_files.HeldFiles` (Linux: :mod:`eegprep.readers.mne_held`),
the folder is always made, its own, and the set and its samples are links to descriptors
opened without waiting and checked, so that MNE opens no file of the corpus by name.

Concurrency contract: the folder is this process's (a temporary folder removed at exit); the
source files are only read.
"""

from __future__ import annotations

import atexit
import os
import shutil
import struct
import tempfile
import zlib

from eegprep.base.errors import SourceError
from eegprep.base.held_files import HeldFiles
from eegprep.base.regular_files import open_regular
from eegprep.base.shown_text import quoted_path
from eegprep.readers.companions import (
    missing_data_problem,
    path_is_mat5,
    set_data_files,
    set_data_name,
)
from eegprep.readers.mat_fields import MatField

_MI_MATRIX, _MI_COMPRESSED = 14, 15
_MAX_COPY = 256 * 2**20  # a .set whose samples are in a .fdt holds a few MB at most


def openable_set(path: str, held: HeldFiles | None = None) -> str:
    """``path`` itself when MNE reads it and finds its samples file as eegprep does, else a
    ``STEM.set`` in a folder of this process's (see the module docstring). Given ``held``
    (:class:`~eegprep.base.held_files.HeldFiles`), always a ``STEM.set`` in its folder, the set
    and its samples file there as links to their checked descriptors (or the set's renamed
    copy), so that MNE opens no file of the corpus by name."""
    stem, suffix = os.path.splitext(path)
    if suffix.lower() != ".set":
        return path
    found = [f for f in set_data_files(path) if f != path]
    named = _raw_data_name(path)
    plain = "/" not in named and not os.path.isabs(named)
    ext = os.path.splitext(named)[1]
    fixed = named
    if named and ext.strip().lower() == ".fdt" and (ext != ".fdt" or not plain):
        # MNE refuses '.FDT' (and 'rec.fdt ': a char matrix's padding), and joins a path to
        # the set's folder (it may leave it): the copy names a plain file of the same length,
        # linked to the samples found
        odd_case = plain and ext.strip() == ext
        fixed = named[:-4] + ".fdt" if odd_case else "_" * (len(named) - 4) + ".fdt"
    elif suffix == ".set" and held is None and _mne_finds(path, named, found):
        return path
    if held is not None and named and not found:  # there when checked, gone or no file since?
        problem = missing_data_problem(path)
        if problem is not None:
            raise SourceError(path, problem)
    folder = held.folder if held is not None else _own_folder()
    link = os.path.join(folder, os.path.basename(stem) + ".set")
    if fixed == named or not _copy_renamed(path, link, named, fixed):
        outside = os.path.exists(os.path.join(os.path.dirname(path), named))
        if not plain and (outside or held is not None):  # MNE would join it to `folder`
            raise SourceError(
                path,
                f"EEG.data names {quoted_path(named)}, a file outside the .set's folder, and the "
                "name cannot be set aside: eegprep reads samples only beside the .set; copy the "
                "file there and save the dataset again in EEGLAB",
            )
        fixed = named
        if held is not None:
            held.link(path, os.path.basename(link))
        else:
            os.symlink(os.path.abspath(path), link)
    if len(found) == 1:
        names = {os.path.basename(stem) + ".fdt", os.path.basename(found[0])}
        if fixed and "/" not in fixed:
            names.add(fixed)
        for name in names:
            if held is not None:
                held.link(found[0], name)
            else:
                os.symlink(os.path.abspath(found[0]), os.path.join(folder, name))
    return link


def _own_folder() -> str:
    """A temporary folder of this process's, removed at exit."""
    folder = tempfile.mkdtemp(prefix="eegprep-set-")
    atexit.register(shutil.rmtree, folder, True)
    return folder


def _raw_data_name(path: str) -> str:
    """``EEG.data`` as the file writes it when it is text (MNE joins it to the set's folder);
    ``''`` otherwise."""
    named = set_data_name(path)  # its base name: enough to tell whether there is one
    if named is None:
        return ""
    try:
        field = _data_field(path)
        if field is not None and field.cls == "char" and isinstance(field.value, str):
            return field.value
    except Exception:  # a damaged file: the reader says what is wrong
        return named
    return named


def _data_field(path: str) -> MatField | None:
    """``EEG.data`` described (a top-level ``data``, else the ``EEG`` struct's field), in
    MAT v5 and v7.3 alike: a v7.3 file's was never read, so a path it named (``/x/rec.fdt``)
    was taken for its base name and MNE given the set as it is, to read the file it names."""
    from eegprep.readers.mat73 import h5_struct_fields
    from eegprep.readers.mat_fields import struct_fields, variable_field

    data = frozenset({"data"})
    if path_is_mat5(path):
        field = variable_field(path, "data")
        if field is None or field.cls != "char":
            field = (struct_fields(path, "EEG", data) or {}).get("data")
        return field
    field = (h5_struct_fields(path, "/", data) or {}).get("data")
    if field is None or field.cls != "char":
        field = (h5_struct_fields(path, "EEG", data) or {}).get("data")
    return field


def _mne_finds(path: str, named: str, found: list[str]) -> bool:
    """Whether MNE, given ``path``, reads the one samples file in ``found`` (or none is
    found: MNE then reports what it misses)."""
    if len(found) != 1:
        return True
    folder = os.path.dirname(path)
    as_named = os.path.join(folder, named) if named else ""
    mne_reads = as_named if as_named and os.path.exists(as_named) else None
    if mne_reads is None:
        fallback = os.path.splitext(path)[0] + ".fdt"
        mne_reads = fallback if os.path.exists(fallback) else None
    return mne_reads is not None and os.path.realpath(mne_reads) == os.path.realpath(found[0])


def _copy_renamed(path: str, dest: str, old: str, new: str) -> bool:
    """Write ``path`` to ``dest`` with the text ``old`` (``EEG.data``'s value) replaced by
    ``new`` (the same length) wherever it is held; False when that cannot be done (MNE then
    says what it cannot read)."""
    if len(old) != len(new) or os.path.getsize(path) > _MAX_COPY:
        return False
    try:
        if path_is_mat5(path):
            return _copy_v5(path, dest, old, new)
        return _copy_v73(path, dest, old, new)
    except (OSError, ValueError, struct.error, zlib.error):
        return False


def _copy_v5(path: str, dest: str, old: str, new: str) -> bool:
    with open_regular(path, buffering=-1) as fh:
        raw = fh.read()
    order = "<" if raw[126:128] == b"IM" else ">"
    out, pos, changed = [raw[:128]], 128, False
    while pos + 8 <= len(raw):
        mdtype, n = struct.unpack(order + "II", raw[pos : pos + 8])
        element = raw[pos : pos + 8 + n]
        payload = zlib.decompress(element[8:]) if mdtype == _MI_COMPRESSED else element
        renamed = _replaced(payload, old, new, order)
        if renamed != payload:
            changed = True
            element = renamed + b"\0" * (-len(renamed) % 8)
            tag_n = struct.unpack(order + "I", element[4:8])[0]
            if struct.unpack(order + "I", element[:4])[0] != _MI_MATRIX or tag_n > len(element):
                return False
        out.append(element)
        pos += 8 + n
    if not changed:
        return False
    with open(dest, "wb") as fh:
        fh.write(b"".join(out))
    return True


def _replaced(data: bytes, old: str, new: str, order: str) -> bytes:
    """``data`` with ``old`` replaced by ``new`` in each encoding MATLAB writes text in (one
    byte, UTF-16 and UTF-32 code units in the file's byte order)."""
    suffix = "le" if order == "<" else "be"
    for codec in ("latin-1", f"utf-16-{suffix}", f"utf-32-{suffix}"):
        data = data.replace(old.encode(codec), new.encode(codec))
    return data


def _copy_v73(path: str, dest: str, old: str, new: str) -> bool:
    import h5py
    import numpy as np

    with open_regular(path) as src, open(dest, "wb") as out:  # a FIFO: refused, not waited on
        shutil.copyfileobj(src, out)
    changed = False
    with h5py.File(dest, "r+") as f:
        for node in (f.get("data"), f["EEG"].get("data") if "EEG" in f else None):
            if node is not None and _h5_text(node) == old:
                node[...] = np.array([ord(c) for c in new], node.dtype).reshape(node.shape)
                changed = True
    return changed


def _h5_text(node: object) -> str | None:
    """A small v7.3 char dataset's text; None for anything else."""
    import h5py

    if isinstance(node, h5py.Dataset) and node.dtype.kind == "u" and node.size < 4096:
        return "".join(map(chr, node[()].ravel()))
    return None
