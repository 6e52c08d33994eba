"""The corpus-folder config file (`eegprep config`): every way it can be wrong is one line
naming the file, `config set` escapes any folder name and keeps the file's other settings, and a
relative folder in the file means the same wherever eegprep runs."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from cli import eegprep_cli
from eegprep.base.errors import ConfigError
from eegprep.corpus.folders import config_path, corpus_dir, read_config, set_corpus_dir


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "conf" / "config.toml"
    monkeypatch.setenv("EEGPREP_CONFIG", str(path))
    monkeypatch.delenv("EEGPREP_TUH_DIR", raising=False)
    monkeypatch.delenv("EEGPREP_TUAB_DIR", raising=False)
    return path


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"[corpora]\n\xff\xfe\n", "not UTF-8 text (byte 0xff on line 2)"),
        (b"[corpora]\ntuh = \n", "not valid TOML"),
        (b"[corpora]\ntuh = 5\n", "corpora.tuh must be a folder in quotes"),
        (b'[corpora]\ntuh = ""\n', "corpora.tuh must be a folder in quotes"),
        (b'[corpora]\ntuh = ["/a"]\n', "corpora.tuh must be a folder in quotes"),
        (b'corpora = "/data"\n', "[corpora] must be a table"),
    ],
)
def test_a_bad_config_file_is_one_line_naming_it(
    config_file: Path, content: bytes, problem: str
) -> None:
    config_file.parent.mkdir()
    config_file.write_bytes(content)
    with pytest.raises(ConfigError) as err:
        corpus_dir("tuh")
    assert str(config_file) in str(err.value) and problem in str(err.value)
    res = CliRunner().invoke(eegprep_cli, ["ingest", "tuh", "--out", str(config_file.parent / "s")])
    assert res.exit_code == 2, res.output
    assert res.output.count("\n") == 1 and problem in res.output
    res = CliRunner().invoke(eegprep_cli, ["config", "show"])
    if problem.startswith("corpora.tuh"):  # one entry: shown in its place, beside the others
        assert f"tuh = ?   # {config_file}: {problem}" in res.output and res.exit_code == 0
    else:  # the whole file
        assert res.exit_code == 2 and res.output.count("\n") == 1 and problem in res.output
    assert "internal error" not in res.output


@pytest.mark.parametrize("value", ["5", '""', '["/a"]', "{path = '/a'}", "true", "1979-05-27"])
def test_a_wrong_typed_entry_spoils_only_its_own_corpus(
    config_file: Path, tmp_path: Path, value: str
) -> None:
    """As an entry that can name no folder (a NUL) does: the other corpora's folders are still
    found, and `config show` lists them beside the bad one."""
    (tmp_path / "tuh").mkdir()
    config_file.parent.mkdir()
    config_file.write_text(f'[corpora]\ntuh = "{tmp_path / "tuh"}"\nsiena = {value}\n')
    assert corpus_dir("tuh", check=True) == tmp_path / "tuh"
    with pytest.raises(ConfigError, match=r"corpora\.siena must be a folder in quotes"):
        corpus_dir("siena")
    res = CliRunner().invoke(eegprep_cli, ["config", "show"])
    assert res.exit_code == 0, res.output
    assert f"tuh = {tmp_path / 'tuh'}" in res.output
    assert "siena = ?   # " in res.output and "must be a folder in quotes" in res.output


@pytest.mark.parametrize(
    ("folder", "problem"),
    [
        ("/data/a\\u0000b", "it holds a NUL character"),
        ("/data/" + "a" * 300, "is 300 bytes long"),
        ("/data/" + "a/" * 3000, "a path of 600"),
        ("file:///data%2F..%2Fetc", "not a usable file URL"),
        ("file://server/data", "not a usable file URL"),
    ],
)
def test_a_config_entry_that_can_name_no_folder_is_one_line_naming_it(
    config_file: Path, tmp_path: Path, folder: str, problem: str
) -> None:
    """Refused by an ingest of that corpus in one line naming the entry (not the operating
    system's 'File name too long' as an internal error); shown by `config show` beside the
    other entries."""
    config_file.parent.mkdir()
    config_file.write_text(f'[corpora]\ntuh = "{folder}"\ntuab = "/data/tuab"\n')
    out = tmp_path / "s.zarr"
    res = CliRunner().invoke(eegprep_cli, ["ingest", "tuh", "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert res.output.count("\n") == 1 and problem in res.output, res.output
    assert f"corpora.tuh in {config_file}" in res.output and "correct that setting" in res.output
    assert not out.exists()
    res = CliRunner().invoke(eegprep_cli, ["config", "show"])
    assert res.exit_code == 0, res.output
    assert "tuab = /data/tuab" in res.output
    assert any(
        line.startswith("tuh = ?   # ") and problem in line for line in res.output.splitlines()
    ), res.output


def test_a_folder_or_unreadable_file_named_as_the_config(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_file.mkdir(parents=True)
    with pytest.raises(ConfigError, match="a folder, not a config file"):
        read_config()
    config_file.rmdir()
    config_file.write_text('[corpora]\ntuh = "/data"\n')

    def refused(*args: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("eegprep.base.user_files.os.open", refused)
    with pytest.raises(ConfigError, match="cannot read the config file: Permission denied"):
        read_config()


def test_a_relative_folder_is_relative_to_the_config_file(
    config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_file.parent.mkdir()
    config_file.write_text('[corpora]\ntuh = "data/tuh"\n')
    monkeypatch.chdir(tmp_path)
    assert corpus_dir("tuh") == config_file.parent / "data" / "tuh"


@pytest.mark.parametrize(
    "name", ['quo"te', "back\\slash", "new\nline", "tab\tcaf\u00e9", "del\x7f"]
)
def test_config_set_writes_any_folder_name_and_keeps_the_rest(
    config_file: Path, tmp_path: Path, name: str
) -> None:
    config_file.parent.mkdir()
    config_file.write_text('# mine\n[corpora]\ntuab = "/data/tuab"\n\n[other]\nkeep = 1\n')
    folder = tmp_path / name
    folder.mkdir()
    res = CliRunner().invoke(eegprep_cli, ["config", "set", "tuh", str(folder)])
    assert res.exit_code == 0, res.output
    assert read_config() == {"tuab": "/data/tuab", "tuh": str(folder.resolve())}
    assert corpus_dir("tuh") == folder.resolve()
    import tomllib

    assert tomllib.loads(config_file.read_text())["other"] == {"keep": 1}
    assert [p.name for p in config_file.parent.iterdir()] == ["config.toml"]  # no leftovers


def test_config_set_refuses_a_name_toml_cannot_hold(config_file: Path, tmp_path: Path) -> None:
    folder = Path(os.fsdecode(bytes(tmp_path) + b"/not\xffutf8"))
    folder.mkdir()
    with pytest.raises(ConfigError, match=r"not UTF-8 cannot be written.*EEGPREP_TUH_DIR"):
        set_corpus_dir("tuh", folder)
    assert not config_file.exists()


def test_config_show_says_what_the_environment_overrides(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_file.parent.mkdir()
    config_file.write_text('[corpora]\ntuh = "/data/tuh"\n')
    monkeypatch.setenv("EEGPREP_TUAB_DIR", "/env/tuab")
    res = CliRunner().invoke(eegprep_cli, ["config", "show"])
    assert res.exit_code == 0
    assert "tuh = /data/tuh   # no such folder\n" in res.output
    assert "tuab = /env/tuab   # from EEGPREP_TUAB_DIR; no such folder" in res.output


def test_a_misspelt_corpus_in_the_config_is_pointed_out(config_file: Path, tmp_path: Path) -> None:
    """``tuhh = ...`` in the file: `config show` marks it, and `ingest tuh` asks whether it is
    a misspelling of tuh instead of only saying that tuh has no folder."""
    config_file.parent.mkdir()
    config_file.write_text(f'[corpora]\ntuhh = "{tmp_path}"\n')
    res = CliRunner().invoke(eegprep_cli, ["config", "show"])
    assert res.exit_code == 0
    assert f"tuhh = {tmp_path}   # not a shipped corpus" in res.output
    res = CliRunner().invoke(eegprep_cli, ["ingest", "tuh", "--out", str(tmp_path / "s.zarr")])
    assert res.exit_code == 2 and res.output.count("\n") == 1
    assert "no folder for corpus 'tuh'" in res.output and "names 'tuhh'" in res.output


@pytest.mark.parametrize("kind", ["missing", "file"])
@pytest.mark.parametrize("where", ["env", "file"])
def test_a_configured_folder_that_is_wrong_names_its_setting(
    config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, where: str
) -> None:
    """A folder from EEGPREP_TUH_DIR or the config file that is missing or a file: the one
    error line names the variable, or the entry and its file, not only the path."""
    folder = tmp_path / "tuh_eeg"
    if kind == "file":
        folder.write_text("not a folder")
    config_file.parent.mkdir()
    if where == "env":
        monkeypatch.setenv("EEGPREP_TUH_DIR", str(folder))
        setting = "EEGPREP_TUH_DIR"
    else:
        config_file.write_text(f"[corpora]\ntuh = {str(folder)!r}\n".replace("'", '"'))
        setting = f"corpora.tuh in {config_file}"
    out = tmp_path / "s.zarr"
    res = CliRunner().invoke(eegprep_cli, ["ingest", "tuh", "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert res.output.count("\n") == 1 and res.output.startswith("error: ")
    assert setting in res.output and str(folder) in res.output and "--src" in res.output
    assert not out.exists()


@pytest.mark.parametrize("xdg", ["relative/cfg", ""])
def test_a_relative_or_empty_xdg_config_home_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, xdg: str
) -> None:
    """The XDG base directory specification: a relative XDG_CONFIG_HOME is invalid, so the
    config file does not move with the folder eegprep runs in."""
    from eegprep.corpus.folders import config_path

    monkeypatch.delenv("EEGPREP_CONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", xdg)
    monkeypatch.chdir(tmp_path)
    assert config_path() == tmp_path / ".config" / "eegprep" / "config.toml"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_path() == tmp_path / "xdg" / "eegprep" / "config.toml"


def test_config_show_reads_the_file_once_whatever_its_length(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It parsed the whole file again for each entry: 3,000 entries took 67 s, a hostile
    file of 10^6 never ended. Now the file is read a fixed number of times."""
    from eegprep.corpus import folders

    config_file.parent.mkdir()
    config_file.write_text("[corpora]\n" + "".join(f'c{i} = "/no/{i}"\n' for i in range(200)))
    reads = []
    real = folders.load_toml
    monkeypatch.setattr(folders, "load_toml", lambda *a: reads.append(1) or real(*a))
    res = CliRunner().invoke(eegprep_cli, ["config", "show"])
    assert res.exit_code == 0 and res.output.count("# not a shipped corpus") == 200
    assert len(reads) <= 2


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("/data/" + "a" * 300, "is 300 bytes long"),
        ("/data/" + "a/" * 3000, "a path of 600"),
        ("file:///data/a%2F..%2F..%2Fetc", "an escaped '/' (%2F)"),
    ],
)
def test_a_corpus_folder_that_can_be_no_path_names_its_setting(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, value: str, problem: str
) -> None:
    """--src, the variable and the config entry: one line naming the setting, never the
    operating system's 'File name too long' as an internal error."""
    cases = [("--src", ["--src", value]), ("EEGPREP_TUH_DIR", [])]
    for setting, extra in cases:
        if not extra:
            monkeypatch.setenv("EEGPREP_TUH_DIR", value)
        res = CliRunner().invoke(eegprep_cli, ["ingest", "tuh", "--out", "s.zarr", *extra])
        assert res.exit_code == 2, res.output
        assert res.output.count("\n") == 1 and problem in res.output, res.output
        assert setting in res.output and "internal error" not in res.output


