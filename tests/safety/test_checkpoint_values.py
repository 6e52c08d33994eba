"""What a training script saves beside its weights loads, and still runs nothing.

The original LaBraM code saves its arguments (an ``argparse.Namespace``) in every checkpoint,
and scripts keep paths, numpy scalars, arrays and dtypes, tuples, sets, frozensets,
OrderedDicts, ``torch.Size``, ``torch.dtype`` and ``torch.device`` there or beside the
weights. Each was refused (``asks to import `pathlib.PosixPath```), the whole file with it,
although its weights were fine: now each loads as itself, at the top level and inside
``args``, through every reader, with the model's outputs those of the plain file. Values
labram does not rebuild (numpy objects, structured dtypes, any other class) are still refused
in one line naming them, and crafted files (``os.system``, ``eval``, ``subprocess.Popen``,
``functools.partial``, a class with ``__reduce__``), nested in ``args`` or in the new values,
run nothing.
"""

from __future__ import annotations

import argparse
import collections
import copyreg
import datetime
import decimal
import functools
import importlib
import os
import pathlib
import pickle
import subprocess
import zipfile
import zoneinfo
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from torch import Tensor

from cli import labram_cli
from labram.checkpoints.errors import UnsafeCheckpointError
from labram.checkpoints.layouts import load_official
from labram.checkpoints.load import load_model
from labram.checkpoints.safe_read import read_checkpoint
from tests.labram.labram_layouts import classifier_layout, fabricate

MULTIARRAY: Any = importlib.import_module("numpy._core.multiarray")  # (numpy 2's helpers)

VALUES: dict[str, Any] = {
    "PosixPath": pathlib.PurePosixPath("/runs/labram", "base")
    if os.name == "nt"
    else pathlib.PosixPath("/runs/labram/base"),
    "Path": pathlib.Path("checkpoints") / "labram_base",
    "PurePosixPath": pathlib.PurePosixPath("/data/tuh"),
    "PureWindowsPath": pathlib.PureWindowsPath("C:/data/tuh"),
    "np.float64": np.float64(0.1),
    "np.float32": np.float32(0.5),
    "np.float16": np.float16(1.5),
    "np.int64": np.int64(3),
    "np.int8": np.int8(-7),
    "np.uint8": np.uint8(200),
    "np.bool_": np.bool_(True),
    "np.complex128": np.complex128(1 + 2j),
    "np.str_": np.str_("labram"),
    "np.bytes_": np.bytes_(b"tu"),
    "np.str_ empty": np.str_(""),
    "np.bytes_ empty": np.bytes_(b""),
    "np.datetime64": np.datetime64("2024-05-01T10:00", "ms"),
    "np.timedelta64": np.array(5, dtype="m8[10s]")[()],
    "np.ndarray": np.arange(6, dtype=np.int64).reshape(2, 3),
    "np.ndarray float32": np.linspace(0, 1, 5, dtype=np.float32),
    "np.ndarray big-endian": np.arange(4, dtype=">i4"),
    "np.ndarray Fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    "np.ndarray 0-d": np.array(2.5),
    "np.ndarray empty": np.zeros((0, 3)),
    "np.ndarray bool": np.array([True, False]),
    "np.ndarray str": np.array(["Fp1", "C3"]),
    "np.ndarray datetime": np.array(["2020-01-01"], dtype="M8[D]"),
    "np.dtype": np.dtype("float32"),
    "np.dtype big-endian": np.dtype(">f8"),
    "np.dtype str": np.dtype("U7"),
    "np.dtype datetime": np.dtype("M8[3h]"),
    "tuple": (0.9, 0.98),
    "set": {1, 2, 3},
    "frozenset": frozenset({"a", "b"}),
    "OrderedDict": collections.OrderedDict(a=1, b=[2]),
    "torch.Size": torch.Size([2, 3]),
    "torch.dtype": torch.bfloat16,
    "torch.device": torch.device("cpu"),
    "bytes empty": b"",
    "defaultdict": collections.defaultdict(int, a=1, b=2),
    "defaultdict of lists": collections.defaultdict(list, loss=[0.5, 0.25]),
    "defaultdict without a factory": collections.defaultdict(None, a=1),
    "defaultdict of OrderedDicts": collections.defaultdict(collections.OrderedDict),
    "defaultdicts nested": {"m": collections.defaultdict(dict, x={"y": 1})},
    "slice": slice(1, 2),
    "slice of three": slice(None, 10, 2),
    "range": range(5),
    "range of three": range(10, 0, -3),
    "Decimal": decimal.Decimal("0.1"),
    "Decimal of an exponent": decimal.Decimal("-1.5E+7"),
    "datetime": datetime.datetime(2024, 5, 1, 10, 0, 3, 7),
    "datetime UTC": datetime.datetime(2024, 5, 1, tzinfo=datetime.UTC),
    "datetime of an offset": datetime.datetime(
        2024, 5, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=-5), "EST")
    ),
    "date": datetime.date(2023, 12, 31),
    "time": datetime.time(23, 59, 1, 5),
    "time UTC": datetime.time(1, 2, tzinfo=datetime.UTC),
    "timedelta": datetime.timedelta(days=-1, seconds=5, microseconds=3),
    "a built-in type": int,
    "built-in types": [float, str, list, dict, tuple, bool],
    "a list of them": [np.float64(1.0), pathlib.PurePosixPath("a"), np.dtype("i2")],
    "a dict of them": {"lr": np.float32(5e-4), "dir": pathlib.PurePosixPath("/x")},
    "a set of them": {np.int64(4), pathlib.PurePosixPath("b")},
    "a dict keyed by them": {np.dtype("f4"): 1, (np.dtype("i8"), 2): 3, frozenset({1}): 4},
}


