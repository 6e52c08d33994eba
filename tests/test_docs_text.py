"""The docs' own text against the code: no merge leftovers, a CHANGELOG of bullets, every
path, test file and manifest error they name, the exit statuses, the quoted --set lines, the
synopses and the quoted messages' counts (split from tests/test_docs.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import click
import pytest

from tests.test_docs import _commands

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def _conflict_lines(text: str) -> list[str]:
    """The lines of ``text`` a merge conflict left (`<<<<<<< HEAD`, `=======`, `>>>>>>> b`)."""
    return [
        f"{n}: {line}"
        for n, line in enumerate(text.splitlines(), start=1)
        if re.match(r"(<{7}|={7}|>{7})( |$)", line)
    ]


def test_no_merge_conflict_leftovers() -> None:
    """No page, the README or the changelog keeps a merge's `<<<<<<<` / `=======` / `>>>>>>>`
    line (a conflict resolved by committing both sides)."""
    left = [
        f"{page.name}:{hit}"
        for page in [*PAGES, ROOT / "CHANGELOG.md"]
        for hit in _conflict_lines(page.read_text())
    ]
    assert left == []
    assert _conflict_lines("a\n<<<<<<< HEAD\nb\n=======\nc\n>>>>>>> x\n") == [
        "2: <<<<<<< HEAD",
        "4: =======",
        "6: >>>>>>> x",
    ]
    assert _conflict_lines("Title\n=====\n| a |\n|=======|\n") == []


def _changelog_problems(text: str) -> list[str]:
    """What is wrong with a changelog's [Unreleased] section: not exactly one `### Added`,
    `### Changed`, `### Fixed` (in that order), or a line that is neither a heading, a `- `
    bullet nor a bullet's continuation (indented two spaces)."""
    if text.count("## [Unreleased]") != 1:
        return [f"{text.count('## [Unreleased]')} [Unreleased] headings"]
    section = re.split(r"^## ", text.split("## [Unreleased]", 1)[1], flags=re.M)[0]
    headings = re.findall(r"^### (.*)$", section, flags=re.M)
    problems = [] if headings == ["Added", "Changed", "Fixed"] else [f"headings {headings}"]
    return problems + [
        f"not a bullet: {line}"
        for line in section.splitlines()[1:]
        if line.strip() and not re.match(r"(### |- |  \S)", line)
    ]


def test_changelog_unreleased_has_one_of_each_section_and_only_bullets() -> None:
    """CHANGELOG.md's [Unreleased]: one `### Added`, `### Changed`, `### Fixed` each, in that
    order, and every entry a `- ` bullet (a second `### Fixed` from a merge is caught)."""
    assert _changelog_problems((ROOT / "CHANGELOG.md").read_text()) == []
    good = "# C\n\n## [Unreleased]\n\n### Added\n- a\n  b\n### Changed\n### Fixed\n- c\n"
    assert _changelog_problems(good) == []
    assert _changelog_problems(good + "### Fixed\n- d\n") == [
        "headings ['Added', 'Changed', 'Fixed', 'Fixed']"
    ]
    assert _changelog_problems(good.replace("- c", "c")) == ["not a bullet: c"]
    assert _changelog_problems(good + "## [Unreleased]\n") == ["2 [Unreleased] headings"]


def test_every_test_file_named_alone_exists() -> None:
    """A test file a page names without its folder (`test_integrity.py`, as docs/safety.md's
    table does) is one of the suite's: a renamed test cannot leave its claim unbacked."""
    suite = {path.name for path in (ROOT / "tests").rglob("test_*.py")}
    named = {
        f"{page.name}: {hit}"
        for page in PAGES
        for hit in re.findall(r"(?<![\w/])(test_\w+\.py)", page.read_text())
        if hit not in suite
    }
    assert sorted(named) == []


def test_every_repository_path_named_exists() -> None:
    """A file or folder of the repository a page names (`eegprep/ingestion/`, `.ci/run`,
    `tests/real/fetch.py`; an installed path such as `eegprep/docs/` maps back to `docs/`) is
    there: tests/test_packaging.py checks files with a suffix, this folders and the rest too."""
    from tests.test_packaging import _resolve

    found = {
        f"{page.name}: {hit}"
        for page in PAGES
        for hit in re.findall(
            r"(?<![\w./-])((?:eegprep|labram|tests|benchmarks|manifests|docs|\.ci)/[\w./-]*\w/?)"
            r"(?![\w*./-])",
            page.read_text(),
        )
        if not any(p.exists() for p in _path_candidates(hit, _resolve))
    }
    assert sorted(found) == []