def test_a_file_url_as_a_corpus_folder_is_decoded(config_file: Path, tmp_path: Path) -> None:
    folder = tmp_path / "my corpus"
    folder.mkdir()
    config_file.parent.mkdir()
    config_file.write_text('[corpora]\ntuh = "file://' + str(tmp_path) + '/my%20corpus"\n')
    assert corpus_dir("tuh", check=True) == folder
    assert corpus_dir("tuh", "file://" + str(tmp_path) + "/my%20corpus") == folder


def test_an_unexpanded_variable_in_the_config_file_is_pointed_out(config_file: Path) -> None:
    config_file.parent.mkdir()
    config_file.write_text('[corpora]\ntuh = "$HOME/no-such-corpus"\n')
    with pytest.raises(ConfigError, match=r"environment variables such as \$HOME are not"):
        corpus_dir("tuh", check=True)


def test_config_set_that_cannot_write_the_file_is_one_line(
    config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file where the config file's folder should be (mkdir's baffling 'File exists'), or a
    write the system refuses: one line naming the file, exit 2, not an internal error."""
    config_file.parent.write_text("a file, not a folder\n")
    res = CliRunner().invoke(eegprep_cli, ["config", "set", "tuh", str(tmp_path)])
    assert res.exit_code == 2, res.output
    assert res.output == (
        f"error: {config_file}: cannot write the config file ({config_file.parent} is a file, "
        "not a folder); what it held before is unchanged: set EEGPREP_CONFIG to a file you can "
        "write, or fix this one\n"
    )
    config_file.parent.unlink()

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("eegprep.corpus.folders.write_atomically", full)
    res = CliRunner().invoke(eegprep_cli, ["config", "set", "tuh", str(tmp_path)])
    assert res.exit_code == 2 and "(No space left on device)" in res.output, res.output
    assert res.output.count("\n") == 1


def test_a_config_file_that_is_a_link(config_file: Path, tmp_path: Path) -> None:
    """A link to nothing is named as such (not taken for 'no config file'), and `config set`
    writes through a link (a config file kept with the user's dotfiles) and keeps the link."""
    config_file.parent.mkdir()
    kept = tmp_path / "dotfiles" / "eegprep.toml"
    config_file.symlink_to(kept)
    res = CliRunner().invoke(eegprep_cli, ["ingest", "tuh", "--out", str(tmp_path / "s.zarr")])
    assert res.exit_code == 2, res.output
    assert res.output == (
        f"error: {config_file}: the config file is a link to {kept}, which does not exist "
        "(the config file that EEGPREP_CONFIG gives: correct it, or set EEGPREP_CONFIG to "
        "another file)\n"
    )
    kept.parent.mkdir()
    kept.write_text('[corpora]\ntuab = "/data/tuab"\n')
    res = CliRunner().invoke(eegprep_cli, ["config", "set", "tuh", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert config_file.is_symlink() and config_file.resolve() == kept
    assert read_config() == {"tuab": "/data/tuab", "tuh": str(tmp_path.resolve())}


@pytest.mark.parametrize("name", ["a b", "../x", "TUH", "_x", "", "a" * 65, "x/y", "é"])
def test_config_set_custom_refuses_a_name_no_manifest_can_have(
    config_file: Path, tmp_path: Path, name: str
) -> None:
    """`--custom` takes a corpus of your own manifest, whose name key is a CORPUS_NAME: any
    other name would write an entry that no ingest can ever use."""
    res = CliRunner().invoke(eegprep_cli, ["config", "set", name, str(tmp_path), "--custom"])
    assert res.exit_code == 2, res.output
    assert res.output.startswith("error: Invalid value for `corpus`: expected a corpus name")
    assert res.output.count("\n") == 1 and not config_file.exists()
    res = CliRunner().invoke(eegprep_cli, ["config", "set", "my_lab-2", str(tmp_path), "--custom"])
    assert res.exit_code == 0 and read_config() == {"my_lab-2": str(tmp_path.resolve())}


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ('tuh = "/data/tuh"\n', "names 'tuh' outside the [corpora] table: move it there"),
        ('[corpus]\ntuh = "/data/tuh"\n', "names 'tuh' in a table [corpus]: the folders go in"),
        ('[Corpora]\ntuh = "/data/tuh"\n', "names 'tuh' in a table [Corpora]: the folders go in"),
    ],
)
def test_an_entry_outside_the_corpora_table_is_pointed_out(
    config_file: Path, tmp_path: Path, text: str, hint: str
) -> None:
    """An entry the file holds but not where eegprep reads it was ignored without a word: the
    'no folder' line said to run `config set` as if the file named nothing."""
    config_file.parent.mkdir()
    config_file.write_text(text)
    res = CliRunner().invoke(eegprep_cli, ["ingest", "tuh", "--out", str(tmp_path / "s.zarr")])
    assert res.exit_code == 2 and res.output.count("\n") == 1, res.output
    assert "no folder for corpus 'tuh'" in res.output and f"{config_file} {hint}" in res.output


def test_precedence_src_then_variable_then_file(
    config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--src wins over EEGPREP_NAME_DIR, which wins over the file; a variable set to the empty
    string counts as unset, for the corpus folder and for EEGPREP_CONFIG alike (docs/cli.md)."""
    for name in ("src", "env", "file"):
        (tmp_path / name).mkdir()
    config_file.parent.mkdir()
    config_file.write_text(f'[corpora]\ntuh = "{tmp_path / "file"}"\n')
    monkeypatch.setenv("EEGPREP_TUH_DIR", str(tmp_path / "env"))
    assert corpus_dir("tuh", tmp_path / "src", check=True) == tmp_path / "src"
    assert corpus_dir("tuh", check=True) == tmp_path / "env"
    monkeypatch.setenv("EEGPREP_TUH_DIR", "")
    assert corpus_dir("tuh", check=True) == tmp_path / "file"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("EEGPREP_CONFIG", "")
    from eegprep.corpus.folders import config_path

    assert config_path() == tmp_path / "home" / ".config" / "eegprep" / "config.toml"
    monkeypatch.chdir(config_file.parent)  # a relative EEGPREP_CONFIG: from where eegprep runs
    monkeypatch.setenv("EEGPREP_CONFIG", config_file.name)
    assert corpus_dir("tuh", check=True).resolve() == tmp_path / "file"


def test_config_set_says_when_the_variable_hides_the_entry(
    config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry that has no effect while EEGPREP_NAME_DIR is set is written, with one warning
    line saying so (none with -q)."""
    monkeypatch.setenv("EEGPREP_TUH_DIR", "/elsewhere")
    res = CliRunner().invoke(eegprep_cli, ["config", "set", "tuh", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert res.stderr == (
        "warning: EEGPREP_TUH_DIR is set (/elsewhere) and wins over the config file: unset it "
        "for this entry to take effect\n"
    )
    assert read_config() == {"tuh": str(tmp_path.resolve())}
    res = CliRunner().invoke(eegprep_cli, ["-q", "config", "set", "tuh", str(tmp_path)])
    assert res.exit_code == 0 and res.output == "", res.output
    monkeypatch.delenv("EEGPREP_TUH_DIR")
    res = CliRunner().invoke(eegprep_cli, ["config", "set", "tuh", str(tmp_path)])
    assert res.stderr == "", res.stderr


def test_names_that_differ_in_dash_or_underscore_have_variables_of_their_own(
    config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`my-lab` and `my_lab` (and a user's `seed-iv` beside the shipped `seed_iv`) were both
    EEGPREP_MY_LAB_DIR: one corpus silently took the other's folder. Every corpus name has a
    variable of its own now; the other corpus's variable, set, is never read for it: with no
    other setting it is one line naming both corpora and what to do, beside a config entry
    one warning."""
    from eegprep.corpus.folders import env_var
    from eegprep.corpus.manifest import CORPUS_NAME, available

    names = [*available(), "my-lab", "my_lab", "seed-iv", "a-b_c", "a_b-c", "a-b-c", "a_b_c"]
    assert all(CORPUS_NAME.fullmatch(n) for n in names)
    assert len({env_var(n) for n in names}) == len(set(names))  # one variable per corpus
    for n in ("lab", "my_lab", "my-lab", "seed-iv", "seed_iv"):
        (tmp_path / n).mkdir()
    monkeypatch.setenv("EEGPREP_MY_LAB_DIR", str(tmp_path / "my_lab"))
    monkeypatch.setenv("EEGPREP_SEED_IV_DIR", str(tmp_path / "seed_iv"))
    assert corpus_dir("my_lab", check=True) == tmp_path / "my_lab"
    assert corpus_dir("seed_iv", check=True) == tmp_path / "seed_iv"
    for name in ("my-lab", "seed-iv"):
        with pytest.raises(ConfigError) as err:
            corpus_dir(name, check=True)
        line = str(err.value)
        owner = name.replace("-", "_")
        assert "\n" not in line and f"no folder for corpus {name!r}" in line
        assert f"it is the variable of corpus {owner!r}, not of {name!r}" in line
        assert f"set EEGPREP_{name.upper()}_DIR=DIR" in line and "pass --src DIR" in line
    monkeypatch.setenv("EEGPREP_MY-LAB_DIR", str(tmp_path / "my-lab"))  # its own variable
    assert corpus_dir("my-lab", check=True) == tmp_path / "my-lab"
    monkeypatch.delenv("EEGPREP_MY-LAB_DIR")
    set_corpus_dir("my-lab", tmp_path / "lab")  # its own entry: used, the other variable named
    with pytest.warns(UserWarning) as caught:
        assert corpus_dir("my-lab", check=True) == (tmp_path / "lab").resolve()
    (warning,) = [str(w.message) for w in caught]
    assert "EEGPREP_MY_LAB_DIR is set, but it is the variable of corpus 'my_lab'" in warning
    assert "the folder comes from corpora.my-lab" in warning


@pytest.mark.parametrize(("key", "fix"), [("TUH", "write 'tuh'"), ("My-Lab", "write 'my-lab'"),
                                          ("a b", "correct the key")])  # fmt: skip
def test_a_config_key_that_is_no_corpus_name_is_one_line(
    config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str, fix: str
) -> None:
    """`TUH = ...` named no corpus (names are lower case) yet shared tuh's variable: `config
    show` printed EEGPREP_TUH_DIR's folder for it, and `ingest tuh` said nothing of it. It is
    an entry error of its own, and `ingest tuh` points at it."""
    config_file.parent.mkdir()
    config_file.write_text(f'[corpora]\n"{key}" = "{tmp_path}"\n')
    monkeypatch.setenv("EEGPREP_TUH_DIR", "")
    with pytest.raises(ConfigError, match=rf"corpora\.{key} is not a corpus name.*{fix}"):
        corpus_dir(key)
    monkeypatch.setenv(f"EEGPREP_{key.upper()}_DIR", str(tmp_path))  # not read for the key
    res = CliRunner().invoke(eegprep_cli, ["config", "show"])
    assert res.exit_code == 0, res.output
    assert f"{key} = ?   # {config_file}: corpora.{key} is not a corpus name" in res.output
    if key != "a b":
        name = key.lower()
        monkeypatch.delenv(f"EEGPREP_{key.upper()}_DIR")
        with pytest.raises(ConfigError, match=rf"names '{key}', not '{name}' \(a corpus name"):
            corpus_dir(name)


def test_config_show_lists_a_corpus_of_ones_own_set_by_its_variable(
    config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/cli.md: `config show` prints each corpus's folder as an ingest would use it. A
    corpus of one's own manifest whose folder only `EEGPREP_MY-LAB_DIR` names (no entry in the
    file) was left out, though `ingest my-lab.toml` uses that folder."""
    monkeypatch.setenv("EEGPREP_MY-LAB_DIR", str(tmp_path))
    monkeypatch.setenv("EEGPREP_NOT A NAME_DIR", str(tmp_path))  # no corpus can have it
    res = CliRunner().invoke(eegprep_cli, ["config", "show"])
    assert res.exit_code == 0, res.output
    assert f"my-lab = {tmp_path}   # from EEGPREP_MY-LAB_DIR; not a shipped corpus" in res.output
    assert not [line for line in res.output.splitlines() if line.lower().startswith("not a name")]


@pytest.fixture
def no_config_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("EEGPREP_CONFIG", "XDG_CONFIG_HOME", "EEGPREP_TUH_DIR"):
        monkeypatch.delenv(name, raising=False)


def _one_error_line(args: list[str], *says: str) -> None:
    res = CliRunner().invoke(eegprep_cli, args)
    assert res.exit_code == 2, res.output
    assert res.output.count("\n") == 1 and res.output.startswith("error: "), res.output
    assert all(s in res.output for s in says), res.output


@pytest.mark.parametrize("home", ["me", "./me", " "])
def test_a_relative_home_is_one_line_naming_it_and_nothing_is_written_beside(
    no_config_variables: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: str
) -> None:
    """`HOME=me` put the config file at `me/.config/...` in whatever folder eegprep ran in (and
    `config set` wrote one there), as a relative `XDG_CONFIG_HOME` would have, which is ignored."""
    monkeypatch.setenv("HOME", home)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tuh").mkdir()
    for args in (["ingest", "tuh", "--out", "s.zarr"], ["config", "show"],
                 ["config", "set", "tuh", str(tmp_path / "tuh")]):  # fmt: skip
        _one_error_line(args, f"HOME is {home!r}, not an absolute path", "EEGPREP_CONFIG")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tuh"]


def test_no_home_at_all_is_one_line_not_an_internal_error(
    no_config_variables: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A container's user with no password entry and no HOME: Python's `Path.home()` raised
    RuntimeError, an internal error (a bug)."""
    import pwd

    def no_entry(uid: int) -> Any:
        raise KeyError(uid)

    monkeypatch.delenv("HOME")
    monkeypatch.setattr(pwd, "getpwuid", no_entry)
    _one_error_line(["config", "show"], "HOME is not set", "no home folder", "EEGPREP_CONFIG")
    monkeypatch.setenv("HOME", "")
    _one_error_line(["ingest", "tuh", "--out", "s.zarr"], "HOME is empty")


def test_an_empty_home_is_the_password_databases(
    no_config_variables: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`HOME=` gave `/.config/eegprep/config.toml` (and `~/x` in a setting `/x`)."""
    import pwd

    monkeypatch.setenv("HOME", "")
    monkeypatch.setattr(pwd, "getpwuid", lambda uid: SimpleNamespace(pw_dir=str(tmp_path)))
    assert config_path() == tmp_path / ".config" / "eegprep" / "config.toml"
    monkeypatch.setenv("EEGPREP_TUH_DIR", "~/tuh")
    assert corpus_dir("tuh") == tmp_path / "tuh"


def test_a_tilde_in_a_setting_under_a_relative_home_is_one_line(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_file.parent.mkdir()
    config_file.write_text('[corpora]\ntuh = "~/tuh"\n')
    monkeypatch.setenv("HOME", "me")
    with pytest.raises(
        ConfigError,
        match=r"HOME is 'me', not an absolute path: the home folder of '~/tuh' \(corpora\.tuh in ",
    ):
        corpus_dir("tuh")


@pytest.mark.parametrize("value", [" ", "\t", "  \n"])
def test_a_variable_of_whitespace_alone_is_one_line_naming_it(
    no_config_variables: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """`EEGPREP_CONFIG=' '` named a file ' ' in the folder eegprep ran in (`config set` wrote
    it; the line said `writes ` and nothing), `EEGPREP_TUH_DIR=' '` a folder ' ' that its line
    showed as `error: : the corpus folder ...`."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EEGPREP_CONFIG", value)
    (tmp_path / "tuh").mkdir()
    for args in (["ingest", "tuh", "--out", "s.zarr"], ["config", "show"],
                 ["config", "set", "tuh", str(tmp_path / "tuh")]):  # fmt: skip
        _one_error_line(args, "EEGPREP_CONFIG is set to", "whitespace alone")
    monkeypatch.delenv("EEGPREP_CONFIG")
    monkeypatch.setenv("EEGPREP_TUH_DIR", value)
    _one_error_line(["ingest", "tuh", "--out", "s.zarr"], "EEGPREP_TUH_DIR is set to")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tuh"]


def test_a_folder_ending_in_a_space_says_so(
    no_config_variables: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "tuh").mkdir()
    monkeypatch.setenv("EEGPREP_TUH_DIR", f"{tmp_path / 'tuh'} ")
    with pytest.raises(ConfigError, match="starts or ends with whitespace"):
        corpus_dir("tuh", check=True)


@pytest.mark.parametrize("inside", ["_eegprep/lock.flock", "config.toml", "emb.zarr/c.toml"])
def test_config_set_never_writes_inside_a_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, inside: str
) -> None:
    """EEGPREP_CONFIG naming a place in a store (an eegprep store, or another Zarr hierarchy):
    `config set` replaced the store's empty lock file with a config file (a running ingest's
    lock broken) or cluttered the store; now one line naming the store and the variable, and
    the store's files as they were."""
    store = tmp_path / "s.zarr"
    (store / "_eegprep").mkdir(parents=True)
    (store / "zarr.json").write_text('{"zarr_format": 3, "node_type": "group"}')
    (store / "_eegprep" / "lock.flock").write_bytes(b"")
    zarr_store = store / "emb.zarr" if inside.startswith("emb") else store
    if zarr_store != store:  # a Zarr hierarchy (an embeddings store) outside any eegprep store
        store = tmp_path / "other"
        zarr_store = store / "emb.zarr"
        zarr_store.mkdir(parents=True)
        (zarr_store / "zarr.json").write_text('{"zarr_format": 3, "node_type": "group"}')
    path = store / inside
    monkeypatch.setenv("EEGPREP_CONFIG", str(path))
    before = {p: p.read_bytes() for p in store.rglob("*") if p.is_file()}
    res = CliRunner().invoke(eegprep_cli, ["config", "set", "tuh", str(tmp_path)])
    assert res.exit_code == 2, res.output
    assert res.output.count("\n") == 1 and res.output.startswith(f"error: {path}: inside the ")
    assert str(zarr_store) in res.output and "set EEGPREP_CONFIG to a file outside" in res.output
    assert {p: p.read_bytes() for p in store.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("variable", ["EEGPREP_CONFIG", "XDG_CONFIG_HOME", "HOME"])
def test_a_config_file_no_file_system_takes_is_one_line_naming_its_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    """A config file's place with a name over the file system's limit read as no config file,
    unsaid (`config show` listed nothing, `ingest` asked for `config set`, which then failed):
    now one line naming the variable it came from, for every command that reads the file."""
    long = str(tmp_path / ("a" * 300))
    for name in ("EEGPREP_CONFIG", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, long + ("/config.toml" if variable == "EEGPREP_CONFIG" else ""))
    for args in (["config", "show"], ["config", "set", "tuh", str(tmp_path)],
                 ["ingest", "tuh", "--out", str(tmp_path / "s.zarr")]):  # fmt: skip
        res = CliRunner().invoke(eegprep_cli, args)
        assert res.exit_code == 2, (args, res.output)
        assert res.output.startswith(f"error: the config file that {variable} gives, "), res.output
        assert "one of its names is 300 bytes long" in res.output and res.output.count("\n") == 1
    assert not (tmp_path / "s.zarr").exists()


def test_config_set_never_writes_over_the_null_device(monkeypatch: pytest.MonkeyPatch) -> None:
    """``EEGPREP_CONFIG=/dev/null`` reads as no config file; `config set` renamed its file over
    it (run as root: /dev/null replaced by a file for the whole system). Now one line, and no
    write is tried (the write is replaced here, so that the test never touches /dev/null)."""
    writes: list[object] = []
    monkeypatch.setattr("eegprep.corpus.folders.write_atomically", lambda *a, **k: writes.append(a))
    monkeypatch.setenv("EEGPREP_CONFIG", os.devnull)
    monkeypatch.delenv("EEGPREP_TUH_DIR", raising=False)
    res = CliRunner().invoke(eegprep_cli, ["config", "set", "tuh", os.path.dirname(os.devnull)])
    assert res.exit_code == 2, res.output
    assert res.output == (
        f"error: {os.devnull}: a device, not a file `config set` can write (it reads as no "
        "config file); nothing was written: set EEGPREP_CONFIG to a file\n"
    )
    assert writes == []
    assert CliRunner().invoke(eegprep_cli, ["config", "show"]).exit_code == 0  # (still read)


@pytest.mark.parametrize("value", [" ", "\t", "  \n"])
def test_config_set_beside_a_variable_of_whitespace_says_it_is_refused(
    config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """A variable of whitespace alone is refused by every command (it names no folder); `config
    set` said that it 'wins over the config file', as if it named one."""
    monkeypatch.setenv("EEGPREP_TUH_DIR", value)
    res = CliRunner().invoke(eegprep_cli, ["config", "set", "tuh", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert res.stderr.startswith("warning: EEGPREP_TUH_DIR is set to '"), res.stderr
    assert res.stderr.endswith(", whitespace alone, which every command refuses: unset it for "
                               "this entry to take effect\n")  # fmt: skip
    assert res.stderr.count("\n") == 1 and "wins" not in res.stderr


@pytest.mark.parametrize("variable", ["EEGPREP_tuh_DIR", "eegprep_tuh_dir", "Eegprep_Tuh_Dir"])
def test_a_variable_misspelt_in_case_is_named_not_ignored(
    config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    """A variable that is ``tuh``'s but for its case was ignored unsaid: with no other setting,
    `ingest` asked for one as if none were set; with a config entry, that entry's folder was
    used without a word. Now the line, or a warning, names it and the exact name."""
    monkeypatch.setenv(variable, str(tmp_path))
    said = f"{variable} is set, but a variable's name is exact: the variable of 'tuh' is "
    res = CliRunner().invoke(eegprep_cli, ["ingest", "tuh", "--out", str(tmp_path / "s.zarr")])
    assert res.exit_code == 2, res.output
    assert res.output.startswith(f"error: no folder for corpus 'tuh': {said}EEGPREP_TUH_DIR: ")
    assert res.output.count("\n") == 1
    config_file.parent.mkdir()
    config_file.write_text(f'[corpora]\ntuh = "{tmp_path}"\n')
    with pytest.warns(UserWarning, match=f"^{said}EEGPREP_TUH_DIR: the folder comes from "):
        assert corpus_dir("tuh") == tmp_path


def test_config_show_without_a_config_file_says_how_to_make_one(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: `# PATH` alone, read as a config file that exists (and holds nothing). The line
    says there is none yet and how to make one, and the output stays TOML (comments only)."""
    import tomllib

    for var in [v for v in os.environ if v.startswith("EEGPREP_") and v.endswith("_DIR")]:
        monkeypatch.delenv(var)
    res = CliRunner().invoke(eegprep_cli, ["config", "show"])
    assert res.exit_code == 0, res.output
    first = res.output.splitlines()[0]
    note = "(no config file yet: make one with eegprep config set CORPUS DIR)"
    assert first == f"# {config_file} {note}", res.output
    assert tomllib.loads(res.output) == {}
    (config_file.parent / "tuh").mkdir(parents=True)
    set_corpus_dir("tuh", str(config_file.parent / "tuh"))
    res = CliRunner().invoke(eegprep_cli, ["config", "show"])
    assert res.output.splitlines()[0] == f"# {config_file}", res.output


def test_config_show_escapes_a_newline_in_the_config_files_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: a newline in EEGPREP_CONFIG's path ended the first line's comment, and the rest
    of the path was a line of no TOML."""
    import tomllib

    for var in [v for v in os.environ if v.startswith("EEGPREP_") and v.endswith("_DIR")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("EEGPREP_CONFIG", str(tmp_path / "a\nb" / "config.toml"))
    res = CliRunner().invoke(eegprep_cli, ["config", "show"])
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[0].startswith(f"# {tmp_path}/a\\nb/config.toml (no config")
    assert tomllib.loads(res.output) == {}


def test_a_config_file_path_past_300_characters_is_shown_by_its_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: a bad config file was named whole at any length (a store path that is a FIFO was
    cut after 80 characters): one rule now, whole up to 300 characters, else both ends."""
    from tests.machine_paths import shown

    path = tmp_path / ("d" * 200) / ("e" * 200) / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text("[corpora]\ntuh = \n")
    monkeypatch.setenv("EEGPREP_CONFIG", str(path))
    res = CliRunner().invoke(eegprep_cli, ["ingest", "tuh", "--out", str(tmp_path / "s.zarr")])
    assert res.exit_code == 2 and res.output.count("\n") == 1, res.output
    assert shown(path) in res.output and str(path) not in res.output, res.output
    assert f"{'e' * 100}/config.toml" in res.output and "more characters" in res.output
    assert len(res.output) < 800, res.output