def _same(got: Any, want: Any) -> bool:
    """Equal and of the same type, all the way down (arrays: dtype, shape, values, order)."""
    if type(got) is not type(want):
        return False
    if isinstance(want, np.ndarray):
        return (
            got.dtype == want.dtype
            and got.shape == want.shape
            and np.array_equal(got, want)
            and got.flags.f_contiguous == want.flags.f_contiguous
            and got.flags.writeable
        )
    if isinstance(want, list | tuple):
        return len(got) == len(want) and all(_same(a, b) for a, b in zip(got, want))
    if isinstance(want, collections.defaultdict) and got.default_factory is not (
        want.default_factory
    ):
        return False
    if isinstance(want, dict):
        return got.keys() == want.keys() and all(_same(got[k], want[k]) for k in want)
    if isinstance(want, np.generic):
        return got.dtype == want.dtype and got.tobytes() == want.tobytes()
    return bool(got == want)


def _state() -> dict[str, Tensor]:
    return fabricate(classifier_layout("tiny", n_outputs=2), seed=5)


@pytest.mark.parametrize("where", ["top level", "inside args"])
@pytest.mark.parametrize("name", sorted(VALUES))
def test_a_value_beside_the_weights_loads_as_itself(name: str, where: str, tmp_path: Path) -> None:
    """Before: ``... asks to import `pathlib.PosixPath``` (``numpy._core.multiarray.scalar``,
    ``_reconstruct``, ``numpy.dtype``, ``frozenset``, ``bytes``), the whole file refused."""
    value = VALUES[name]
    path = tmp_path / "trained.pth"
    entry = {"extra": value} if where == "top level" else {"args": argparse.Namespace(x=value)}
    torch.save({"model": _state(), **entry}, path)
    obj = read_checkpoint(path)
    got = obj["extra"] if where == "top level" else obj["args"]["x"]
    assert _same(got, value), (got, value)


def test_every_reader_loads_a_released_file_whose_args_hold_them(tmp_path: Path) -> None:
    """The original code's ``save_model`` with every value above in ``args``: the classifier
    every reader builds gives the plain file's outputs bit for bit."""
    sd = _state()
    plain = tmp_path / "plain.pth"
    torch.save({"model": sd}, plain)
    args = argparse.Namespace(**{f"v{i}": v for i, v in enumerate(VALUES.values())})
    rich = tmp_path / "checkpoint-best.pth"
    torch.save({"model": sd, "epoch": 29, "args": args, "best": np.float64(0.8)}, rich)
    x = torch.randn(2, 3, 2, 200, generator=torch.Generator().manual_seed(0))
    channels = torch.tensor([0, 5, 9])

    def out(model: torch.nn.Module) -> Tensor:
        with torch.no_grad():
            return model.eval()(x, channels)

    want = out(load_model(plain).model)
    assert torch.equal(out(load_model(rich).model), want)
    assert torch.equal(out(load_official(rich, "classifier")), want)
    assert load_model(rich).info["args"]["v0"] == VALUES["PosixPath"]
    res = CliRunner().invoke(labram_cli, ["convert", str(rich), str(tmp_path / "ours.pt")])
    assert res.exit_code == 0, res.output
    assert torch.equal(out(load_model(tmp_path / "ours.pt").model), want)


