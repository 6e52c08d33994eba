"""Where a corpus's folder comes from, seen as a user on another machine sees it.

``eegprep ingest tuh --out s.zarr`` takes the folder from ``--src``, ``EEGPREP_TUH_DIR`` or
the config file. Before: the ingest said nothing of which one it used (the summary named the
store alone, the report the folder but not the setting); a folder that was the wrong one was
met with ``is --src the right folder?`` though no ``--src`` was given; an unreadable corpus
folder was ``.../zarr.json: cannot use it (Permission denied); ... pick another place`` (a
file the user never named) or ``holds no file with an extension``; and ``TUH`` for ``tuh``
got no suggestion, with a hint of ``--manifest`` where the command has no such option.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep.base.errors import UsageError
from eegprep.corpus.manifest import available, load_manifest


def _setting(
    how: str, root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[str], str]:
    """The arguments that name ``root`` by ``how``, and the setting a line should name."""
    monkeypatch.delenv("EEGPREP_TUH_DIR", raising=False)
    config = tmp_path / "conf" / "config.toml"
    monkeypatch.setenv("EEGPREP_CONFIG", str(config))
    if how == "--src":
        return ["--src", str(root)], "--src"
    if how == "variable":
        monkeypatch.setenv("EEGPREP_TUH_DIR", str(root))
        return [], "EEGPREP_TUH_DIR"
    config.parent.mkdir()
    config.write_text(f"[corpora]\ntuh = {json.dumps(str(root))}\n")
    return [], f"corpora.tuh in {config}"


SETTINGS = ["--src", "variable", "config file"]


@pytest.mark.parametrize("how", SETTINGS)
def test_the_ingest_names_the_folder_it_used_and_the_setting_that_gave_it(
    how: str, tuh_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args, setting = _setting(how, tuh_corpus, tmp_path, monkeypatch)
    store = tmp_path / "s.zarr"
    res = CliRunner().invoke(eegprep_cli, ["ingest", "tuh", "--out", str(store), *args])
    assert res.exit_code == 0, res.output
    assert f"source: {tuh_corpus} ({setting})" in res.output.splitlines(), res.output
    (saved,) = (store / "_eegprep" / "reports").iterdir()
    report = json.loads(saved.read_text())
    assert (report["root"], report["root_from"]) == (str(tuh_corpus), setting)
    res = CliRunner().invoke(eegprep_cli, ["-q", "ingest", "tuh", "--out", str(store), *args])
    assert "source:" not in res.output  # (-q: errors and results only)


def _not_a_corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "notes.txt").write_text("not EEG")
    return folder


def _a_store(tmp_path: Path) -> Path:
    store = tmp_path / "old.zarr"
    (store / "_eegprep").mkdir(parents=True)
    (store / "zarr.json").write_text('{"zarr_format": 3, "node_type": "group"}')
    return store


@pytest.mark.parametrize("wrong", [_not_a_corpus, _a_store])
@pytest.mark.parametrize("how", ["variable", "config file"])
def test_a_wrong_folder_is_blamed_on_the_setting_that_named_it(
    how: str, wrong: Callable[[Path], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = wrong(tmp_path)
    args, setting = _setting(how, folder, tmp_path, monkeypatch)
    res = CliRunner().invoke(eegprep_cli, ["ingest", "tuh", "--out", str(tmp_path / "s"), *args])
    assert res.exit_code == 2 and res.output.count("\n") == 1, res.output
    assert setting in res.output and "--src and --out" not in res.output, res.output
    assert "is --src the" not in res.output, res.output


def _unreadable(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """``folder`` as a user who may not read it finds it (mode 000; the tests may run as
    root, whom no mode stops): it can be looked up, but neither listed nor looked into."""
    real_scandir, real_stat = os.scandir, os.stat
    inside = str(folder) + os.sep

    def denied(path: str) -> PermissionError:
        return PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)

    def scandir(path: object = ".") -> object:
        if os.fspath(path).rstrip(os.sep) == str(folder):  # type: ignore[call-overload]
            raise denied(os.fspath(path))  # type: ignore[call-overload]
        return real_scandir(path)  # type: ignore[call-overload]

    def stat(path: object, *args: object, **kwargs: object) -> os.stat_result:
        if isinstance(path, (str, os.PathLike)) and os.fspath(path).startswith(inside):
            raise denied(os.fspath(path))
        return real_stat(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "stat", stat)


@pytest.mark.parametrize("which", [".", "edf"])
@pytest.mark.parametrize("how", SETTINGS)
def test_an_unreadable_corpus_folder_is_one_line_saying_so(
    how: str, which: str, tuh_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args, setting = _setting(how, tuh_corpus, tmp_path, monkeypatch)
    _unreadable(monkeypatch, (tuh_corpus / which).resolve())
    res = CliRunner().invoke(eegprep_cli, ["ingest", "tuh", "--out", str(tmp_path / "s"), *args])
    assert res.exit_code == 2 and res.output.count("\n") == 1, res.output
    assert "Permission denied" in res.output and str(tuh_corpus / which).rstrip("/.") in res.output
    assert "zarr.json" not in res.output and "no file with an extension" not in res.output
    assert how == "--src" or setting in res.output, res.output
    assert "internal error" not in res.output


@pytest.mark.parametrize("name", available())
def test_a_corpus_name_in_upper_case_is_pointed_to_its_own(name: str) -> None:
    with pytest.raises(UsageError) as err:
        load_manifest(name.upper())
    assert f"Did you mean {name!r}?" in str(err.value)
    # (`corpora NAME` and `labram predict --corpus` have no such option)
    assert "--manifest" not in str(err.value)


@pytest.mark.parametrize(
    "command", [["ingest", "TUH", "--out", "s.zarr"], ["corpora", "TUH"]], ids=["ingest", "corpora"]
)
def test_every_command_taking_a_corpus_name_suggests_its_case(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(eegprep_cli, command)
    assert res.exit_code == 2 and res.output.count("\n") == 1, res.output
    assert "Did you mean 'tuh'?" in res.output and "Known: " in res.output, res.output


def _unsearchable(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Nothing under ``folder`` can be looked up or opened (mode 000 on ``folder``, as a user
    who is not root meets it): every path inside it is EACCES."""
    inside = str(folder) + os.sep
    real = {name: getattr(os, name) for name in ("stat", "lstat", "open")}

    def patched(name: str) -> Callable[..., object]:
        def call(path: object, *args: object, **kwargs: object) -> object:
            if isinstance(path, (str, os.PathLike)) and os.fspath(path).startswith(inside):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))
            return real[name](path, *args, **kwargs)

        return call

    for name in real:
        monkeypatch.setattr(os, name, patched(name))


