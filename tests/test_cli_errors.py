"""One error policy at every edge of both command lines.

Walks every subcommand of ``eegprep`` and ``labram`` (click's own tree, so a new command is
walked too) with a missing file or store, a typo'd option, a value of the wrong type for every
typed option, a value outside every choice, and the unknown names and bad config values that
reach the library. Each must give exactly one line, starting ``error:``, exit status 2, and no
traceback. Nothing here trains: every case is refused before the first step.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from cli import eegprep_cli, labram_cli
from eegprep.cli_group import StoreLocation
from tests.machine_paths import shown

ROOTS = {"eegprep": eegprep_cli, "labram": labram_cli}
MISSING = "no/such/thing"  # relative: every run has its own temporary working folder


def walk(
    cmd: click.Command, path: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    if isinstance(cmd, click.Group):
        for name, sub in sorted(cmd.commands.items()):
            yield from walk(sub, (*path, name))
    else:
        yield path, cmd


COMMANDS = dict(kv for root, group in ROOTS.items() for kv in walk(group, (root,)))

# Arguments that satisfy each command's required parameters while naming inputs that do not
# exist (None: the command reads no input, so there is nothing missing to name).
BASE: dict[tuple[str, ...], list[str] | None] = {
    ("eegprep", "config", "set"): ["tuh", MISSING],
    ("eegprep", "config", "show"): None,
    ("eegprep", "corpora"): None,
    ("eegprep", "demo"): None,
    ("eegprep", "ingest"): ["tuh", "--src", MISSING, "--out", "out.zarr"],
    ("eegprep", "stats"): [f"{MISSING}.zarr"],
    ("eegprep", "validate"): [f"{MISSING}.zarr"],
    ("labram", "convert"): [f"{MISSING}.pt", "out.pt"],
    ("labram", "embed"): [
        "--store",
        f"{MISSING}.zarr",
        "--checkpoint",
        f"{MISSING}.pt",
        "--out",
        "emb.zarr",
    ],
    ("labram", "evaluate"): [
        "--store",
        f"{MISSING}.zarr",
        "--task",
        "tuab",
        "--checkpoint",
        f"{MISSING}.pt",
    ],
    ("labram", "export"): [f"{MISSING}.pt"],
    ("labram", "finetune"): [
        "--store",
        f"{MISSING}.zarr",
        "--task",
        "tuab",
        "--size",
        "tiny",
        "--out",
        "run",
    ],
    ("labram", "predict"): [f"{MISSING}.edf", "--checkpoint", f"{MISSING}.pt"],
    ("labram", "report"): [MISSING],
    ("labram", "pretrain"): ["--store", f"{MISSING}.zarr", "--size", "tiny", "--out", "run"],
    ("labram", "tokenizer"): ["--store", f"{MISSING}.zarr", "--size", "tiny", "--out", "run"],
}
# Arguments under which a command runs without a missing input (for its option cases).
RUNNABLE = {
    ("eegprep", "config", "show"): [],
    ("eegprep", "corpora"): [],
    ("eegprep", "demo"): ["--out", "demo"],
}


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EEGPREP_CONFIG", str(tmp_path / "eegprep-config.toml"))
    for var in ("EEGPREP_TUH_DIR", "WORLD_SIZE", "RANK"):
        monkeypatch.delenv(var, raising=False)


def run(path: tuple[str, ...], args: list[str]) -> Result:
    return CliRunner().invoke(ROOTS[path[0]], [*path[1:], *args])


def assert_one_error(res: Result, *, code: int = 2, says: str | None = None) -> str:
    """Exactly one non-empty line, starting ``error:``, with exit status ``code``."""
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert "Traceback" not in res.output, res.output
    assert res.exit_code == code, (res.exit_code, res.output, res.exception)
    assert len(lines) == 1 and lines[0].startswith("error: "), res.output
    if says is not None:
        assert says in lines[0], lines[0]
    return lines[0]


def _base(path: tuple[str, ...]) -> list[str]:
    base = BASE[path]
    return RUNNABLE[path] if base is None else base


def _without(args: list[str], option: str) -> list[str]:
    """``args`` less ``option`` and its value (given once: given twice, it is a warning line,
    docs/cli.md)."""
    if option not in args:
        return args
    i = args.index(option)
    return [*args[:i], *args[i + 2 :]]


def test_every_command_is_walked() -> None:
    assert set(COMMANDS) == set(BASE), "add the new command's arguments to BASE"


@pytest.mark.parametrize("path", sorted(p for p, b in BASE.items() if b is not None), ids=" ".join)
def test_missing_input(path: tuple[str, ...]) -> None:
    assert_one_error(run(path, BASE[path] or []), says=MISSING)
    assert not Path("run").exists()  # refused before anything is written


def test_missing_input_options(store: str) -> None:
    """Input files named by options, with every other input present."""
    tiny = ["--size", "tiny", "--out", "run"]
    cases = [
        ["finetune", "--store", store, "--task", "tuab", "--init", "no.pt", *tiny],
        ["pretrain", "--store", store, "--tokenizer", "no.pt", *tiny],
        ["pretrain", "--store", store, "--exclude-subjects-of", "no.zarr", *tiny],
        ["tokenizer", "--store", store, "--exclude-subjects-of", "no.zarr", *tiny],
        ["finetune", "--store", store, "--store", "no.zarr", "--task", "tuab", *tiny],
        ["finetune", "--store", store, "--task", "tuab", "--splits", "no.json", *tiny],
    ]
    for args in cases:
        assert_one_error(CliRunner().invoke(labram_cli, args), says="no.")
        assert not Path("run").exists()
    res = CliRunner().invoke(eegprep_cli, ["ingest", "tuh", "--src", ".", "--out", "o.zarr",
                                           "--manifest", "no.toml"])  # fmt: skip
    assert_one_error(res, says="no.toml")


@pytest.mark.parametrize("path", sorted(BASE), ids=" ".join)
def test_unknown_option(path: tuple[str, ...]) -> None:
    line = assert_one_error(run(path, [*_base(path), "--no-such-option"]))
    assert "--no-such-option" in line and "--help" in line


def _options(cmd: click.Command) -> Iterator[click.Option]:
    for p in cmd.params:
        if isinstance(p, click.Option) and any(o.startswith("--") for o in p.opts):
            yield p


def _long(opt: click.Option) -> str:
    return max((o for o in opt.opts if o.startswith("--")), key=len)


def _option_cases() -> Iterator[tuple[tuple[str, ...], str, str]]:
    """(command, option, bad value) for every option that has a type to break."""
    for path, cmd in sorted(COMMANDS.items()):
        for opt in _options(cmd):
            if opt.is_flag or opt.count:
                continue
            if isinstance(opt.type, click.Choice):
                yield path, _long(opt), "bogus"
            elif isinstance(opt.type, click.types.IntParamType | click.types.FloatParamType):
                yield path, _long(opt), "abc"
                if getattr(opt.type, "min", None) is not None:
                    yield path, _long(opt), "-5"


@pytest.mark.parametrize(("path", "option", "value"), list(_option_cases()),
                         ids=lambda v: " ".join(v) if isinstance(v, tuple) else v)  # fmt: skip
def test_bad_typed_value(path: tuple[str, ...], option: str, value: str) -> None:
    line = assert_one_error(run(path, [*_base(path), option, value]))
    assert option in line, line


def _valued_options() -> Iterator[tuple[tuple[str, ...], str]]:
    """(command, option) for every option of every command that takes a value."""
    for path, cmd in sorted(COMMANDS.items()):
        for opt in _options(cmd):
            if not (opt.is_flag or opt.count):
                yield path, _long(opt)


@pytest.mark.parametrize(("path", "option"), list(_valued_options()),
                         ids=lambda v: " ".join(v) if isinstance(v, tuple) else v)  # fmt: skip
def test_an_option_without_its_value_names_the_commands_help(
    path: tuple[str, ...], option: str
) -> None:
    """`eegprep ingest tuh --out` (the value left off): click's parser raises it without the
    command, and the line named no help to see, unlike every other usage error."""
    line = assert_one_error(run(path, [*_base(path), option]))
    assert f"Option '{option}' requires an argument" in line, line
    assert line.endswith(f" {' '.join(path[1:])} --help`)"), line


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--workers", "1000", "at most 4 per core"),  # forked one process per file
        ("--workers", "100000", "Invalid value for '--workers'"),  # (past the option's range)
        ("--keep-replaced", "nan", "Invalid value for '--keep-replaced'"),  # kept for ever
        ("--keep-replaced", "inf", "Invalid value for '--keep-replaced'"),
    ],
)
def test_absurd_ingest_values(
    option: str, value: str, says: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eegprep.ingestion import options

    # (1000 workers are 4 per core on a 250-core machine: allowed there, and the test ran an
    # ingest of 1000 processes; the bound is the machine's, so the machine is fixed here)
    monkeypatch.setattr(options, "n_cores", lambda: 16)
    path = ("eegprep", "ingest")
    assert_one_error(run(path, [*_base(path), option, value]), says=says)


LONG_NAME = "n" * 300  # one name past every common file system's 255 bytes


def _path_option_cases() -> Iterator[tuple[tuple[str, ...], str]]:
    """(command, option) for every option that takes a local path or a store."""
    for path, cmd in sorted(COMMANDS.items()):
        for opt in _options(cmd):
            if isinstance(opt.type, click.Path | StoreLocation):
                yield path, _long(opt)


@pytest.mark.parametrize(("path", "option"), list(_path_option_cases()),
                         ids=lambda v: " ".join(v) if isinstance(v, tuple) else v)  # fmt: skip
@pytest.mark.parametrize(
    "value", [LONG_NAME, "a/" * 2100, "a\x00b", ""], ids=["name", "path", "nul", "empty"]
)
def test_a_path_no_file_system_takes(
    tmp_path: Path, path: tuple[str, ...], option: str, value: str
) -> None:
    """A name or path past the file system's limits, a NUL, or nothing (which click.Path took
    for the current folder: `demo --out ''` wrote into it, `--store ''` was the folder holding
    the run folder): one line naming the option, nothing written."""
    line = assert_one_error(run(path, [*_without(_base(path), option), option, value]))
    assert option in line and ("bytes" in line or "NUL" in line or "empty" in line), line
    assert list(tmp_path.iterdir()) == []


def test_an_empty_corpus_name_is_not_every_corpus() -> None:
    assert_one_error(run(("eegprep", "corpora"), [""]), says="unknown corpus ''")


def test_every_store_parameter_is_a_store_location() -> None:
    """Every option or argument naming a store decodes file URLs and refuses empty values."""
    names = {"store", "stores", "exclude_subjects_of"}
    for path, cmd in COMMANDS.items():
        for param in cmd.params:
            if param.name in names or (path == ("eegprep", "ingest") and param.name == "out"):
                assert isinstance(param.type, StoreLocation), (path, param.name)


@pytest.mark.parametrize(
    "args",
    [
        ["eegprep", "config", "set", "tuh", LONG_NAME],
        ["eegprep", "config", "set", "tuh", ""],
        ["eegprep", "stats", ""],
        ["eegprep", "validate", ""],
        ["labram", "convert", "", "out.pt"],
        ["labram", "convert", "in.pt", ""],
        ["labram", "export", ""],
        ["labram", "report", ""],
        ["eegprep", "stats", LONG_NAME],
        ["eegprep", "validate", LONG_NAME],
        ["labram", "convert", LONG_NAME, "out.pt"],
        ["labram", "convert", "in.pt", LONG_NAME],
        ["labram", "export", LONG_NAME],
        ["labram", "report", LONG_NAME],
    ],
    ids=lambda a: " ".join(x if x != LONG_NAME else "LONG" for x in a),
)
def test_a_path_argument_no_file_system_takes(tmp_path: Path, args: list[str]) -> None:
    """(`labram predict`'s FILEs are not here: each is its own `skipped:` line and the others
    are predicted, tests/labram/test_predict.py.)"""
    line = assert_one_error(CliRunner().invoke(ROOTS[args[0]], args[1:]))
    assert ("300 bytes" if LONG_NAME in args else "empty") in line, line
    assert list(tmp_path.iterdir()) == []


def _float_options(path: tuple[str, ...]) -> list[str]:
    return [
        _long(o) for o in _options(COMMANDS[path]) if isinstance(o.type, click.types.FloatParamType)
    ]


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_no_float_option_of_ingest_takes_a_non_finite_value(
    tuh_corpus: Path, tmp_path: Path, value: str
) -> None:
    """With a real corpus (so nothing else stops the ingest first): refused in one line before
    the store is made; --file-time-limit nan was refused only after it had been created."""
    path = ("eegprep", "ingest")
    assert _float_options(path)
    for option in _float_options(path):
        args = ["tuh", "--src", str(tuh_corpus), "--out", "o.zarr", "--workers", "0"]
        line = assert_one_error(run(path, [*args, option, value]))
        assert option in line or option.lstrip("-").replace("-", "_") in line, line
        assert not (tmp_path / "o.zarr").exists(), option


DEVICE_COMMANDS = sorted(
    p for p, c in COMMANDS.items() if any(o.name == "device" for o in c.params)
)


@pytest.mark.parametrize("path", DEVICE_COMMANDS, ids=" ".join)
def test_a_device_this_machine_cannot_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: tuple[str, ...]
) -> None:
    """--device was taken as CPU when not 'cuda...' (a typo trained on the CPU for hours) and
    'cuda' without a GPU was an internal error after the run folder was made; now one line
    naming the option, before anything is written."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    cases = [
        ("bogus", "allowed 'cpu', 'cuda'"),
        ("CPU", "Did you mean 'cpu'?"),
        ("cuda:x", "cuda:N"),
        ("", "--device"),
        ("cuda", "CUDA is not available here"),
    ]
    for value, says in cases:
        line = assert_one_error(run(path, [*_base(path), "--device", value]), says=says)
        assert "--device" in line, line
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert_one_error(run(path, [*_base(path), "--device", "cuda:1"]), says="cuda:0 to cuda:0")
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert_one_error(run(path, [*_base(path), "--device", "cuda:0"]), says="LOCAL_RANK")
    assert list(tmp_path.iterdir()) == []