def _renamed(obj: Any, old: bytes, new: bytes, path: Path) -> Path:
    """``torch.save(obj)`` whose pickle names the global ``old`` ``new``: what another numpy,
    Python or operating system writes."""
    torch.save(obj, path)
    with zipfile.ZipFile(path) as archive:
        members = [(i.filename, archive.read(i)) for i in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members:
            if name.endswith("data.pkl"):
                assert old in data
                data = data.replace(old, new)
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("value", "old", "new", "want"),
    [
        (np.float64(0.25), b"numpy._core.multiarray", b"numpy.core.multiarray", np.float64(0.25)),
        (np.arange(3), b"numpy._core.multiarray", b"numpy.core.multiarray", np.arange(3)),
        (pathlib.PosixPath("/a/b"), b"pathlib\nPosixPath", b"pathlib._local\nPosixPath",
         pathlib.PosixPath("/a/b")),
        (pathlib.PureWindowsPath("C:/a"), b"pathlib\nPureWindowsPath", b"pathlib\nWindowsPath",
         pathlib.PureWindowsPath("C:/a")),
    ],
    ids=["numpy 1 scalar", "numpy 1 array", "Python 3.13 path", "WindowsPath on Linux"],
)  # fmt: skip
def test_the_names_other_versions_write_load(
    value: Any, old: bytes, new: bytes, want: Any, tmp_path: Path
) -> None:
    """numpy 1 names its helpers ``numpy.core.multiarray``, Python 3.13 its paths
    ``pathlib._local``; a ``WindowsPath`` saved on Windows cannot be made on Linux and loads
    as a ``PureWindowsPath``."""
    if os.name == "nt" and b"WindowsPath" in new:
        pytest.skip("a WindowsPath is made as itself on Windows")
    path = _renamed({"model": _state(), "args": argparse.Namespace(x=value)}, old, new,
                    tmp_path / "other.pth")  # fmt: skip
    assert _same(read_checkpoint(path)["args"]["x"], want)


def test_the_allow_list_is_ours_for_the_load_only(tmp_path: Path) -> None:
    """What the reader allow-lists is gone once it returns (a load of the user's own with
    ``torch.load`` still refuses a path), and what the user allow-listed before stays."""
    path = tmp_path / "trained.pth"
    torch.save({"model": _state(), "dir": pathlib.PurePosixPath("/x"), "f": frozenset({1})}, path)
    users = (frozenset, "builtins.frozenset")
    with torch.serialization.safe_globals([users]):  # (the user's own, around our load)
        before = set(torch.serialization.get_safe_globals())
        assert read_checkpoint(path)["dir"] == pathlib.PurePosixPath("/x")
        assert set(torch.serialization.get_safe_globals()) == before and users in before
        with pytest.raises(pickle.UnpicklingError, match="PurePosixPath"):
            torch.load(path, weights_only=True)


REFUSED: dict[str, tuple[Any, str]] = {
    "object array": (np.array([1, "a"], dtype=object), "numpy value of dtype object"),
    "structured array": (np.zeros(2, dtype=[("a", "f4")]), "dtype 'V' (structured"),
    "structured dtype": (np.dtype([("a", "f4")]), "dtype 'V' (structured"),
    "defaultdict of a method": (
        collections.defaultdict(dict.fromkeys),  # type: ignore[arg-type]
        "asks to import `getattr`",
    ),
    "slice of floats": (slice(0.5, 1), "a slice whose bounds are not 1 to 3 integers or None"),
    "datetime of a zoneinfo zone": (
        datetime.datetime(2024, 1, 2, tzinfo=zoneinfo.ZoneInfo("UTC")),
        "asks to import `",
    ),
}


@pytest.mark.parametrize("where", ["top level", "inside args"])
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_value_labram_does_not_rebuild_is_one_line_naming_it(
    name: str, where: str, tmp_path: Path
) -> None:
    value, says = REFUSED[name]
    path = tmp_path / "trained.pth"
    entry = {"extra": value} if where == "top level" else {"args": argparse.Namespace(x=value)}
    torch.save({"model": _state(), **entry}, path)
    with pytest.raises(UnsafeCheckpointError) as info:
        read_checkpoint(path)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(f"{path}: not a checkpoint this version can read")
    assert says in msg and "none from this file was run" in msg, msg
    assert "keep only its weights" in msg, msg
    res = CliRunner().invoke(labram_cli, ["convert", str(path), str(tmp_path / "out.pt")])
    assert res.exit_code == 2 and says in res.output and not (tmp_path / "out.pt").exists()


