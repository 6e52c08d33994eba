"""Numbers a user writes as text, read as the flags read them: ASCII digits, or one line.

The flags refuse ``--workers ５`` (:mod:`eegprep.cli_numbers`), but every other place that read
a number from text used Python's ``int`` / ``float`` / ``str.isdigit``, which read any script's
digits: ``--set epochs=３`` (a full-width 3), ``--set lr=٣`` (an Arabic-Indic 3), the same in a
``--config`` file or a ``config.json``, and ``--set batch_size=1__0`` (no number in TOML or
Python) were taken as 3, 3 and 10; ``--device cuda:٣`` was taken as GPU 3 and ``--device
cuda:²`` (a superscript two: ``isdigit`` passes it, ``int`` fails on it) was a traceback on a
CUDA machine, as were ``WORLD_SIZE=²`` before any command and ``COMP_CWORD=²`` under shell
completion; ``EEGPREP_RACY_SECONDS=٣`` and ``LABRAM_UNRELEASED_PARAMETERS=٣`` were read as 3.
A manifest's number keys took TOML's ``true`` as 1 (``h_freq = true``: a 1 Hz low-pass).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import types
import typing
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from eegprep.base.errors import ConfigError, EegprepError, UsageError
from eegprep.base.validation import parse_field
from labram.commands import labram_cli
from labram.model.config import ModelConfig, TokenizerConfig
from labram.train.config import TrainConfig, config_from_options

NOT_ASCII = ["\uff13", "\u0663", "\u00b2", "\u096a", "1__0", "_1", "1_", "1\uff10"]
"""Text that is no number written in ASCII: a full-width 3, an Arabic-Indic 3, a superscript 2,
a Devanagari 4, underscores not between two digits, an ASCII digit then a full-width 0."""


def _numeric_fields(cls: type) -> list[tuple[type, str, type]]:
    """(class, field, int or float) of every numeric field of ``cls`` (optional ones too)."""
    out = []
    for f in dataclasses.fields(cls):
        tp = typing.get_type_hints(cls)[f.name]
        scalar = typing.get_origin(tp) in (None, typing.Union, types.UnionType)
        kinds = [a for a in (typing.get_args(tp) or (tp,)) if a in (int, float) and scalar]
        if kinds:
            out.append((cls, f.name, kinds[0]))
    return out


FIELDS = [*_numeric_fields(TrainConfig), *_numeric_fields(ModelConfig),
          *_numeric_fields(TokenizerConfig)]  # fmt: skip
"""Every numeric field a --set item, a config file or a stored config sets, as text."""


def test_the_sweep_finds_the_fields() -> None:
    names = {name for _, name, _ in FIELDS}
    assert {"epochs", "lr", "token_budget", "stride_seconds", "max_steps", "depth"} <= names


@pytest.mark.parametrize("text", NOT_ASCII)
@pytest.mark.parametrize(("cls", "name", "kind"), FIELDS, ids=lambda x: getattr(x, "__name__", x))
def test_a_number_not_written_in_ascii_is_refused_for_every_field(
    cls: type, name: str, kind: type, text: str
) -> None:
    with pytest.raises(UsageError, match=f"^Invalid value for `{name}`: expected ") as err:
        parse_field(cls, name, text)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(("cls", "name", "kind"), FIELDS, ids=lambda x: getattr(x, "__name__", x))
def test_a_number_written_in_ascii_is_still_read(cls: type, name: str, kind: type) -> None:
    """Spaces around, a sign, and an underscore between digits (as TOML writes ``1_000``)."""
    assert parse_field(cls, name, " 1_2 ") == kind(12)
    assert parse_field(cls, name, "+3") == kind(3)


@pytest.mark.parametrize("stage", ["tokenizer", "pretrain", "finetune"])
def test_a_set_item_or_a_config_file_in_other_digits_is_one_line_naming_it(
    stage: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=r"^--set epochs=\uff13: .*ASCII digits 0-9"):
        config_from_options(stage, "tiny", sets=["epochs=\uff13"])
    file = tmp_path / "c.toml"
    file.write_text('lr = "\u0663e-4"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c\.toml: Invalid value for `lr`: expected a number"):
        config_from_options(stage, "tiny", config_file=file)
    assert config_from_options(stage, "tiny", sets=["epochs=1_0"]).epochs == 10  # (TOML's)


def test_a_stored_config_in_other_digits_is_refused() -> None:
    data = TrainConfig(stage="pretrain", size="tiny").to_dict()
    with pytest.raises(UsageError, match="`seed`: expected an integer"):
        TrainConfig.from_dict({**data, "seed": "\u0663"})


def test_the_command_refuses_it_before_any_folder(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["tokenizer", "--store", tmp_path / "s.zarr", "--size", "tiny", "--out", out,
            "--set", "batch_size=\uff18"]  # fmt: skip
    res = CliRunner().invoke(labram_cli, [str(a) for a in args])
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output
    assert res.output.startswith("error: --set batch_size=\uff18: Invalid value for `batch_size`")
    assert len(res.output.strip().splitlines()) == 1 and not out.exists()


@pytest.mark.parametrize("index", ["\u00b2", "\u0663", "\uff11", "1\u0660"])
def test_a_cuda_index_not_in_ascii_is_refused_in_one_line(
    index: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a machine with 4 GPUs (``cuda:²``: ``int`` failed on what ``isdigit`` passed)."""
    from labram.train.distributed import check_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    assert check_device("cuda:1") == "cuda:1"
    with pytest.raises(UsageError, match=r"^Invalid value for `--device`: allowed 'cpu', 'cuda'"):
        check_device(f"cuda:{index}")