def _typo_cases() -> Iterator[tuple[tuple[str, ...], str, str]]:
    """Every long option with its last letter dropped (unless that is another option)."""
    for path, cmd in sorted(COMMANDS.items()):
        names = {o for p in cmd.params for o in getattr(p, "opts", ())}
        for opt in _options(cmd):
            typo = _long(opt)[:-1]
            if typo not in names and len(typo) > 3:
                yield path, typo, _long(opt)


@pytest.mark.parametrize(("path", "typo", "meant"), list(_typo_cases()),
                         ids=lambda v: " ".join(v) if isinstance(v, tuple) else v)  # fmt: skip
def test_typo_in_option(path: tuple[str, ...], typo: str, meant: str) -> None:
    line = assert_one_error(run(path, [*_base(path), typo, "1"]))
    assert typo in line, line


TRAINING = [("labram", "tokenizer"), ("labram", "pretrain"), ("labram", "finetune")]
BAD_CONFIG = [
    (["--set", "epochs=abc"], "Invalid value for `epochs`: expected an integer; got 'abc'"),
    (["--set", "lr=fast"], "Invalid value for `lr`: expected a number; got 'fast'"),
    (["--set", "betas=[0.9]"], "Invalid value for `betas`: expected a list of 2 numbers"),
    (["--set", "amp=maybe"], "Invalid value for `amp`: expected true or false"),
    (["--set", "max_seconds=40"], "Invalid value for `max_seconds`"),
    (["--set", "token_budget=0"], "Invalid value for `token_budget`: expected an integer from 1"),
    (["--set", "lrr=1e-3"], "unknown config field 'lrr'. Did you mean 'lr'?"),
    (["--set", "epochs"], "Invalid value for `--set`: expected FIELD=VALUE"),
    (["--set", "size=tiny"], "`size` chooses the preset"),
    (["--set", "val_split=stratifed"], "Did you mean 'stratified'?"),
    (["--set", "warmup_epochs=-1"], "Invalid value for `warmup_epochs`"),
    (["--config", "missing.toml"], "missing.toml: config file not found"),
    (["--config", "bad.toml"], "bad.toml: not valid TOML"),
    (["--config", "deep.toml"], "deep.toml: not valid TOML"),
    (["--config", "typed.toml"], "Invalid value for `epochs`: expected an integer; got 'ten'"),
    (["--config", "tables.toml"], "unknown table 'pretrian'"),
    (["--size", "hugee"], "--size"),
]