# -- crafted files: nothing runs ---------------------------------------------------------------


class _Reduced:
    """Unpickles to ``func(*args)``."""

    def __init__(self, func: Any, *args: Any) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.func, self.args)


class _Marks:
    """A class of this module whose construction on unpickling would create the marker."""

    def __init__(self, marker: str) -> None:
        Path(marker).touch()
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Marks, (self.marker,))


class _NewObj:
    """Unpickles to ``cls.__new__(cls, *args)`` (pickle's NEWOBJ: no ``__init__`` runs)."""

    def __init__(self, cls: type, *args: Any) -> None:
        self.cls, self.args = cls, args

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # (what the pickler checks NEWOBJ's class against)
        return self.cls

    def __reduce__(self) -> tuple[Any, ...]:
        return (copyreg.__newobj__, (self.cls, *self.args))  # type: ignore[attr-defined]


class _State:
    """Unpickles to ``func(*args)``, then ``__setstate__(state)``: a crafted numpy value."""

    def __init__(self, func: Any, args: tuple[Any, ...], state: Any) -> None:
        self.func, self.args, self.state = func, args, state

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.func, self.args, self.state)


def _payloads(marker: Path) -> dict[str, Any]:
    cmd = f"touch '{marker}'"
    return {
        "os.system": _Reduced(os.system, cmd),
        "builtins.eval": _Reduced(eval, f"open({str(marker)!r}, 'w').close()"),
        "subprocess.Popen": _Reduced(subprocess.Popen, ["touch", str(marker)]),
        "functools.partial": _Reduced(functools.partial(os.system, cmd)),
        "a __reduce__ class": _Reduced(_Marks, str(marker)),
    }


def _carriers(payload: Any) -> dict[str, Any]:
    """Where a payload sits: in ``args``, and inside each kind of value now rebuilt."""
    return {
        "args": argparse.Namespace(lr=0.1, hook=payload),
        "a path's part": argparse.Namespace(dir=_Reduced(pathlib.PosixPath, "/a", payload)),
        "a frozenset": argparse.Namespace(s=_Reduced(frozenset, [1, payload])),
        "a slice's bound": argparse.Namespace(s=_Reduced(slice, 1, payload)),
        "a defaultdict's factory": argparse.Namespace(d=_Reduced(collections.defaultdict, payload)),
        "a decimal's text": argparse.Namespace(d=_Reduced(decimal.Decimal, payload)),
        "a datetime's zone": argparse.Namespace(
            d=_Reduced(datetime.datetime, b"\x07\xe8\x01\x02\0\0\0\0\0\0", payload)
        ),
        "a numpy dtype's spec": argparse.Namespace(d=_Reduced(np.dtype, payload)),
        "a numpy scalar's bytes": argparse.Namespace(
            f=_Reduced(MULTIARRAY.scalar, np.dtype("f8"), payload)
        ),
        "a numpy array's state": argparse.Namespace(
            a=_State(
                MULTIARRAY._reconstruct,
                (np.ndarray, (0,), b"b"),
                (1, (1,), np.dtype("f8"), False, payload),
            )
        ),
    }


@pytest.mark.parametrize("carrier", ["args", "a path's part", "a frozenset", "a slice's bound",
                                     "a defaultdict's factory", "a decimal's text",
                                     "a datetime's zone",
                                     "a numpy dtype's spec", "a numpy scalar's bytes",
                                     "a numpy array's state"])  # fmt: skip
@pytest.mark.parametrize("payload", ["os.system", "builtins.eval", "subprocess.Popen",
                                     "functools.partial", "a __reduce__ class"])  # fmt: skip