def _path_candidates(named: str, resolve: Callable[[str], Path]) -> list[Path]:
    """Where a path a page names may be: itself, an installed path's checkout folder
    (`eegprep/docs` -> `docs`), or `tests/x/helpers.function`'s module `tests/x/helpers.py`."""
    bare = named.rstrip("/")
    module = re.sub(r"\.\w+$", "", bare).replace(".", "/") + ".py"
    return [ROOT / bare, resolve(bare), resolve(f"{bare}/"), ROOT / module]


def _manifest_with(line: str, shipped: str) -> str:
    """The shipped manifest text changed as the error ``line`` of docs/manifest-format.md
    says: an unknown top-level key added, `mains` given as a string, a pattern that is no
    regular expression."""
    if hit := re.search(r"unknown key '(\w+)'", line):
        return f"{hit.group(1)} = 1\n{shipped}"
    if "key 'mains' must be" in line:
        return re.sub(r"(?m)^mains = .*$", 'mains = "60"', shipped)
    if "path.pattern is not a valid regex" in line:
        return re.sub(r"(?m)^pattern = .*$", 'pattern = "("', shipped)
    raise AssertionError(f"docs/manifest-format.md: no case for {line!r}")


def test_manifest_error_examples_are_what_loading_says() -> None:
    """docs/manifest-format.md's example errors are the lines eegprep prints for those
    mistakes: it showed `unknown key 'colour' (did you mean 'formats'?)`, a hint no loader
    gives ('colour' is near no key)."""
    import tomllib

    from eegprep.base.errors import EegprepError
    from eegprep.corpus.manifest import parse_manifest

    page = (DOCS / "manifest-format.md").read_text()
    lines = re.findall(r"^error: (/home/me/my_seed\.toml: .*)$", page, flags=re.M)
    assert len(lines) >= 3
    shipped = (ROOT / "manifests" / "tuh.toml").read_text()
    said = []
    for line in lines:
        try:
            data = tomllib.loads(_manifest_with(line, shipped))
            parse_manifest(data, "/home/me/my_seed.toml")
        except EegprepError as exc:
            said.append(str(exc))
        else:
            said.append("(loaded)")
    assert said == lines


def _exit_statuses_in(
    fn: Callable[..., object], depth: int = 0, seen: set[object] | None = None
) -> set[int]:
    """The exit statuses ``fn`` gives with ``sys.exit(N)`` (a number, ``A if ... else B``, or a
    module constant), its own or those of the functions of its module it calls (3 deep)."""
    import ast
    import inspect
    import textwrap

    seen = set() if seen is None else seen
    fn = inspect.unwrap(fn)
    if fn in seen or depth > 3:
        return set()
    seen.add(fn)
    names = getattr(fn, "__globals__", {})
    found: set[int] = set()
    for node in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(fn)))):
        if not isinstance(node, ast.Call):
            continue
        call = node.func
        if isinstance(call, ast.Name) and inspect.isfunction(names.get(call.id)):
            found |= _exit_statuses_in(names[call.id], depth + 1, seen)
        elif ast.unparse(call) == "sys.exit" and node.args:
            for part in ast.walk(node.args[0]):
                value = part.value if isinstance(part, ast.Constant) else None
                if isinstance(part, ast.Name):
                    value = names.get(part.id)
                if isinstance(value, int) and not isinstance(value, bool):
                    found.add(value)
    return found


def _exit_constants() -> set[int]:
    """Every ``EXIT_<NAME> = N`` of the code: the statuses the command lines' shared paths give
    (usage, internal error, signals, a closed pipe)."""
    code = [ROOT / "cli.py", *(ROOT / "eegprep").rglob("*.py"), *(ROOT / "labram").rglob("*.py")]
    return {
        int(hit)
        for path in code
        for hit in re.findall(r"(?m)^EXIT_[A-Z_]+ = (\d+)\b", path.read_text())
    }


def _policy_problems(policy: str) -> list[str]:
    """What docs/cli.md's exit-status policy leaves out: a status the code gives (`141 for`),
    or a command that exits with a status of its own (3, `eegprep validate`'s 1) unnamed."""
    said = " ".join(policy.split())
    missing = [
        f"status {n}" for n in sorted(_exit_constants()) if not re.search(rf"\b{n} for\b", said)
    ]
    for name, cmd in _commands():
        own = _exit_statuses_in(cmd.callback) - {0, 2} if cmd.callback else set()
        if own and not re.search(rf"`{name}`|`{name.split()[-1]}`", said):
            missing.append(f"`{name}` (exits {', '.join(map(str, sorted(own)))})")
    return missing


def test_the_exit_status_policy_names_every_status_and_command() -> None:
    """docs/cli.md's policy, "in one place", holds every exit status the code gives and each
    command that gives one of its own: it left out 141 (a reader gone), `eegprep validate`'s
    1 for a problem found and `labram embed`'s 3 for windows left out."""
    page = (DOCS / "cli.md").read_text()
    policy = page.split("- The policy, in one place:", 1)[1].split("\n- ", 1)[0]
    assert _policy_problems(policy) == []
    assert "status 141" in _policy_problems("2 for usage, 3 for `labram embed`")
    assert _exit_statuses_in(dict(_commands())["eegprep validate"].callback) == {0, 1}