@pytest.mark.parametrize("path", TRAINING, ids=" ".join)
@pytest.mark.parametrize(
    ("args", "says"), BAD_CONFIG, ids=lambda v: " ".join(v) if isinstance(v, list) else ""
)
def test_bad_config_values(
    tmp_path: Path, path: tuple[str, ...], args: list[str], says: str
) -> None:
    (tmp_path / "bad.toml").write_text("epochs = \n")
    (tmp_path / "deep.toml").write_text("epochs = " + "[" * 5000 + "]" * 5000 + "\n")
    (tmp_path / "typed.toml").write_text('epochs = "ten"\n')
    (tmp_path / "tables.toml").write_text("[pretrian]\nlr = 1e-3\n")
    assert_one_error(run(path, [*_base(path), *args]), says=says)
    assert not (tmp_path / "run").exists()  # refused before anything is written


def test_stage_prefix_typo() -> None:
    path = ("labram", "pretrain")
    args = [*_base(path), "--set", "tokenzer.lr=1e-4"]
    assert_one_error(run(path, args), says="Did you mean 'tokenizer'?")


@pytest.fixture
def store(tmp_path: Path) -> str:
    from tests.labram.training_stores import write_pretrain_store

    return write_pretrain_store(tmp_path / "s.zarr", n_subjects=1, seconds=20)