def test_a_crafted_value_runs_nothing(payload: str, carrier: str, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / "evil.pth"
    torch.save({"model": _state(), "args": _carriers(_payloads(marker)[payload])[carrier]}, path)
    with pytest.raises(UnsafeCheckpointError) as info:
        read_checkpoint(path)
    assert not marker.exists(), "the checkpoint ran code"
    msg = str(info.value)
    assert "\n" not in msg and str(path) in msg and "asks to import `" in msg, msg
    with pytest.raises(UnsafeCheckpointError):
        load_model(path)
    assert not marker.exists(), "the checkpoint ran code"


CRAFTED_VALUES: dict[str, tuple[Any, str]] = {
    "an array claiming more than its bytes": (
        _State(MULTIARRAY._reconstruct, (np.ndarray, (0,), b"b"),
               (1, (10**9,), np.dtype("f8"), False, b"\0" * 8)),
        "a numpy array of shape (1000000000,) and dtype float64 stored in 8 bytes",
    ),
    "an array of another class": (
        _Reduced(MULTIARRAY._reconstruct, np.float64, (0,), b"b"),
        "numpy.float64",
    ),
    "a scalar of too few bytes": (
        _Reduced(MULTIARRAY.scalar, np.dtype("f8"), b"\0"),
        "a numpy scalar of dtype float64 stored in 1 bytes",
    ),
    "a dtype of no numpy name": (_Reduced(np.dtype, "float64; import os"), "a numpy dtype named"),
    "a path of bytes": (_Reduced(pathlib.PurePosixPath, b"/a"), "a path whose parts are not"),
    "bytes of a size": (_Reduced(bytes, 10**12), "a call of bytes() with arguments"),
    "a dtype made by NEWOBJ": (
        _NewObj(np.dtype, "f8"),
        "a numpy value whose dtype is not what numpy writes",
    ),
    "an array made by NEWOBJ": (
        _NewObj(np.ndarray, (2,)),
        "a numpy array without its values",
    ),
    "a datetime dtype of a crafted unit": (
        _State(np.dtype, ("M8", False, True), (4, "<", None, None, None, -1, -1, 0, (None, 7))),
        "a numpy datetime dtype whose unit is not what numpy writes",
    ),
    "a defaultdict of another factory": (
        _Reduced(collections.defaultdict, torch.Size),
        "a collections.defaultdict whose factory is Size",
    ),
    "a call of a built-in type": (_Reduced(int, "5"), "a call of int()"),
    "a range of a zero step": (_Reduced(range, 0, 5, 0), "a range whose step is 0"),
    "a date of a crafted state": (
        _Reduced(datetime.date, b"\xff\xff\xff\xff"),
        "a datetime.date whose state is not what Python writes",
    ),
    "a date given a time zone": (
        _Reduced(datetime.date, b"\x07\xe8\x01\x02", datetime.UTC),
        "a datetime.date whose time zone is not a fixed offset",
    ),
    "a decimal not given as text": (
        _Reduced(decimal.Decimal, (0, (1,), 0)),
        "a decimal.Decimal not given as its text",
    ),
    "a decimal of too long a text": (
        _Reduced(decimal.Decimal, "1" * 5000),
        "a decimal.Decimal not given as its text",
    ),
    "a time zone of a day": (
        _Reduced(datetime.timezone, _Reduced(datetime.timedelta, 2, 0, 0)),
        "a datetime.timezone of an offset of a day or more",
    ),
    "a path given state": (
        _State(pathlib.PurePosixPath, ("/a",), {"_str": "/etc/passwd"}),
        "Can only build",
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CRAFTED_VALUES))
def test_a_crafted_state_of_a_rebuilt_value_is_one_line(name: str, tmp_path: Path) -> None:
    """What our constructors are given is checked: numpy's own ``__setstate__`` and helpers
    are never handed a crafted state (a shape of 8 GB over 8 bytes was numpy's to judge)."""
    value: Any
    value, says = CRAFTED_VALUES[name]
    path = tmp_path / "crafted.pth"
    torch.save({"model": _state(), "args": argparse.Namespace(x=value)}, path)
    with pytest.raises(UnsafeCheckpointError) as info:
        read_checkpoint(path)
    msg = str(info.value)
    assert "\n" not in msg and str(path) in msg and says in msg, msg


def test_our_writers_still_write_only_plain_values() -> None:
    """Reading is lenient, writing is not: labram's own checkpoints hold none of these."""
    from labram.checkpoints.contents import check_loadable

    values: list[Any] = [np.float64(0.1), pathlib.Path("x"), np.arange(2), frozenset()]
    for value in values:
        with pytest.raises(TypeError):
            check_loadable({"model": {}, "x": value})
