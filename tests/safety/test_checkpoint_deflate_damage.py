"""A deflated zip checkpoint whose compressed bytes are damaged is one line naming the member.

``torch.save`` stores its members uncompressed, but a checkpoint zipped again by another tool
(``zip -r``, a re-packer) holds them deflated, and ``torch.load`` reads either. A flipped byte
inside a deflated stream made zlib raise ``zlib.error`` while the CRCs were checked, which no
reader caught: `labram convert` said ``internal error (a bug): error: Error -3 while
decompressing data``. It is damage, named by its member, in every member. So is a member
flagged as encrypted, for which the zip module asked for a password (a ``RuntimeError``).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from cli import labram_cli
from labram.checkpoints.errors import CorruptCheckpointError
from labram.checkpoints.safe_read import read_checkpoint


def _deflated(damaged: str, path: Path) -> str:
    """A torch.save archive zipped again with every member deflated, the compressed stream of
    the member ending in ``damaged`` flipped; returns that member's name."""
    plain = io.BytesIO()
    torch.save({"model": {"w": torch.linspace(0, 1, 4000)}}, plain)
    out = io.BytesIO()
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    data = bytearray(out.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = next(i for i in archive.infolist() if i.filename.endswith(damaged))
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for k in range(2, 7):  # (past the stream's first bits: its block header and codes)
        data[start + k] ^= 0xFF
    path.write_bytes(bytes(data))
    return info.filename


@pytest.mark.parametrize("damaged", ["data.pkl", "data/0"])
def test_a_damaged_deflated_member_is_one_line(damaged: str, tmp_path: Path) -> None:
    path = tmp_path / "rezipped.pt"
    member = _deflated(damaged, path)
    with pytest.raises(CorruptCheckpointError) as info:
        read_checkpoint(path)
    line = str(info.value)
    assert line.startswith(f"{path}: damaged: its member {member} "), line
    assert "\n" not in line
    res = CliRunner().invoke(labram_cli, ["-q", "convert", str(path), str(tmp_path / "o.pt")])
    assert res.exit_code == 2, (res.exit_code, res.output)
    (err,) = res.stderr.strip().splitlines()
    assert err.startswith(f"error: {path}: damaged: its member {member} "), err
    assert not (tmp_path / "o.pt").exists()


def test_an_intact_deflated_archive_loads(tmp_path: Path) -> None:
    """(The same archive, undamaged: read as the file torch.save wrote.)"""
    plain = io.BytesIO()
    want = torch.linspace(0, 1, 4000)
    torch.save({"model": {"w": want}}, plain)
    path = tmp_path / "rezipped.pt"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    assert torch.equal(read_checkpoint(path)["model"]["w"], want)


def test_an_encrypted_member_is_one_line(tmp_path: Path) -> None:
    """The zip module asked for a password (``RuntimeError``): `internal error (a bug)`."""
    plain = io.BytesIO()
    torch.save({"model": {"w": torch.ones(10)}}, plain)
    data = bytearray(plain.getvalue())
    for signature, flags in ((b"PK\x01\x02", 8), (b"PK\x03\x04", 6)):  # (central, local)
        at = data.find(signature)
        while at >= 0:
            data[at + flags] |= 0x1  # (the "encrypted" bit of the general purpose flags)
            at = data.find(signature, at + 4)
    path = tmp_path / "locked.pt"
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptCheckpointError) as info:
        read_checkpoint(path)
    line = str(info.value)
    assert line.startswith(f"{path}: not written by torch.save: its member "), line
    assert line.endswith(" is encrypted: decrypt the archive first"), line