@pytest.fixture
def classifier(tmp_path: Path) -> str:
    from labram.checkpoints.layouts import save_ours
    from labram.model.classifier import LaBraMClassifier
    from labram.model.config import model_config

    path = tmp_path / "best.pt"
    save_ours(LaBraMClassifier(model_config("tiny"), 1), path)
    return str(path)


def test_unknown_names(tmp_path: Path, store: str, classifier: str) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "notes.txt").write_text("not a checkpoint\n")
    cases: list[tuple[list[str], str]] = [
        (["eegprep", "ingest", "tuxx", "--out", "x.zarr"], "unknown corpus 'tuxx'"),
        (["eegprep", "demo", "--out", "d", "--corpus", "tuhh"], "Did you mean 'tuh'?"),
        (["eegprep", "corpora", "tuxx"], "unknown corpus 'tuxx'"),
        (["eegprep", "config", "set", "tuhh", "folder"], "Did you mean 'tuh'?"),
        (["eegprep", "stats", "notes.txt"], "notes.txt"),
        (["labram", "finetune", "--store", store, "--task", "tuxx", "--size", "tiny"],
         "Invalid value for `task`"),
        (["labram", "evaluate", "--store", store, "--task", "tuxx", "--checkpoint", classifier],
         "Invalid value for `task`"),
        (["labram", "embed", "--store", store, "--task", "tuxx", "--checkpoint", classifier,
          "--out", "e.zarr"], "tuxx"),
        (["labram", "convert", "notes.txt", "out.pt"], "notes.txt"),
        (["labram", "export", "notes.txt"], "notes.txt"),
        (["labram", "convert", classifier, "out.pt", "--size", "hugee"], "hugee"),
    ]  # fmt: skip
    for args, says in cases:
        res = CliRunner().invoke(ROOTS[args[0]], args[1:])
        assert_one_error(res, says=says)
    assert not (tmp_path / "eegprep-config.toml").exists()


