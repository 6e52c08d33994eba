"""The Python snippets in docs/*.md run as written (in a folder holding the demo store)."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from eegprep.ingestion.driver import IngestConfig, ingest
from eegprep.testing.demo import write_demo_corpus

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
RUNNABLE = ["interop.md"]


def _snippets(name: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (DOCS / name).read_text(), flags=re.S)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("docs")
    src = write_demo_corpus(root / "demo")
    ingest("tuh", src=src, out=root / "demo.zarr", config=IngestConfig(workers=0, progress=False))
    return root


@pytest.mark.parametrize("name", RUNNABLE)
def test_doc_snippets_run(name: str, demo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(demo_dir)
    snippets = _snippets(name)
    assert snippets
    for code in snippets:
        shown = _run_printing(code, f"{name} snippet")
        for lineno, line in enumerate(code.splitlines(), start=1):
            said = re.match(r"\s*print\(.*\)  # (.*)$", line)
            if said:  # `print(x)  # OUTPUT` or `# OUTPUT: prose`, `...` for any text
                pattern = re.escape(said.group(1)).replace(r"\.\.\.", ".*")
                assert any(
                    re.fullmatch(f"{pattern}", out) or said.group(1).startswith(f"{out}: ")
                    for out in shown.get(lineno, [])
                ), f"{name}: {line.strip()} printed {shown.get(lineno)}"


def _run_printing(code: str, filename: str) -> dict[int, list[str]]:
    """Run ``code``; what each of its lines printed (line number -> printed lines)."""
    import sys

    shown: dict[int, list[str]] = {}

    def record(*args: object, **kwargs: object) -> None:
        lineno = sys._getframe(1).f_lineno
        shown.setdefault(lineno, []).append(" ".join(str(a) for a in args))

    exec(compile(code, filename, "exec"), {"print": record})
    return shown


def _resolves(dotted: str) -> bool:
    """``eegprep.store.reader.open_store``: a module, then attributes of it, that exist."""
    import importlib

    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for name in parts[i:]:
                obj = getattr(obj, name)
        except AttributeError:
            return False
        return True
    return False


def test_every_dotted_name_in_the_docs_exists() -> None:
    """A module or function the docs and the README name in code (`eegprep.store.reader`,
    `labram.train.optim.param_groups`) exists under that name: a move cannot strand one."""
    root = Path(__file__).resolve().parents[1]
    pages = [*sorted((root / "docs").glob("*.md")), root / "README.md"]
    missing = sorted(
        {
            f"{page.name}: {hit.group(1)}"
            for page in pages
            for hit in re.finditer(
                r"`((?:eegprep|labram)(?:\.[A-Za-z_]\w*)+)(?:\(\))?`", page.read_text()
            )
            if not _resolves(hit.group(1))
        }
    )
    assert missing == []


def _command_lines(text: str) -> list[str]:
    """Every ``eegprep ...`` / ``labram ...`` command of a page: the lines of its bash blocks
    (cut at ``&&``, ``|``, ``;`` and a trailing ``# comment``) and its inline code spans."""
    found: list[str] = []
    for block in re.findall(r"```(?:bash|sh|shell)\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            found += re.split(r"&&|\|\|?|;", re.sub(r"\s#.*$", "", line))
    prose = re.sub(r"```.*?```|``.*?``", "", text, flags=re.S).replace("\n", " ")
    for span in re.findall(r"`([^`]+)`", prose):
        found += re.split(r"&&|\|\|?|;", span)
    # torchrun ... $(which labram) pretrain ...: the labram command it runs
    runs = (re.sub(r"^.*\$\(which (eegprep|labram)\)", r"\1", part) for part in found)
    words = (part.split() for part in runs)
    return [" ".join(w) for w in words if w and w[0] in ("eegprep", "labram")]


def _option_names(cmd: click.Command) -> set[str]:
    return {name for p in cmd.params for name in (*p.opts, *p.secondary_opts) if name[0] == "-"}


def _command_problem(line: str) -> str | None:
    """What is wrong with one documented command line (None: its command and options exist)."""
    from cli import eegprep_cli, labram_cli

    words = line.split()
    cmd: click.Command = {"eegprep": eegprep_cli, "labram": labram_cli}[words[0]]
    rest = [w for w in words[1:] if w not in _option_names(cmd) | {"--help"}]
    while isinstance(cmd, click.Group) and rest and re.fullmatch(r"[a-z][a-z-]*", rest[0]):
        sub = cmd.commands.get(rest[0])
        if sub is None:
            return f"no command {rest[0]!r}"
        cmd, rest = sub, rest[1:]
    known = _option_names(cmd) | {"--help"}
    unknown = re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", " ".join(rest))
    return ", ".join(f"no option {o}" for o in unknown if o not in known) or None


def test_every_documented_command_and_option_exists() -> None:
    """A command the README or a docs page shows (`eegprep ingest tuh --prune`, a bash block)
    is one of the command lines' commands, with options it has: a renamed option cannot
    leave the docs behind."""
    wrong = sorted(
        f"{page.name}: {line}: {problem}"
        for page in PAGES
        for line in _command_lines(page.read_text())
        if (problem := _command_problem(line))
    )
    assert wrong == []


def test_the_command_check_sees_a_wrong_command() -> None:
    assert _command_problem("eegprep ingest tuh --out s.zarr") is None
    assert _command_problem("eegprep -v config set tuh /data") is None
    assert _command_problem("labram pretrain --store s --tokenizer-epochs 2") is None
    assert _command_problem("eegprep ingest tuh --purge") == "no option --purge"
    assert _command_problem("eegprep config sett tuh /d") == "no command 'sett'"
    block = "```bash\nlabram x && ls # y\ntorchrun -n 2 $(which labram) embed --out E\n```"
    assert _command_lines(f"run `eegprep stats S --json` and\n{block}") == [
        "labram x",
        "labram embed --out E",
        "eegprep stats S --json",
    ]


def test_install_page_names_every_extra_and_the_torch_range() -> None:
    """docs/install.md lists the extras pyproject.toml declares, and quotes its torch range."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    page = (DOCS / "install.md").read_text()
    listed = re.search(r"^Extras: (.*?)\.$", page, flags=re.M | re.S)
    assert listed, "docs/install.md: no 'Extras: ...' line"
    assert set(re.findall(r"`([a-z0-9-]+)`", listed.group(1))) == set(
        project["optional-dependencies"]
    )
    torch = next(d for d in project["dependencies"] if d.startswith("torch"))
    quoted = set(re.findall(r"`(torch[<>=!~][^`]*)`", page))
    assert quoted == {torch}


def test_readme_lists_every_docs_page_once() -> None:
    """README.md's Documentation section names each docs/*.md page exactly once."""
    section = (ROOT / "README.md").read_text().split("## Documentation", 1)[1]
    listed = re.findall(r"^- `docs/([\w-]+\.md)`", section, flags=re.M)
    assert sorted(listed) == sorted(p.name for p in DOCS.glob("*.md"))


def test_readme_snippet_runs(demo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """README.md's Python snippet runs as written, on the demo store in place of tuh.zarr."""
    monkeypatch.chdir(demo_dir)
    snippets = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    assert snippets
    for code in snippets:
        exec(compile(code.replace("tuh.zarr", "demo.zarr"), "README.md snippet", "exec"), {})


def _commands() -> list[tuple[str, click.Command]]:
    from cli import eegprep_cli, labram_cli

    found: list[tuple[str, click.Command]] = []
    todo: list[tuple[str, click.Command]] = [("eegprep", eegprep_cli), ("labram", labram_cli)]
    while todo:
        name, cmd = todo.pop()
        found.append((name, cmd))
        if isinstance(cmd, click.Group):
            todo += [(f"{name} {sub}", c) for sub, c in cmd.commands.items()]
    return sorted(found, key=lambda nc: nc[0])


@pytest.mark.parametrize("name", [name for name, _ in _commands()])
def test_every_help_has_an_example(name: str) -> None:
    """docs/cli.md: `--help` on every command (groups too), with examples that it runs."""
    from click.testing import CliRunner

    root = dict(_commands())[name.split()[0]]
    res = CliRunner().invoke(root, [*name.split()[1:], "--help"], terminal_width=100)
    assert res.exit_code == 0, res.output
    examples = res.output.split("Example", 1)
    assert len(examples) == 2, f"`{name} --help` shows no example"
    shown = examples[1].split("Options:")[0]
    runs = [ln for ln in _command_lines(f"```bash\n{shown}```") if ln.startswith(name)]
    assert runs, f"`{name} --help`: its examples do not run `{name}`"
    assert {ln: _command_problem(ln) for ln in runs} == dict.fromkeys(runs)


def test_the_run_folder_help_names_finetunes_default() -> None:
    """`labram finetune` writes to runs/finetune-<task> when --out is left out."""
    from click.testing import CliRunner

    from cli import labram_cli

    res = CliRunner().invoke(labram_cli, ["finetune", "--help"], terminal_width=200)
    assert "runs/finetune-<task>" in res.output


@pytest.mark.parametrize("name", [name for name, _ in _commands()])
def test_every_option_says_what_it_does(name: str) -> None:
    """Each option of each command has a help text (`--help` is the first page users read)."""
    cmd = dict(_commands())[name]
    bare = [p.opts[0] for p in cmd.params if isinstance(p, click.Option) and not p.help]
    assert bare == []


def _shared_outputs(lines: list[str]) -> list[str]:
    """Lines of one example that write the output an earlier, different line wrote (``--out``,
    else the command's default run folder): a training run folder or an embeddings store,
    which the second command refuses (the folder holds a run; the store was written with other
    arguments)."""
    refusing = ("labram embed", "labram tokenizer", "labram pretrain", "labram finetune")
    seen: dict[str, str] = {}
    clash = []
    for line in lines:
        if not line.startswith(refusing) or "[" in line or "--resume" in line:
            continue
        out = re.search(r"--out (\S+)", line)
        task = re.search(r"--task (\S+)", line)
        default = f"runs/{line.split()[1]}" + (f"-{task.group(1)}" if task else "")
        if seen.setdefault(out.group(1) if out else default, line) != line:
            clash.append(line)
    return clash


def test_no_example_writes_over_the_output_of_the_one_before() -> None:
    """Following a page's examples in order works: `labram embed ... --out emb.zarr` twice with
    other arguments stopped at the second (docs/training.md did)."""
    blocks = [
        b for page in PAGES for b in re.findall(r"```bash\n(.*?)```", page.read_text(), flags=re.S)
    ]
    clashes = [c for b in blocks for c in _shared_outputs(_command_lines(f"```bash\n{b}```"))]
    assert clashes == []
    assert _shared_outputs(["labram embed --out e --task t", "labram embed --out e"]) == [
        "labram embed --out e"
    ]
    assert _shared_outputs(["labram finetune --task a", "labram finetune --task a --seeds 2"])
    assert not _shared_outputs(["labram finetune --task a", "labram finetune --task b"])


def test_cli_page_numbers_are_the_codes() -> None:
    """The ingest defaults and worker-pool constants docs/cli.md quotes are the code's."""
    from cli import eegprep_cli
    from eegprep.ingestion import driver, options, workers

    page = " ".join((DOCS / "cli.md").read_text().split())
    ingest_cmd = eegprep_cli.commands["ingest"]
    default = {p.name: p.default for p in ingest_cmd.params}
    quoted = [
        f"`--file-memory-limit SIZE`** (default `{default['file_memory_limit']}`;",
        f"`--keep-replaced SECONDS` (default {default['keep_replaced']:g}, a day)",
        f"`--prune-max` (default {default['prune_max']:g})",
        f"at most {options.WORKERS_PER_CORE} per core",
        f"{workers.SOURCE_BYTES_PER_SECOND / 1e6:g} MB per CPU second",
        f"plus {workers.SECONDS_PER_RECORDING:g} s per recording",
        f"about {workers.FORK_START_SECONDS:g} s later when they are forked",
        f"or {workers.POOL_START_SECONDS:g} s later from a forkserver",
        f"~{workers.CONTENTION * 100:g}% slower",
        f"`--commit-every N` (default {default['commit_every']}, at least 1)",
        f"at the latest {driver.COMMIT_SECONDS:g} s after the last commit (`COMMIT_SECONDS`)",
    ]
    assert [q for q in quoted if q not in page] == []


def test_training_page_numbers_are_the_codes() -> None:
    """The data pipeline's and embed's defaults docs/training.md quotes are the code's."""
    import inspect

    from labram.data import loader
    from labram.data.sampler import BatchPlan
    from labram.data.windows import WindowSettings
    from labram.stages import embed
    from labram.train.config import TrainConfig

    page = " ".join((DOCS / "training.md").read_text().split())
    windows = WindowSettings()
    plan = inspect.signature(BatchPlan.__init__).parameters
    dataset = inspect.signature(loader.WindowDataset.__init__).parameters
    most = f"{embed.MAX_CHUNK_WINDOWS:,}"
    chunk = embed.EmbedConfig().chunk_windows
    min_lr = TrainConfig.__dataclass_fields__["min_lr"].default
    quoted = [
        f"above `max_channels` ({windows.max_channels})",
        f"`block_seconds` = {windows.block_seconds} s",
        f"within pools of {plan['pool_batches'].default} batches",
        f"up to {dataset['group_mb'].default:g} MB of samples (`group_mb`)",
        f"An LRU cache of {dataset['cache_mb'].default:g} MB of chunks per process (`cache_mb`)",
        f"`--chunk-windows` ({chunk}, at most {most}:",
        f"cosine to `min_lr` ({min_lr:.0e})".replace("e-0", "e-"),
    ]
    assert [q for q in quoted if q not in page] == []


def _script_lines(text: str) -> list[tuple[str, str]]:
    """Every ``python SCRIPT ...`` / ``python -m MODULE ...`` a page shows, in a block (``$ ``
    prompts included) or a code span: (script path or ``-m module``, the rest of the line)."""
    found = []
    for line in text.splitlines():
        for hit in re.finditer(r"python3? (-m [\w.]+|[\w./-]+\.py)([^`#&|;)]*)", line):
            found.append((hit.group(1), hit.group(2)))
    return found


def _script_options(path: Path) -> set[str]:
    """The ``--options`` a script's argparse parser declares (read from its source)."""
    import ast

    return {
        str(arg.value)
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument"
        for arg in node.args
        if isinstance(arg, ast.Constant) and str(arg.value).startswith("-")
    }


def _script_problem(target: str, rest: str, page: str = "") -> str | None:
    """What is wrong with one documented ``python`` command (None: it runs as shown); a script
    named without a folder passes when ``page`` tells the reader to save it (`save this as`)."""
    import importlib.util

    if target.startswith("-m "):
        module = target.split()[1]
        if module.split(".")[0] not in ("eegprep", "labram", "tests", "benchmarks"):
            return None  # another distribution's tool (pytest, build): maybe not installed here
        try:
            return None if importlib.util.find_spec(module) else f"no module {module}"
        except ModuleNotFoundError:  # a parent package is missing
            return f"no module {module}"
    if "/" not in target and re.search(rf"save [^.]*`{re.escape(target)}`", page):
        return None
    script = ROOT / target
    if not script.is_file():
        return f"no script {target}"
    known = _script_options(script) | {"--help", "-h"}
    unknown = re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", rest)
    return ", ".join(f"{target}: no option {o}" for o in unknown if o not in known) or None


def test_every_documented_script_and_module_exists() -> None:
    """`python benchmarks/ingest.py --hours 1`, `python -m tests.real.measure`: the script or
    module a page runs is in the repository (or installed), with the options shown."""
    wrong = sorted(
        f"{page.name}: python {target}{rest}: {problem}"
        for page in PAGES
        for target, rest in _script_lines(page.read_text())
        if (problem := _script_problem(target, rest, page.read_text()))
    )
    assert wrong == []
    assert _script_problem("benchmarks/ingest.py", " --hours 1 --repeat 3") is None
    assert _script_problem("benchmarks/ingest.py", " --hour 1") == (
        "benchmarks/ingest.py: no option --hour"
    )
    assert _script_problem("benchmarks/ingst.py", "") == "no script benchmarks/ingst.py"
    assert _script_problem("-m tests.real.nothing", "") == "no module tests.real.nothing"
    assert _script_problem("-m tests.gone.measure", "") == "no module tests.gone.measure"
    assert _script_problem("rss2.py", " FILE") == "no script rss2.py"
    assert _script_problem("m.py", "", "save this as `m.py` in the repository root") is None


def _value_problem(param: click.Parameter, value: str) -> str | None:
    """Why ``param`` refuses ``value`` (None: it takes it, or the value is a placeholder such
    as `N` or `DIR`, or the option's type is not a choice or a number)."""
    value = value.strip("'\"")
    checked = (click.Choice, click.types.IntParamType, click.types.FloatParamType)
    if value.isupper() or not re.fullmatch(r"[\w.+-]+", value):
        return None
    if not isinstance(param.type, checked) or param.nargs != 1:
        return None
    try:
        param.type(value, param, None)
    except click.BadParameter as exc:
        return f"{param.opts[0]} {value}: {exc.message}"
    return None


def _value_problems(line: str) -> list[str]:
    """The values one documented command line gives its options that the option refuses (a
    choice not among its choices, a number out of range); placeholders (`N`, `DIR`) pass."""
    from cli import eegprep_cli, labram_cli

    words = line.split()
    cmd: click.Command = {"eegprep": eegprep_cli, "labram": labram_cli}[words[0]]
    problems, i = [], 1
    while i < len(words):
        if isinstance(cmd, click.Group) and words[i] in cmd.commands:
            cmd = cmd.commands[words[i]]
        elif words[i].startswith("--"):
            name, eq, value = words[i].partition("=")
            param = next((p for p in cmd.params if name in p.opts), None)
            takes = isinstance(param, click.Option) and not (param.is_flag or param.count)
            if takes and not eq and i + 1 < len(words):
                i, value = i + 1, words[i + 1]
            if param is not None and takes and (problem := _value_problem(param, value)):
                problems.append(problem)
        i += 1
    return problems


def test_every_documented_option_value_is_accepted() -> None:
    """`--size tiny`, `--encoding quantized`, `--protocol loso`: a value the docs give an option
    is one it takes (a renamed choice cannot leave the docs behind)."""
    wrong = sorted(
        f"{page.name}: {line}: {problem}"
        for page in PAGES
        for line in _command_lines(page.read_text())
        for problem in _value_problems(line)
    )
    assert wrong == []
    assert _value_problems("labram pretrain --size tiny --max-steps 3 --store S") == []
    assert _value_problems("eegprep ingest tuh --mode fast --workers N") == []
    assert _value_problems("labram pretrain --size tiniest")
    assert _value_problems("eegprep ingest tuh --encoding=float64")


def test_every_option_of_every_command_is_documented() -> None:
    """Each option of each command (`eegprep ingest --commit-every`) is named in the README or
    a docs page: `--help` is not the only place a user can learn it exists."""
    text = "\n".join(page.read_text() for page in PAGES)
    undocumented = sorted(
        f"{name} {opt}"
        for name, cmd in _commands()
        for param in cmd.params
        if isinstance(param, click.Option) and not param.hidden
        for opt in (*param.opts, *param.secondary_opts)
        if not re.search(rf"(?<![\w-]){re.escape(opt)}(?![\w-])", text)
    )
    assert undocumented == []


def _quoted_ranges(text: str) -> list[tuple[str, str, float, float, bool]]:
    """The rows of docs/cli.md's table of the numeric options' ranges, one per option named:
    (option, the command group(s) the row names, low, high, low excluded), from
    `| `--limit`, `--commit-every` | `eegprep ingest` | 1 to 2,147,483,647 |`."""
    table = text.split("| option | of | range |", 1)[1].split("\n\n", 1)[0]
    found = []
    for opts, of, span in re.findall(r"^\s*\| (.+?) \| (.+?) \| (.+?) \|$", table, flags=re.M):
        hit = re.match(r"(above )?([\d.,e+-]+)[^,]*?,? to ([\d.,e+-]+)", span)
        if hit is None or "byte" in span:  # (a size, `512M`: its own type, bounded in its words)
            continue
        low, high = (float(hit.group(k).replace(",", "")) for k in (2, 3))
        groups = " ".join(g for g in ("eegprep", "labram") if g in of)
        found += [
            (o, groups, low, high, bool(hit.group(1))) for o in re.findall(r"`(--[\w-]+)`", opts)
        ]
    return found


def test_the_ranges_the_cli_page_quotes_are_the_options() -> None:
    """docs/cli.md's "Numeric options" table gives each numeric option of the named command
    group the range its type takes (`--workers`: 0 to 1,024 for `eegprep ingest`, 0 to 256 for
    labram's training commands), so a bound changed in eegprep/base/bounds.py cannot leave it."""
    rows = _quoted_ranges((DOCS / "cli.md").read_text())
    assert len(rows) >= 20
    wrong, seen = [], set()
    for opt, groups, low, high, open_low in rows:
        for name, cmd in _commands():
            for p in cmd.params:
                if opt not in p.opts or name.split()[0] not in groups:
                    continue
                seen.add(opt)
                got = (getattr(p.type, "min", None), getattr(p.type, "max", None))
                if got != (low, high) or bool(getattr(p.type, "min_open", False)) != open_low:
                    wrong.append(f"{name} {opt}: the page says {low:g} to {high:g}, it takes {got}")
    assert wrong == []
    assert {opt for opt, *_ in rows} == seen
    bounded = {
        opt
        for _, cmd in _commands()
        for p in cmd.params
        if isinstance(p, click.Option) and not p.count and getattr(p.type, "max", None) is not None
        for opt in p.opts
    }
    assert bounded - seen == set()  # every bounded option has its row
    row = "| `--a`, `--b` | `eegprep x`; `labram` y | above 0, to 1,024 s (z) |\n\n"
    assert _quoted_ranges(f"| option | of | range |\n|---|---|---|\n{row}") == [
        ("--a", "eegprep labram", 0.0, 1024.0, True),
        ("--b", "eegprep labram", 0.0, 1024.0, True),
    ]