@pytest.mark.parametrize("how", ["variable", "config file"])
def test_a_folder_under_one_that_may_not_be_searched_names_its_setting(
    how: str, tuh_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args, setting = _setting(how, tuh_corpus / "edf", tmp_path, monkeypatch)
    _unsearchable(monkeypatch, tuh_corpus)
    res = CliRunner().invoke(eegprep_cli, ["ingest", "tuh", "--out", str(tmp_path / "s"), *args])
    assert res.exit_code == 2 and res.output.count("\n") == 1, res.output
    assert setting in res.output and "Permission denied" in res.output, res.output
    assert "pick another place" not in res.output  # (a store's wording: no store was named)
    if how == "config file":  # the other entries still shown, this one with its problem
        res = CliRunner().invoke(eegprep_cli, ["config", "show"])
        assert res.exit_code == 0, res.output
        assert "cannot be looked up (Permission denied)" in res.output, res.output


def test_a_config_file_that_may_not_be_reached_is_not_taken_for_none(
    tuh_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: a config file in a folder that may not be searched read as no config file,
    unsaid: `no folder for corpus 'tuh'... run eegprep config set` (which could not write it)."""
    _, _ = _setting("config file", tuh_corpus, tmp_path, monkeypatch)
    config = Path(os.environ["EEGPREP_CONFIG"])
    _unsearchable(monkeypatch, config.parent)
    res = CliRunner().invoke(eegprep_cli, ["ingest", "tuh", "--out", str(tmp_path / "s")])
    assert res.exit_code == 2 and res.output.count("\n") == 1, res.output
    assert str(config) in res.output and "Permission denied" in res.output, res.output
    assert "no folder for corpus" not in res.output


def _no_such_user() -> str:
    import pwd

    names = {entry.pw_name for entry in pwd.getpwall()}
    return next(f"ghost{i}" for i in range(1000) if f"ghost{i}" not in names)


@pytest.mark.parametrize("how", ["variable", "config file", "EEGPREP_CONFIG"])
def test_a_tilde_of_a_user_this_machine_lacks_is_one_line_naming_the_user(
    how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: ``~ghost/tuh`` stayed as written, a relative path: the line spoke of a folder
    relative to where eegprep runs (or, as the config file's, under its folder), and a
    ``EEGPREP_CONFIG=~ghost/c.toml`` read as no config file, `config set` offered to write it
    under the working folder."""
    user = _no_such_user()
    monkeypatch.chdir(tmp_path)
    if how == "EEGPREP_CONFIG":
        monkeypatch.setenv("EEGPREP_CONFIG", f"~{user}/config.toml")
        args: list[str] = []
    else:
        args, _ = _setting(how, Path(f"~{user}/tuh"), tmp_path, monkeypatch)
    res = CliRunner().invoke(eegprep_cli, ["ingest", "tuh", "--out", str(tmp_path / "s"), *args])
    assert res.exit_code == 2 and res.output.count("\n") == 1, res.output
    assert f"no user {user!r}" in res.output and "relative path" not in res.output, res.output
    assert "config set" not in res.output


def test_a_config_variable_naming_a_folder_is_refused_not_taken_for_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: ``EEGPREP_CONFIG=~/eegprep/`` lost its slash, and `config set` wrote a file
    named ``eegprep``, where the user meant a folder."""
    monkeypatch.setenv("EEGPREP_CONFIG", f"{tmp_path / 'conf'}/")
    res = CliRunner().invoke(eegprep_cli, ["config", "set", "tuh", str(tmp_path)])
    assert res.exit_code == 2 and res.output.count("\n") == 1, res.output
    assert "EEGPREP_CONFIG" in res.output and "ends in '/'" in res.output, res.output
    assert not (tmp_path / "conf").exists()


@pytest.mark.parametrize("form", ["{}.toml", "{}/", "./{}.toml"])
@pytest.mark.parametrize("command", ["ingest", "corpora"])
def test_a_corpus_name_written_as_a_file_points_to_the_name(
    command: str, form: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: ``eegprep ingest tuh.toml`` was ``tuh.toml: manifest file not found``."""
    monkeypatch.chdir(tmp_path)
    for name in available():
        given = form.format(name)
        args = [command, given] + (["--out", "s.zarr"] if command == "ingest" else [])
        res = CliRunner().invoke(eegprep_cli, args)
        assert res.exit_code == 2 and res.output.count("\n") == 1, res.output
        assert res.output.rstrip().endswith(f"'.toml': {name}"), res.output


@pytest.mark.parametrize("corpus", ["nonsense", "TUH", "tuh", "mytuh"])
def test_the_corpus_beside_a_manifest_file_is_checked_not_ignored(
    corpus: str, tuh_corpus: Path, tmp_path: Path
) -> None:
    """Before: ``eegprep ingest nonsense --manifest mytuh.toml`` ingested, CORPUS unread."""
    from eegprep.corpus.manifest import MANIFEST_DIR

    text = (MANIFEST_DIR / "tuh.toml").read_text(encoding="utf-8")
    manifest = tmp_path / "mytuh.toml"
    manifest.write_text(text.replace('name = "tuh"', 'name = "mytuh"', 1), encoding="utf-8")
    store = tmp_path / "s.zarr"
    args = ["ingest", corpus, "--manifest", str(manifest), "--src", str(tuh_corpus)]
    res = CliRunner().invoke(eegprep_cli, [*args, "--out", str(store)])
    if corpus in ("tuh", "mytuh"):  # the corpus the file replaces, or the file's own name
        assert res.exit_code == 0, res.output
        return
    assert res.exit_code == 2 and res.output.count("\n") == 1, res.output
    assert f"unknown corpus {corpus!r}" in res.output and "'mytuh'" in res.output, res.output
    assert not store.exists()