def test_internal_error_is_one_line_and_verbose_shows_the_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import eegprep.store.reader

    def boom(store: str, **options: object) -> None:
        raise RuntimeError("unexpected")

    monkeypatch.setattr(eegprep.store.reader, "open_store", boom)
    line = assert_one_error(run(("eegprep", "stats"), ["x.zarr"]), code=1)
    assert "internal error" in line and "RuntimeError: unexpected" in line and "-v" in line
    verbose = CliRunner().invoke(eegprep_cli, ["-v", "stats", "x.zarr"])
    assert verbose.exit_code == 1 and "Traceback" in verbose.output
    assert verbose.output.strip().splitlines()[-1].startswith("error: internal error")


def test_a_closed_output_pipe_is_not_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """`eegprep corpora | head -1`: the reader leaves, writes raise BrokenPipeError; the command
    ends with the shell's status for SIGPIPE, not "internal error (a bug)"."""
    import eegprep.corpus.catalogue as catalogue

    def closed(*args: object) -> str:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(catalogue, "summary_line", closed)
    monkeypatch.setattr("eegprep.cli_group._quiet_stdout", lambda: None)  # (CliRunner's stdout)
    res = CliRunner().invoke(eegprep_cli, ["corpora"])
    assert res.exit_code == 141 and "internal error" not in res.output


