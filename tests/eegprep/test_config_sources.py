"""The corpus-folder configuration as a new user meets it: a config file that cannot be read
names the variable that put it where it is and how to do without it, and every path a setting
gave is named exactly (a newline or tab in it escaped, two spaces kept: never shown as one
space, which named another folder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep.base.errors import ConfigError

# (the variable that places the config file, the config file it places under ``root``)
SOURCES = {
    "EEGPREP_CONFIG": lambda root: root / "mine.toml",
    "XDG_CONFIG_HOME": lambda root: root / "eegprep" / "config.toml",
    "HOME": lambda root: root / ".config" / "eegprep" / "config.toml",
}


@pytest.fixture
def no_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No setting of the user's own: every variable unset, a home folder of the test's."""
    for name in ("EEGPREP_CONFIG", "XDG_CONFIG_HOME", "EEGPREP_TUH_DIR"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    return home


def _place(variable: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The config file's path, placed by ``variable`` alone; its folder made."""
    root = tmp_path / "cfg"
    path = SOURCES[variable](root)
    path.parent.mkdir(parents=True)
    monkeypatch.setenv(variable, str(path if variable == "EEGPREP_CONFIG" else root))
    return path


def _error_line(args: list[str]) -> str:
    res = CliRunner().invoke(eegprep_cli, args)
    assert res.exit_code == 2, res.output
    assert res.output.count("\n") == 1 and res.output.startswith("error: "), res.output
    assert "internal error" not in res.output and "Traceback" not in res.output
    return res.output


@pytest.mark.parametrize("variable", sorted(SOURCES))
@pytest.mark.parametrize(
    ("kind", "problem"),
    [
        ("folder", "a folder, not a config file"),
        ("json", "not valid TOML"),
        ("broken", "not valid TOML"),
        ("latin-1", "not UTF-8 text"),
    ],
)
def test_a_config_file_that_cannot_be_read_names_the_variable_that_placed_it(
    no_settings: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    kind: str,
    problem: str,
) -> None:
    """Before, `EEGPREP_CONFIG=/some/folder` gave 'error: /some/folder: a folder, not a config
    file', and a JSON file in ~/.config only 'not valid TOML': neither said why eegprep looked
    there nor what to do. Now the line names the variable and the way out, in every command
    that reads the file."""
    path = _place(variable, tmp_path, monkeypatch)
    if kind == "folder":
        path.mkdir()
    else:
        path.write_bytes(
            {
                "json": b'{"corpora": {"tuh": "/data/tuh"}}\n',
                "broken": b"[corpora\ntuh = '/data'\n",
                "latin-1": '[corpora]\ntuh = "/data/m\u00fcller"\n'.encode("latin-1"),
            }[kind]
        )
    for args in (["ingest", "tuh", "--out", "s.zarr"], ["config", "show"],
                 ["config", "set", "tuh", str(tmp_path)]):  # fmt: skip
        line = _error_line(args)
        assert str(path) in line and problem in line, line
        assert f"the config file that {variable} gives" in line, line
        assert "set EEGPREP_CONFIG to another file" in line, line
    assert not (tmp_path / "s.zarr").exists()
    if kind != "folder":
        assert path.read_bytes().startswith((b"{", b"[")), "the bad file is left as it was"


@pytest.mark.parametrize(
    ("name", "shown"), [("a\nb", "a\\nb"), ("a  b", "a  b"), ("a\tb", "a\\tb")]
)
@pytest.mark.parametrize("where", ["variable", "config entry"])
def test_a_corpus_folder_with_odd_spacing_is_named_exactly(
    no_settings: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    name: str,
    shown: str,
) -> None:
    """`EEGPREP_TUH_DIR=$'/data/a\\nb'`, `'/data/a  b'` or `$'/data/a\\tb'` (or that config
    entry) naming no folder: the line named '/data/a b', another folder, one that may well
    exist (the error printer folded every run of whitespace into one space)."""
    (tmp_path / "a b").mkdir()  # the folder the old line named, there: the user is misled
    folder = tmp_path / name
    if where == "variable":
        monkeypatch.setenv("EEGPREP_TUH_DIR", str(folder))
    else:
        config = tmp_path / "config.toml"
        config.write_text(f"[corpora]\ntuh = {json.dumps(str(folder))}\n")
        monkeypatch.setenv("EEGPREP_CONFIG", str(config))
    line = _error_line(["ingest", "tuh", "--out", "s.zarr"])
    assert f"{tmp_path}/{shown}: the corpus folder that" in line, line
    assert f"{tmp_path}/a b:" not in line, line


def test_the_config_file_named_with_a_newline_is_named_exactly(
    no_settings: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No folder for the corpus: the line says where `config set` writes, and names that file
    exactly when its path (EEGPREP_CONFIG's) holds a newline."""
    monkeypatch.setenv("EEGPREP_CONFIG", str(tmp_path / "c\nd.toml"))
    line = _error_line(["ingest", "tuh", "--out", "s.zarr"])
    assert "EEGPREP_TUH_DIR" in line and f"(writes {tmp_path}/c\\nd.toml)" in line, line


def test_no_folder_and_no_configuration_is_one_line_saying_how_to_set_one(
    no_settings: Path,
) -> None:
    """`eegprep ingest tuh --out store.zarr`, no --src, no variable, no config file: one line
    naming the three ways, the variable and the file `config set` writes."""
    line = _error_line(["ingest", "tuh", "--out", "store.zarr"])
    config = no_settings / ".config" / "eegprep" / "config.toml"
    assert "pass --src DIR" in line and "set EEGPREP_TUH_DIR=DIR" in line, line
    assert f"`eegprep config set tuh DIR` (writes {config})" in line, line


def test_a_relative_folder_in_a_variable_says_where_it_was_looked_for(
    no_settings: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`EEGPREP_TUH_DIR=rel/tuh` naming nothing: the line said only 'rel/tuh: ... does not
    exist', not that it was taken from the folder eegprep runs in (which one)."""
    monkeypatch.setenv("EEGPREP_TUH_DIR", "rel/tuh")
    line = _error_line(["ingest", "tuh", "--out", "s.zarr"])
    assert "rel/tuh: the corpus folder that EEGPREP_TUH_DIR names does not exist" in line, line
    assert f"(a relative path, taken from the folder eegprep runs in, {tmp_path})" in line, line


def test_a_relative_config_file_is_named_in_full(
    no_settings: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`EEGPREP_CONFIG=mine.toml`: the no-folder line said `(writes mine.toml)`; it names the
    file in full, from the folder eegprep runs in, as `config set` writes it."""
    monkeypatch.setenv("EEGPREP_CONFIG", "mine.toml")
    line = _error_line(["ingest", "tuh", "--out", "s.zarr"])
    assert f"(writes {tmp_path / 'mine.toml'})" in line, line
    res = CliRunner().invoke(eegprep_cli, ["config", "set", "tuh", str(tmp_path)])
    assert res.exit_code == 0 and (tmp_path / "mine.toml").is_file(), res.output


@pytest.mark.parametrize("trouble", ["not TOML", "a folder", "relative HOME"])
def test_the_corpus_variable_wins_over_a_config_file_that_cannot_be_read(
    no_settings: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trouble: str
) -> None:
    """EEGPREP_TUH_DIR wins over the file, as --src does: with it set, a broken config file
    (or a HOME that places none) stopped `ingest tuh` all the same, the file read first."""
    from eegprep.corpus.folders import corpus_dir

    config = no_settings / ".config" / "eegprep" / "config.toml"
    config.parent.mkdir(parents=True)
    if trouble == "not TOML":
        config.write_text("corpora = [\n")
    elif trouble == "a folder":
        config.mkdir()
    else:
        monkeypatch.setenv("HOME", "me")
    folder = tmp_path / "tuh_eeg"
    folder.mkdir()
    monkeypatch.setenv("EEGPREP_TUH_DIR", str(folder))
    assert corpus_dir("tuh", check=True) == folder
    monkeypatch.setenv("EEGPREP_TUH_DIR", str(tmp_path / "missing"))  # its own line, as before
    with pytest.raises(ConfigError, match="the corpus folder that EEGPREP_TUH_DIR names"):
        corpus_dir("tuh", check=True)
    monkeypatch.delenv("EEGPREP_TUH_DIR")  # no variable: the file's trouble is the line
    with pytest.raises(ConfigError, match=r"config file|HOME is 'me'"):
        corpus_dir("tuh", check=True)


@pytest.mark.parametrize("kind", ["not TOML", "not UTF-8", "a folder", "missing"])
def test_a_settings_file_whose_path_holds_a_newline_is_named_exactly(
    no_settings: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """The config file (and a manifest, a --config file: one reader) whose path holds a
    newline: its line named '.../c d.toml', another file."""
    from eegprep.base.toml_files import load_toml

    path = tmp_path / "c\nd.toml"
    if kind == "a folder":
        path.mkdir()
    elif kind != "missing":
        path.write_bytes(b"corpora = [\n" if kind == "not TOML" else b"x = '\xff'\n")
    with pytest.raises(ConfigError) as err:
        load_toml(path, "manifest file")
    assert str(err.value).startswith(f"{tmp_path}/c\\nd.toml: "), err.value
    if kind != "missing":  # (a config file that is not there is no config file)
        monkeypatch.setenv("EEGPREP_CONFIG", str(path))
        line = _error_line(["ingest", "tuh", "--out", "s.zarr"])
        assert line.startswith(f"error: {tmp_path}/c\\nd.toml: "), line


@pytest.mark.parametrize("variable", ["XDG_CONFIG_HOME", "HOME", "EEGPREP_CONFIG"])
def test_no_folder_never_offers_a_config_file_that_cannot_be_written(
    no_settings: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    """XDG_CONFIG_HOME or HOME naming a file, or EEGPREP_CONFIG=/dev/null: the no-folder line
    said 'run `eegprep config set tuh DIR` (writes /a/file/eegprep/config.toml)', a way out
    that then fails. It now names the variable and why no config file can be there."""
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder\n")
    monkeypatch.setenv(variable, "/dev/null" if variable == "EEGPREP_CONFIG" else str(a_file))
    line = _error_line(["ingest", "tuh", "--out", "s.zarr"])
    assert "(writes " not in line and "pass --src DIR or set EEGPREP_TUH_DIR=DIR" in line, line
    assert f"the config file that {variable} gives" in line, line
    why = "is the null device" if variable == "EEGPREP_CONFIG" else f"{a_file} is a file"
    assert why in line and "set EEGPREP_CONFIG to a file you can write" in line, line
    assert a_file.read_text() == "not a folder\n"