def _quoted_lines(text: str) -> list[str]:
    """The code spans of a page (its prose: blocks left out), each on one line."""
    prose = " ".join(re.sub(r"```.*?```", "", text, flags=re.S).split())
    return [(a or b).strip() for a, b in re.findall(r"``(.+?)``|`([^`]+)`", prose)]


SET_QUOTE = re.compile(
    r"(?:(?:error|warning): )?(?:--set (?P<item>\S+?):|(?P<flag>--[\w-]+ \S+) overrides --set "
    r"(?P<over>\S+) )"
)
"""A quoted line about one `--set` item: `error: --set ITEM: ...`, `--set ITEM: Invalid ...`,
`warning: --FLAG V overrides --set ITEM (...)`."""

BARE_REFUSAL = re.compile(r"error: (Invalid value for(?! '-)|unknown config field)")
"""A config value's refusal quoted without the `--set` item or the file that it names first
(`error: Invalid value for '--lr'` is an option's, which names it)."""


def _set_quote_problem(quote: str) -> str | None:
    """Why a quoted `--set` line is not one a training command prints for that item (None: one
    of `labram finetune --task tuab`, `pretrain` and `tokenizer` prints a line it starts;
    `...` stands for any text), or a config refusal quoted without its item or file."""
    from tests.labram.cli_runs import run_labram

    hit = SET_QUOTE.match(quote)
    if hit is None:
        bare = BARE_REFUSAL.match(quote)
        return "a config refusal quoted without the --set item or file it names" if bare else None
    args = ["--set", hit["item"] or hit["over"], *(hit["flag"].split() if hit["flag"] else [])]
    pattern = ".*".join(re.escape(part) for part in quote.split("..."))
    said = []
    for cmd in (["finetune", "--task", "tuab"], ["pretrain"], ["tokenizer"]):
        _, output = run_labram(*cmd, "--store", "no-store-here.zarr", "--size", "tiny", *args)
        said += output.splitlines()
        if any(re.match(pattern, line.removeprefix("error: ").removeprefix("warning: "))
               or re.match(pattern, line) for line in said):  # fmt: skip
            return None
    return f"no training command says it; they say {said}"