@pytest.mark.parametrize(
    ("target", "args", "says"),
    [
        ("eegprep.store.reader.open_store", ["eegprep", "stats", "x.zarr"], ""),
        ("eegprep.ingestion.driver.ingest", ["eegprep", "ingest", "tuh", "--src", ".", "--out",
                                             "s.zarr"], "run the same command again to finish"),
        ("labram.commands.run_folder", ["labram", "pretrain", "--store", "s.zarr"], "--resume"),
    ],
)  # fmt: skip
def test_ctrl_c_is_one_line_with_the_shells_status(
    monkeypatch: pytest.MonkeyPatch, target: str, args: list[str], says: str
) -> None:
    """Ctrl-C is not click's bare `Aborted!` with a bug's status 1: one `error:` line saying
    what was kept and what to run, status 130 (128 + SIGINT)."""

    def interrupted(*a: object, **k: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(target, interrupted)
    line = assert_one_error(run((args[0],), args[1:]), code=130, says="interrupted (Ctrl-C)")
    assert says in line


def _started(code: str) -> Any:
    """``python -c code`` in the repository, once it has printed ``ready`` (its stdout and
    stderr piped)."""
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    return proc


def test_sigint_to_a_running_command(tmp_path: Path) -> None:
    """A real SIGINT to a real process (a command blocked in the library)."""
    import signal
    import time

    code = (
        "import time, eegprep.store.reader as r\n"
        "r.open_store = lambda s, **k: (print('ready', flush=True), time.sleep(60))\n"
        "from cli import eegprep_cli\n"
        "eegprep_cli(['stats', 'x.zarr'])\n"
    )
    proc = _started(code)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)  # (a guard: an unheeded signal ends otherwise)
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["error: interrupted (Ctrl-C)"], err


def test_quiet_keeps_errors_and_results_and_drops_summaries(
    tuh_corpus: Path, tmp_path: Path
) -> None:
    """``-q``: a skipped file is still one ``skipped:`` line (an error: it printed nothing
    before and only the exit status told); the summary, notes and report path go; a command's
    result (validate's problems, stats' table) stays."""
    import shutil

    src = tmp_path / "src"
    shutil.copytree(tuh_corpus, src)
    bad = sorted(src.rglob("*.edf"))[0]
    bad.write_bytes(bad.read_bytes()[:300])  # cut inside the header
    out = str(tmp_path / "s.zarr")
    res = CliRunner().invoke(eegprep_cli, ["-q", "ingest", "tuh", "--src", str(src), "--out", out])
    assert res.exit_code == 3, res.output
    lines = res.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("skipped: ") and bad.name in lines[0]
    loud = CliRunner().invoke(eegprep_cli, ["ingest", "tuh", "--src", str(src), "--out", out])
    assert "files found" in loud.output and "report: " in loud.output
    res = CliRunner().invoke(eegprep_cli, ["-q", "validate", out])
    assert res.exit_code == 0 and res.output == ""
    res = CliRunner().invoke(eegprep_cli, ["-q", "stats", out])
    assert res.exit_code == 0 and "tuh" in res.output


def test_sigterm_to_an_ingest_keeps_what_finished(tuh_corpus: Path, tmp_path: Path) -> None:
    """``kill`` (SIGTERM: `timeout`, a scheduler, a container stopping) winds an ingest down as
    Ctrl-C does: the recording that finished is committed, one line, exit status 143. Before,
    the process died at once: nothing committed, the lock left behind."""
    import signal

    from eegprep import open_store

    out = tmp_path / "s.zarr"
    code = (
        "import time, eegprep.ingestion.driver as d\n"
        "real, n = d.run_task, []\n"
        "def slow(task):\n"
        "    n.append(1)\n"
        "    if len(n) == 2:\n"
        "        print('ready', flush=True); time.sleep(60)\n"
        "    return real(task)\n"
        "d.run_task = slow\n"
        "from cli import eegprep_cli\n"
        f"eegprep_cli(['ingest', 'tuh', '--src', {str(tuh_corpus)!r}, '--out', {str(out)!r},\n"
        "             '--workers', '0'])\n"
    )
    proc = _started(code)
    proc.send_signal(signal.SIGTERM)
    # (a guard against a hang, not a measure: on a loaded machine the wind-down, which commits
    # the finished recording and syncs its files, once went past 60 s; a signal left unheeded
    # still fails below, the child ending its 60 s sleep with status 0)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 143, err
    assert err.strip().splitlines()[-1].startswith("error: stopped (SIGTERM): the recordings"), err
    assert len(open_store(out).recordings) == 1
    assert not (out / "_eegprep" / "lock").exists()