@pytest.mark.parametrize("world", ["\u00b2", "\u0663"])
def test_a_world_size_not_in_ascii_is_no_torchrun_run(
    world: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``under_torchrun`` read ``٣`` as 3 where ``torchrun_place`` refuses it."""
    from eegprep.base.ranks import torchrun_place, under_torchrun

    monkeypatch.setenv("WORLD_SIZE", world)
    monkeypatch.setenv("RANK", "1")
    assert not under_torchrun()
    with pytest.raises(UsageError, match=r"^WORLD_SIZE=.* is not a whole number"):
        torchrun_place()


def _console(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from eegprep._console import eegprep_main as m; sys.argv[0] = 'eegprep'"
    code += "; m()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], env={**os.environ, **env}, capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip


def test_start_up_and_completion_with_a_superscript_digit_are_no_traceback() -> None:
    res = _console({"WORLD_SIZE": "\u00b2", "LOCAL_RANK": "1"}, "--version")
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    res = _console({"_EEGPREP_COMPLETE": "bash_complete", "COMP_WORDS": "eegprep ",
                    "COMP_CWORD": "\u00b2"})  # fmt: skip
    assert res.returncode != 0 and "Traceback" not in res.stderr, res.stderr
    assert "COMP_CWORD='\u00b2' is no word number" in res.stderr


def test_number_variables_not_in_ascii_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from eegprep.ingestion.racy_stamps import WINDOW_VARIABLE, window_ns
    from labram.checkpoints.released_sizes import UNRELEASED_VARIABLE, unreleased_limit

    monkeypatch.setenv(WINDOW_VARIABLE, "\u0663")
    with pytest.raises(ConfigError, match=f"^{WINDOW_VARIABLE}="):
        window_ns()
    monkeypatch.setenv(UNRELEASED_VARIABLE, "\u0663")
    with pytest.raises(EegprepError, match=f"^{UNRELEASED_VARIABLE}="):
        unreleased_limit()
    monkeypatch.setenv(WINDOW_VARIABLE, " 1.5 ")
    monkeypatch.setenv(UNRELEASED_VARIABLE, "1_000")
    assert (window_ns(), unreleased_limit()) == (1_500_000_000, 1000)


def _manifest_number_keys() -> list[tuple[str, str]]:
    """(table, key) of every key of a manifest's schemas that takes a number and no bool."""
    from eegprep.corpus import manifest

    out = []
    for table in ("_TOP", "_FILES", "_READER", "_CHANNELS", "_PATH", "_SIDECAR", "_QUIRK"):
        for key, (kinds, _) in getattr(manifest, table).items():
            kinds = kinds if isinstance(kinds, tuple) else (kinds,)
            if bool not in kinds and ({int, float} & set(kinds)):
                out.append((table, key))
    return out


@pytest.mark.parametrize("value", [True, False])
@pytest.mark.parametrize(("table", "key"), _manifest_number_keys())
def test_a_manifest_number_given_as_true_or_false_is_refused(
    table: str, key: str, value: bool, tmp_path: Path
) -> None:
    """A TOML ``true`` is a Python int: ``h_freq = true`` was a 1 Hz low-pass."""
    import tomllib

    from eegprep.corpus.manifest import ManifestError, parse_manifest

    assert table == "_TOP"  # (the only tables with numbers; a new one needs its place here)
    data = tomllib.loads(Path("manifests/folder.toml").read_text(encoding="utf-8"))
    with pytest.raises(ManifestError, match=f"x.toml: key '{key}' must be int/float, got bool"):
        parse_manifest({**data, key: value}, str(tmp_path / "x.toml"))


def test_the_manifest_sweep_finds_the_numbers() -> None:
    assert {k for _, k in _manifest_number_keys()} >= {"h_freq", "hours", "mains"}


DIGIT_LIKE = ["\u00b2", "\u00b9", "\u2474"]
"""Characters ``str.isdigit`` passes and ``int`` does not read: superscript 2 and 1, a
parenthesised 1."""


@pytest.mark.parametrize("value", DIGIT_LIKE)
@pytest.mark.parametrize("task", ["tuab", "tuev"])
def test_a_label_that_isdigit_passes_is_no_class_not_an_internal_error(
    task: str, value: str
) -> None:
    """A store's label ``²`` was ``ValueError: invalid literal for int()`` in the task index."""
    from labram.data.tasks import TASKS, _class_of

    assert _class_of(TASKS[task], value) is None
    assert _class_of(TASKS[task], "1") == (0 if task == "tuev" else 1)


@pytest.mark.parametrize("value", DIGIT_LIKE)
def test_names_whose_number_isdigit_passes_are_no_numbers(value: str, tmp_path: Path) -> None:
    """A group ``@²``, an index segment ``².json``, a run's ``seed²`` folder and an impedance
    row ``²`` were each read with ``int`` after ``isdigit`` passed them: a traceback."""
    from eegprep.corpus.sidecars.misc import _listed_channels
    from eegprep.store.group_path import group_version
    from eegprep.store.index import _lost_start
    from labram.stages.finetune_resume import check_resumed_seeds
    from labram.train.run import RUN_FILES

    assert group_version(f"recordings/c/r@{value}") == 1
    assert _lost_start([f"{value}.json"], {}) == []
    (tmp_path / f"seed{value}").mkdir()
    (tmp_path / f"seed{value}" / RUN_FILES[0]).write_text("{}")
    check_resumed_seeds(tmp_path, [0])  # (no seed folder of a number: nothing dropped)
    listing = tmp_path / "imp.txt"
    listing.write_text(f"{value}\tFp9\n1\tFp1\n2\tFp2\n", encoding="utf-8")
    assert _listed_channels(str(listing), 0) == ["Fp1", "Fp2"]


def test_too_few_windows_for_a_batch_names_the_corpus_weights_that_thinned_them() -> None:
    """``--set corpus_weights={tuh=1e-300}`` drew no window of tuh: the line said only to lower
    --batch-size."""
    from labram.train.config import train_config
    from labram.train.optim import schedule_steps

    cfg = train_config("pretrain", "tiny", corpus_weights={"tuh": 1e-300, "seed": 2})
    with pytest.raises(UsageError, match=r"lower --batch-size, or raise corpus_weights of tuh\)$"):
        schedule_steps(cfg, 0)
    with pytest.raises(UsageError, match=r"\(lower --batch-size\)$"):
        schedule_steps(train_config("pretrain", "tiny"), 0)


@pytest.mark.parametrize(
    ("key", "value"),
    [("scale", True), ("scale", "\uff12"), ("scale", "2"), ("duration", float("nan")),
     ("duration", -4.0), ("header_lines", 2.7), ("header_lines", -1), ("duration", float("inf")),
     ("header_lines", 2.0), ("n_targets", 0), ("scale", 0.0), ("scale", 1e300),
     ("duration_tolerance_s", 10**400)],
)  # fmt: skip
def test_a_manifest_option_that_is_no_number_of_its_range_is_one_line(
    key: str, value: object
) -> None:
    """A parser's number option was read with ``int()`` / ``float()``: ``scale = "２"`` was 2,
    ``true`` 1, ``header_lines = 2.7`` 2, ``duration = -4`` events ending before they start.
    Its range is its row of ``BOUNDS`` (``option.KEY``), as for every numeric setting: a count
    takes no ``2.0``, which the parsers' own check took for 2."""
    from eegprep.base.bounds import BOUNDS
    from eegprep.base.errors import SourceError
    from eegprep.readers.base import option_number

    words = BOUNDS[f"option.{key}"].words()
    line = rf"`manifest option {key}`: expected .*; got .*[.]$"
    with pytest.raises(SourceError, match=line) as err:
        option_number("f.txt", {key: value}, key, 1)
    assert "\n" not in str(err.value) and "f.txt" in str(err.value)
    assert words in str(err.value)
    assert option_number("f.txt", {key: 3}, key, 1) == 3
    assert option_number("f.txt", {}, key, 2) == 2


def test_a_column_option_reads_the_columns_row() -> None:
    """Each column of ``mat_flag_columns`` is an index from either end: -1 is the last."""
    from eegprep.base.errors import SourceError
    from eegprep.readers.base import option_number

    assert option_number("f.mat", {"columns.t": -1}, "columns.t", 0, bound="columns") == -1
    with pytest.raises(SourceError, match=r"`manifest option columns.t`: expected an integer from"):
        option_number("f.mat", {"columns.t": 2.0}, "columns.t", 0, bound="columns")


def test_no_parser_reads_an_option_number_without_its_check() -> None:
    """Every number option of a reader or sidecar parser goes through ``option_number``."""
    import re

    top = Path(__file__).resolve().parents[2]
    roots = [top / "eegprep/readers", top / "eegprep/corpus/sidecars"]
    bare = re.compile(r"\b(int|float)\(\s*(options|opts)\.get\(")
    found = [f"{p}:{n}" for root in roots for p in sorted(root.rglob("*.py"))
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if bare.search(line)]  # fmt: skip
    assert found == []


@pytest.mark.parametrize("value", ["\uff13", "\u0663"])
def test_a_label_in_other_digits_is_a_name_not_a_number(value: str) -> None:
    """``\\d`` matched other scripts' digits: a label ``３`` was the number 3 (one class with a
    label ``3``, TUEV's code 3)."""
    from labram.data.label_forms import is_numeric, label_text, number_of
    from labram.data.tasks import TASKS, _class_of

    assert number_of(value) is None and not is_numeric([value, "1"])
    assert label_text(value, numeric=True) == value
    assert _class_of(TASKS["tuev"], value) is None and number_of("3") == "3"