def test_every_quoted_set_line_is_what_the_command_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `--set` refusal or warning the docs quote is a line the command prints for that item,
    and a config refusal is quoted with the item or file it names first: docs/training.md
    showed `error: Invalid value for `epochs`: ...` and `error: unknown config field 'lrr'`,
    where the command prints `error: --set epochs=abc: Invalid value ...` (or `FILE: ...`)."""
    monkeypatch.chdir(tmp_path)  # (a command refused after all would write runs/ here)
    wrong = {
        f"{page.name}: {quote}": problem
        for page in PAGES
        for quote in _quoted_lines(page.read_text())
        if quote.startswith(("error: ", "warning: ", "--set "))
        and (problem := _set_quote_problem(quote))
    }
    assert wrong == {}
    assert _set_quote_problem("error: --set epochs=abc: Invalid value for `epochs`: ...") is None
    assert _set_quote_problem("error: --set epochs=abc: not a number") is not None
    assert _set_quote_problem("error: unknown config field 'lrr'.") is not None


def _synopses(text: str) -> list[str]:
    """The synopsis lines of a page: a command line of a bash block or a code span that shows
    options in brackets (`labram export CKPT [--out NAME] [--force]`), cut at `&&`, `;` and a
    trailing `# comment` (a `|` inside brackets lists choices)."""
    blocks = re.findall(r"```(?:bash|sh|shell)\n(.*?)```", text, flags=re.S)
    prose = re.sub(r"```.*?```|``.*?``", "", text, flags=re.S).replace("\n", " ")
    lines = [ln for b in blocks for ln in b.splitlines()] + re.findall(r"`([^`]+)`", prose)
    parts = (p.strip() for ln in lines for p in re.split(r"&&|;", re.sub(r"\s#.*$", "", ln)))
    return [p for p in parts if "[" in p and p.split()[:1] in (["eegprep"], ["labram"])]


def _synopsis_problem(line: str) -> str | None:
    """What a synopsis line says wrong of its options (None: right): an option shown without
    brackets (`--init CKPT`) must be required, one in brackets must not be."""
    from cli import eegprep_cli, labram_cli

    words = line.split()
    cmd: click.Command = {"eegprep": eegprep_cli, "labram": labram_cli}[words[0]]
    for word in words[1:]:
        if not (isinstance(cmd, click.Group) and word in cmd.commands):
            break
        cmd = cmd.commands[word]
    required = {o for p in cmd.params if p.required for o in p.opts}
    bare = re.sub(r"\[[^\]]*\]", " ", line)
    shown = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", bare))
    optional = set(re.findall(r"\[\s*(--[a-z][a-z0-9-]*)", line)) - shown
    wrong = [f"{o} is optional" for o in sorted(shown - required)]
    wrong += [f"{o} is required" for o in sorted(optional & required)]
    return ", ".join(wrong) or None


def test_every_synopsis_brackets_the_optional_options_alone() -> None:
    """A synopsis (`labram finetune --store S --task T [--init CKPT]`) shows the options a
    command requires bare and the others in brackets: docs/training.md showed `--init CKPT` and
    `labram export CKPT --out NAME.safetensors` bare, both optional (a random start; the
    checkpoint's name)."""
    wrong = sorted(
        f"{page.name}: {line}: {problem}"
        for page in PAGES
        for line in _synopses(page.read_text())
        if (problem := _synopsis_problem(line))
    )
    assert wrong == []
    assert _synopsis_problem("labram evaluate --store S --task T --checkpoint C [--json]") is None
    assert _synopsis_problem("labram finetune --store S --task T --init C [--seeds N]") == (
        "--init is optional"
    )
    assert _synopsis_problem("labram evaluate [--store S] --task T --checkpoint C") == (
        "--store is required"
    )
    assert _synopses("`labram export C [--size tiny|base] && ls`") == [
        "labram export C [--size tiny|base]"
    ]


def _plural_hedges(text: str) -> list[str]:
    """The quoted lines of a page (code spans of three words or more: a message, not a word
    the rule names) that count with `noun(s)`: every message counts through
    `eegprep.base.wording`, so such a quote is one the code no longer prints."""
    return [
        quote
        for quote in _quoted_lines(text)
        if len(quote.split()) >= 3 and re.search(r"[A-Za-z]\(s\)", quote)
    ]


def test_no_quoted_message_counts_with_a_plural_hedge() -> None:
    """docs/training.md quoted `20 window(s) of 1 recording hold a single token` and `it holds
    the run of seed(s) 0`, docs/cli.md and docs/corpora.md `1 event(s) ...`, where the commands
    print `20 windows`, `seed 0`, `1 event` (docs/cli.md: never `recording(s)`)."""
    hedged = [f"{page.name}: {q}" for page in PAGES for q in _plural_hedges(page.read_text())]
    assert hedged == []
    assert _plural_hedges("say `2 gap(s) (4 s) between records` but not `recording(s)`") == [
        "2 gap(s) (4 s) between records"
    ]


def _table_problems(text: str) -> list[str]:
    """The table lines of a page that do not render as the table they belong to: a run of
    `|` lines (outside code blocks) whose first two lines are not a header and its `|---|`
    row (rows cut off from their table by a paragraph, shown as text), and a row with
    another number of cells than its header. A `|` splits a cell wherever it is not escaped
    as `\\|`, inside a code span too (GitHub's tables), so `` `|` `` in a cell adds one."""
    problems, lines, start = [], text.splitlines(), None
    lines.append("")
    in_block = False
    for n, line in enumerate(lines, start=1):
        if line.startswith("```"):
            in_block = not in_block
        is_row = not in_block and line.startswith("|")
        if is_row and start is None:
            start = n
        if is_row or start is None:
            continue
        rows, start = lines[start - 1 : n - 1], None
        first = n - len(rows)
        if len(rows) < 2 or not re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", rows[1].strip()):
            problems.append(f"line {first}: rows without a header: {rows[0][:60]}")
            continue
        cells = [len(re.findall(r"(?<!\\)\|", row.strip())) - 1 for row in rows]
        problems += [
            f"line {first + i}: {k} cells, its header {cells[0]}: {rows[i][:60]}"
            for i, k in enumerate(cells)
            if k != cells[0]
        ]
    return problems


def test_every_table_renders_as_a_table() -> None:
    """Each table of a page has its header, and each row its header's cells: docs/
    manifest-format.md's top-level keys had a paragraph between their rows (the last two
    shown as text), and a docs/safety.md row a `` `|` `` that split its cell in two."""
    wrong = [f"{page.name}: {p}" for page in PAGES for p in _table_problems(page.read_text())]
    assert wrong == []
    table = "| a | b |\n|---|---|\n| `x\\|y` | z |\n"
    assert _table_problems(table) == []
    assert _table_problems(table + "\ntext\n| c | d |\n") == [
        "line 6: rows without a header: | c | d |"
    ]
    assert _table_problems(table + "| `|` | z |\n") == [
        "line 4: 3 cells, its header 2: | `|` | z |"
    ]
    assert _table_problems("```\n| a |\n```\n") == []