# Every settings file a user names, by the command line that reads it: the config file
# (EEGPREP_CONFIG: "SETTINGS" as the first item), a manifest (by path or --manifest), a
# training --config. (A --splits file: tests/labram/test_protocols.py.)
SETTINGS_FILES: list[tuple[str, list[str]]] = [
    ("config file", ["SETTINGS", "eegprep", "config", "show"]),
    ("config file", ["SETTINGS", "eegprep", "ingest", "tuh", "--out", "o.zarr"]),
    ("config file", ["SETTINGS", "eegprep", "config", "set", "tuh", "."]),
    ("manifest file", ["eegprep", "ingest", "SETTINGS", "--src", ".", "--out", "o.zarr"]),
    (
        "manifest file",
        ["eegprep", "ingest", "tuh", "--manifest", "SETTINGS", "--src", ".", "--out", "o.zarr"],
    ),
    *[("config file", [*p, *(BASE[p] or []), "--config", "SETTINGS"]) for p in TRAINING],
]


def _settings_case(tmp_path: Path, argv: list[str]) -> tuple[str, list[str]]:
    """``EEGPREP_CONFIG`` and ``argv`` for a case of :data:`SETTINGS_FILES`, the settings file
    at ``tmp_path / "settings.toml"``."""
    settings = str(tmp_path / "settings.toml")
    if argv[0] == "SETTINGS":
        return settings, argv[1:]
    return str(tmp_path / "eegprep-config.toml"), [settings if a == "SETTINGS" else a for a in argv]


@pytest.mark.parametrize(("what", "argv"), SETTINGS_FILES,
                         ids=[" ".join(argv[:5]) for _, argv in SETTINGS_FILES])  # fmt: skip
def test_a_settings_file_too_large_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, what: str, argv: list[str]
) -> None:
    """A file of gigabytes named as a settings file is one line, not minutes of parsing."""
    with open(tmp_path / "settings.toml", "wb") as f:
        f.truncate(16 * 2**20 + 1)  # sparse: no disk used
    config, argv = _settings_case(tmp_path, argv)
    monkeypatch.setenv("EEGPREP_CONFIG", config)
    assert_one_error(run((argv[0],), argv[1:]), says="larger than 16 MiB, too large for a " + what)


def test_a_settings_file_that_is_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    """A FIFO (or a device) named as a settings file is refused before it is opened for a
    blocking read: otherwise the command waits for a writer forever. Run in a child process,
    so that a hang fails the test by its timeout instead of stopping the suite."""
    import json
    import os
    import subprocess
    import sys

    os.mkfifo(tmp_path / "settings.toml")
    code = (
        "import json, os, sys\n"
        "from click.testing import CliRunner\n"
        "from cli import eegprep_cli, labram_cli\n"
        "out = []\n"
        "for config, argv in json.loads(sys.argv[1]):\n"
        "    os.environ['EEGPREP_CONFIG'] = config\n"
        "    root = {'eegprep': eegprep_cli, 'labram': labram_cli}[argv[0]]\n"
        "    res = CliRunner().invoke(root, argv[1:])\n"
        "    out.append([res.exit_code, res.output])\n"
        "print(json.dumps(out))\n"
    )
    cases = [_settings_case(tmp_path, argv) for _, argv in SETTINGS_FILES]
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(cases)],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    fifo = tmp_path / "settings.toml"
    for (what, argv), (status, output) in zip(SETTINGS_FILES, json.loads(done.stdout)):
        expected = f"error: {fifo}: a FIFO, not a {what}: give the file itself"
        if argv[0] == "SETTINGS":  # the user's config file: the variable that placed it too
            expected += (
                " (the config file that EEGPREP_CONFIG gives: correct it, or set EEGPREP_CONFIG "
                "to another file)"
            )
        if "--manifest" in argv or "--config" in argv:  # a path option: refused as it is parsed
            (line,) = output.splitlines()
            assert status == 2 and f"{shown(fifo)}: a FIFO, not a file: give a file" in line, output
            continue
        assert (status, output.splitlines()) == (2, [expected]), output


