"""Promise: every number of a manifest is checked when it loads, not only ``sidecar.options``':
an integer beyond int64, NaN, an infinity or a TOML date in ``reader.options`` (or any other
free-form table), and a ``mains``, ``h_freq`` or ``hours`` that is no finite number, are one
line naming the manifest and the key path, before a file is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from eegprep.base.errors import ManifestError
from eegprep.corpus.manifest import MANIFEST_DIR, load_manifest

BEYOND = "an integer beyond int64"


def _manifest(tmp_path: Path, reader_options: str = "", **top: str) -> Path:
    text = (MANIFEST_DIR / "folder.toml").read_text()
    if reader_options:
        text = text.replace(
            '[reader]\nname = "mne"\n', f'[reader]\nname = "mne"\n{reader_options}\n'
        )
    for key, value in top.items():
        text = (
            text.replace("mains = 0 ", f"{key} = {value}\nmains = 0 ", 1)
            if key != "mains"
            else text.replace("mains = 0 ", f"mains = {value} ", 1)
        )
    path = tmp_path / "m.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("options", "at", "shown", "problem"),
    [
        ("options = { sfreq = nan }", "sfreq", "nan", "not a finite number"),
        ("options = { scale = -inf }", "scale", "-inf", "not a finite number"),
        ("options = { drop = [1, inf] }", "drop[1]", "inf", "not a finite number"),
        (f"options = {{ header_lines = {2**70} }}", "header_lines", str(2**70), BEYOND),
        (f"options = {{ t = {{ n = {-(2**64)} }} }}", "t.n", str(-(2**64)), BEYOND),
        ("options = { start = 1979-05-27 }", "start", "1979-05-27", "a TOML date"),
    ],
)  # fmt: skip
def test_a_reader_option_a_store_cannot_hold_is_refused_when_the_manifest_loads(
    tmp_path: Path, options: str, at: str, shown: str, problem: str
) -> None:
    # was: loaded, then passed to the reader at every file (a rate NaN, 2**70 header lines)
    path = _manifest(tmp_path, options)
    with pytest.raises(ManifestError) as err:
        load_manifest(path)
    line = str(err.value)
    assert line.startswith(f"{path}: reader.options.{at} is {shown}, {problem}"), line
    assert "which no reader option takes" in line and "\n" not in line
    path.write_text(path.read_text().replace(options, "options = { sfreq = 250.0 }"))
    assert load_manifest(path).reader_options == (("sfreq", 250.0),)


def test_a_sidecar_option_date_is_refused_as_the_reader_s_is(tmp_path: Path) -> None:
    path = _manifest(tmp_path)
    table = '\n[sidecar]\nparser = "trial_labels"\nalways = true\n'
    path.write_text(path.read_text() + table + 'options = { name = "x", labels = [1979-05-27] }\n')
    with pytest.raises(ManifestError, match=r"sidecar\.options\.labels\[0\] is 1979-05-27, a TOML"):
        load_manifest(path)


@pytest.mark.parametrize(
    ("key", "value"),
    [("mains", "nan"), ("mains", "inf"), ("mains", "1" + "0" * 400), ("h_freq", "inf"),
     ("h_freq", "nan"), ("hours", "nan"), ("hours", "-inf"), ("hours", "-1")],
)  # fmt: skip
def test_a_top_level_number_that_is_not_finite_is_refused(
    tmp_path: Path, key: str, value: str
) -> None:
    # was: mains = nan taken (nan < 0 is false: a notch at NaN Hz), a 400-digit mains a
    # traceback (float() overflowed), h_freq = inf a low-pass at infinity, hours = nan shown
    path = _manifest(tmp_path, **{key: value})
    with pytest.raises(ManifestError, match=rf"^{path}: key {key} must be .*, got "):
        load_manifest(path)


def test_mains_given_on_the_command_line_is_a_finite_frequency() -> None:
    # was: --mains inf taken (inf > 0), a notch at no frequency
    from eegprep.base.errors import UsageError
    from eegprep.ingestion.options import apply_overrides

    folder = load_manifest("folder")
    for bad in (float("inf"), float("nan"), -50.0):
        with pytest.raises(UsageError, match="Invalid value for `mains`: expected 50 or 60"):
            apply_overrides(folder, mains=bad)
    assert apply_overrides(folder, mains=50.0).mains == 50.0