def test_the_null_device_as_the_config_file_is_no_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``EEGPREP_CONFIG=/dev/null`` (a device, but the usual way to say 'no config file')."""
    monkeypatch.setenv("EEGPREP_CONFIG", "/dev/null")
    res = run(("eegprep",), ["config", "show"])
    assert res.exit_code == 0 and res.output == "# /dev/null\n", res.output
    assert_one_error(run(("eegprep",), ["ingest", "tuh", "--out", "o.zarr"]),
                     says="no folder for corpus 'tuh'")  # fmt: skip


# Every output path of both command lines, under a file ("afile/out..."): a place no folder can
# be made. STORE and CKPT stand for a pre-training store and a classifier checkpoint.
OUTPUTS: list[list[str]] = [
    ["eegprep", "demo", "--out", "OUT"],
    ["eegprep", "ingest", "tuh", "--src", "corpus", "--out", "OUT.zarr"],
    ["eegprep", "stats", "STORE", "--plots", "OUT"],
    ["eegprep", "stats", "STORE", "--html", "OUT.html"],
    ["labram", "embed", "--store", "STORE", "--checkpoint", "CKPT", "--out", "OUT.zarr"],
    ["labram", "export", "CKPT", "--out", "OUT.safetensors"],
    ["labram", "convert", "CKPT", "OUT.pth"],
    *[[*p, "--store", "STORE", "--size", "tiny", "--out", "OUT"] for p in TRAINING[:2]],
]


@pytest.mark.parametrize("argv", OUTPUTS, ids=lambda a: " ".join(a[:3]))
def test_an_output_no_folder_can_hold_is_one_line(
    tmp_path: Path, store: str, classifier: str, argv: list[str]
) -> None:
    """A file where a folder of the output's path should be: one line naming the output and
    the file, exit 2 (`demo --out` and `embed --out` were internal errors)."""
    (tmp_path / "afile").write_text("a file, not a folder\n")
    (tmp_path / "corpus").mkdir()
    given = {"STORE": store, "CKPT": classifier}
    argv = [given.get(a, a.replace("OUT", "afile/out")) for a in argv]
    res = run((argv[0],), argv[1:])
    lines = res.output.splitlines()
    if argv[1] == "stats":  # the statistics are printed before their plots are written
        lines = lines[-1:]
    assert res.exit_code == 2 and len(lines) == 1, (res.output, res.exception)
    assert lines[0].startswith("error: ") and "Traceback" not in res.output, res.output
    assert f"{tmp_path / 'afile'} is a file" in lines[0], lines[0]  # not 'File exists'
    assert (tmp_path / "afile").read_text() == "a file, not a folder\n"


def test_a_settings_file_with_a_byte_order_mark_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows editors start UTF-8 files with a byte-order mark; the config file, a manifest
    and a --config file (one reader, eegprep/base/toml_files.py) read past it instead of
    calling line 1 an 'Invalid statement'."""
    from eegprep.base.toml_files import load_toml
    from eegprep.corpus.manifest import MANIFEST_DIR

    bom = b"\xef\xbb\xbf"
    (tmp_path / "tuh").mkdir()
    (tmp_path / "c.toml").write_bytes(bom + f'[corpora]\ntuh = "{tmp_path / "tuh"}"\n'.encode())
    monkeypatch.setenv("EEGPREP_CONFIG", str(tmp_path / "c.toml"))
    res = run(("eegprep",), ["config", "show"])
    assert res.exit_code == 0 and f"tuh = {tmp_path / 'tuh'}\n" in res.output, res.output
    manifest = (MANIFEST_DIR / "tuh.toml").read_bytes()
    (tmp_path / "m.toml").write_bytes(bom + manifest)
    assert load_toml(tmp_path / "m.toml", "manifest file") == load_toml(
        MANIFEST_DIR / "tuh.toml", "manifest file"
    )
    (tmp_path / "typed.toml").write_bytes(bom + b'epochs = "ten"\n')
    path = ("labram", "tokenizer")
    assert_one_error(run(path, [*_base(path), "--config", str(tmp_path / "typed.toml")]),
                     says="Invalid value for `epochs`: expected an integer; got 'ten'")  # fmt: skip
