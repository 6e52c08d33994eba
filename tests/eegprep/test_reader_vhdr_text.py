"""BrainVision text data (``DataFormat=ASCII``) as older writers and exporters lay it out: lines
ended by a carriage return alone, names of several words in a ``VECTORIZED`` line's name
column; and the check of every value, made a block of lines at a time by numpy, giving the
verdicts numpy's own parser gives value by value. Each value is computed here from the format's
definition (the number written, times the channel's resolution), never by calling the reader."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eegprep.base.errors import SourceError
from eegprep.readers import vhdr_text
from eegprep.readers.mne_formats import MneReader
from tests.eegprep.reader_checks import check_reader, check_source_error
from tests.eegprep.test_reader_vhdr_semantics import (
    LABELS,
    N_TIMES,
    SFREQ,
    TEXT_LAYOUTS,
    _expected,
    _text_data,
    _write,
)

CHANNELS = ["Fp1,,0.5,µV", "Cz,,1,mV", "O1,,,µV"]
RESOLUTIONS, UNITS = [0.5, 1, 1], ["µV", "mV", "µV"]


def _values(seed: int, n_times: int = N_TIMES) -> np.ndarray:
    """Numbers of 3 decimals, shape (channels, samples)."""
    return np.round(np.random.default_rng(seed).normal(0, 30, (len(LABELS), n_times)), 3)


@pytest.mark.parametrize("case", sorted(TEXT_LAYOUTS))
def test_lines_ended_by_a_carriage_return_alone_are_read_as_crlf_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    """Classic Mac OS ended text lines in ``\\r`` alone: such a data file, in each layout (a
    line a sample or a channel, lines and columns skipped, a decimal comma), was refused as one
    line of every value ("it holds 120 values, but the header lists 3 channels"); it reads as
    the same file with CRLF or LF line ends. Offsets are kept every 7 samples here, so that
    segments start between them."""
    monkeypatch.setattr(vhdr_text, "STEP", 7)
    orientation, infos = TEXT_LAYOUTS[case][:2]
    values = _values(5)
    data = _text_data(values, case).replace("\r\n", "\r").replace("\n", "\r")
    assert "\n" not in data and "\r" in data
    path = _write(
        tmp_path, CHANNELS, data, fmt="ASCII", orientation=orientation, ascii_infos=infos or [],
        common=[f"DataPoints={N_TIMES}"],
    )  # fmt: skip
    header, _ = check_reader(
        MneReader, path, expected_labels=LABELS, expected_n_samples=N_TIMES,
        expected_sfreq=SFREQ, reference_uv=_expected(values, RESOLUTIONS, UNITS), atol=1e-3,
    )  # fmt: skip
    assert header.warnings == ()


def test_carriage_return_lines_read_as_mne_reads_the_crlf_file(tmp_path: Path) -> None:
    """Differential: the layout MNE reads, its lines ended by CR alone, gives what MNE's
    ``read_raw_brainvision`` gives for the same file with CRLF (to float32 round-off); MNE read
    the CR file as a single line. Lines ended by CR CR LF read as they did, as LF lines."""
    import mne

    values = _values(6)
    rows = ["Fp1 Cz O1", *(" ".join(f"{v:.3f}" for v in c) for c in values.T)]
    infos = ["DecimalSymbol=.", "SkipLines=1"]
    crlf = _write(
        tmp_path / "crlf", CHANNELS, "\r\n".join(rows) + "\r\n", fmt="ASCII", ascii_infos=infos
    )
    cr = _write(tmp_path / "cr", CHANNELS, "\r".join(rows) + "\r", fmt="ASCII", ascii_infos=infos)
    twice = _write(
        tmp_path / "twice", CHANNELS, "\r\r\n".join(rows) + "\r\r\n", fmt="ASCII", ascii_infos=infos
    )  # (CRLF converted twice over: a CR more before each LF, read as before)
    theirs = mne.io.read_raw_brainvision(crlf, verbose="error").get_data() * 1e6
    for path in (cr, twice):
        header = MneReader.read_header(path)
        ours = MneReader.read_segment(header, [0, 1, 2], 0, N_TIMES)
        np.testing.assert_allclose(ours, theirs.astype(np.float32), rtol=1e-6, atol=1e-4)


@pytest.mark.parametrize("decimal", [".", ","])
def test_skipped_columns_of_text_are_not_read_as_samples(tmp_path: Path, decimal: str) -> None:
    """A line a sample led by a time column that is no number (``00:00:01.500``: the index
    passes over ``SkipColumns`` unchecked, as the format says): the header was refused, "MNE
    cannot describe this BrainVision file's channels ... could not convert string to float:
    '00:00:00.000'", the first read parsing the skipped column too. The samples read as
    written."""
    values = _values(9)
    rows = [
        " ".join([f"00:00:{i / SFREQ:06.3f}", *(f"{v:.3f}".replace(".", decimal) for v in column)])
        for i, column in enumerate(values.T)
    ]
    path = _write(
        tmp_path, CHANNELS, "\r\n".join(["time Fp1 Cz O1", *rows]) + "\r\n", fmt="ASCII",
        ascii_infos=["SkipLines=1", "SkipColumns=1", f"DecimalSymbol={decimal}"],
    )  # fmt: skip
    check_reader(
        MneReader, path, expected_labels=LABELS, expected_n_samples=N_TIMES,
        reference_uv=_expected(values, RESOLUTIONS, UNITS), atol=1e-3,
    )  # fmt: skip


# (name column as written, [ASCII Infos], separator, decimal symbol, the header's names)
NAMED = {
    "two words, SkipColumns=1": (["Fp1 Ref", "Cz Ref", "O1 Ref"], ["SkipColumns=1"], " ", ".", LABELS),  # noqa: E501
    "two words, unsaid, tabs": (["Fp1 Ref", "Cz Ref", "O1 Ref"], [], "\t", ".", LABELS),
    "quoted, decimal comma": (['"Fp1 Ref"', '"Cz Ref"', '"O1  Ref"'], ["DecimalSymbol=,"], " ", ",", LABELS),  # noqa: E501
    "a word that reads as a number, named so by the header": (["EEG 001", "EEG 002", "Fp1"], ["SkipColumns=1"], " ", ".", ["EEG 001", "EEG 002", "Fp1"]),  # noqa: E501
    "one name of three words among single words": (["Fp1", "Cz left ear", "O1"], [], "; ", ".", LABELS),  # noqa: E501
    "words of digits, told from samples by DataPoints": (["Ch 1", "Ch 2", "Ch 3"], [], " ", ".", LABELS),  # noqa: E501
    "one line's word of digits, told by DataPoints": (["Fp1", "EEG 001", "O1"], ["SkipColumns=1", "DecimalSymbol=,"], "\t", ",", LABELS),  # noqa: E501
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(NAMED))
def test_vectorized_names_of_several_words_are_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    """A line a channel, its first column the channel's name, a name of words with blanks
    between (``Fp1 Ref``, quoted or not; ``EEG 001``, whose ``001`` reads as a number, where the
    header names the channel so, or where the header's ``DataPoints`` says how many values
    follow the name): the name is passed over whole, as the column it is; each was refused,
    its second word "not a number", or its lines of unequal counts, or (``Ch 1`` on every line)
    read with each channel's number as its first sample."""
    monkeypatch.setattr(vhdr_text, "STEP", 7)
    names, infos, sep, decimal, said = NAMED[case]
    values = _values(7)
    rows = [
        sep.join([name, *(f"{v:.3f}".replace(".", decimal) for v in row)])
        for name, row in zip(names, values, strict=True)
    ]
    channels = [f"{s},{c.split(',', 1)[1]}" for s, c in zip(said, CHANNELS, strict=True)]
    path = _write(
        tmp_path, channels, "\r\n".join(rows) + "\r\n", fmt="ASCII", orientation="VECTORIZED",
        ascii_infos=infos, common=[f"DataPoints={N_TIMES}"],
    )  # fmt: skip
    header, _ = check_reader(
        MneReader, path, expected_n_samples=N_TIMES,
        reference_uv=_expected(values, RESOLUTIONS, UNITS), atol=1e-3,
    )  # fmt: skip
    assert header.warnings == ()


def test_a_name_whose_words_cannot_be_told_from_samples_is_one_line(tmp_path: Path) -> None:
    """``EEG 001`` where the header names the channel otherwise and gives no ``DataPoints``: its
    ``001`` may be a word of the name or a first sample, and its line holds one value more than
    the others. Refused in one line naming the line, the counts, and how to make the name
    plain."""
    values = _values(8)
    names = ["Fp1", "EEG 001", "O1"]
    rows = [" ".join([n, *(f"{v:.3f}" for v in row)]) for n, row in zip(names, values, strict=True)]
    path = _write(
        tmp_path, CHANNELS, "\r\n".join(rows) + "\r\n", fmt="ASCII", orientation="VECTORIZED",
    )  # fmt: skip
    check_source_error(
        MneReader, path,
        rf"rec\.eeg, line 2: channel 2's line holds {N_TIMES + 1} samples, channel 1's "
        rf"{N_TIMES}: .*, unless channel 2's name goes on after 'EEG' in a word that reads as a "
        r"number \(name the channel so in the header, or quote its name\)",
    )  # fmt: skip


# each value written among plain ones: numbers numpy reads, and words it does not
TOKENS = [
    b"1", b"-1", b"+1", b"1.", b".5", b"-.5", b"+.5", b"1e5", b"1E+05", b"1.e-3", b"-1.5e2",
    b"007", b"0", b".", b"-", b"+", b"e5", b"1e", b"1e+", b"1.2.3", b"1e5e5", b"1e5.3", b"--1",
    b"+-1", b"1-2", b"1+", b".e5", b"-.e5", b"1e+.5", b"1..", b"..5", b"1_0", b"nan", b"inf",
    b"-Infinity", b"0x10", b"1e5x", b"x", b"1.5\x00", b"1\xb5", b"1;;2", b";",
]  # fmt: skip


def _numpy_verdict(word: bytes) -> float | None:
    """The number numpy's parser reads in ``word`` (a point for a decimal comma), or None where
    it reads none (``_``, which Python's ``float`` takes, NUL and non-ASCII bytes refused)."""
    if b"_" in word or b"\x00" in word or not word.isascii() or b";" in word:
        return None
    try:
        return float(np.array([word.replace(b",", b".")], dtype=np.bytes_).astype(float)[0])
    except ValueError:
        return None


def _rows(
    orientation: str, decimal: str, word: bytes | None, n_times: int = 2000
) -> tuple[list[bytes], int]:
    """Plain lines of 3 channels (``n_times`` samples), ``word`` written as channel 2's value
    at sample 5 (None: a plain one), and the number of its line."""
    values = [[f"{i}.5", f"-{i}.25", "1e-3"] for i in range(n_times)]
    text = [[v.replace(".", decimal).encode() for v in row] for row in values]
    if word is not None:
        text[5][1] = word
    if orientation == "MULTIPLEXED":
        return [b" ".join(row) for row in text], 6
    return [b" ".join(column) for column in zip(*text, strict=True)], 2


@pytest.mark.parametrize("orientation", ["MULTIPLEXED", "VECTORIZED"])
@pytest.mark.parametrize("decimal", [".", ","])
def test_values_are_checked_a_block_at_a_time_with_numpys_verdicts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, orientation: str, decimal: str
) -> None:
    """The index of a text file checks every value by numpy, a block of bytes at a time, not a
    line or a value at a time in Python (a 44 MiB file took 1.9 s): a file of plain values is
    indexed with no line split, nor piece parsed, by Python. Each value still gets numpy's own
    verdict: one numpy reads is read as that number; one it does not is refused in one line
    naming the data file, its line and the value, as before."""
    calls: list[str] = []

    def spy(name: str) -> Callable[..., Any]:
        spied = getattr(vhdr_text, name)

        def counted(*args: Any) -> Any:
            calls.append(name)
            return spied(*args)

        return counted

    for name in ("_fields", "_numbers"):
        monkeypatch.setattr(vhdr_text, name, spy(name))
    layout = vhdr_text.TextLayout(orientation, 0, 0, decimal, 3)
    data = tmp_path / "plain.eeg"
    data.write_bytes(b"\r\n".join(_rows(orientation, decimal, None)[0]) + b"\r\n")
    assert vhdr_text.text_index("h.vhdr", str(data), layout).n_samples == 2000
    assert len(calls) <= 1, f"{len(calls)} lines or pieces parsed one by one"
    for n, token in enumerate(TOKENS):
        word = token.replace(b".", decimal.encode())
        rows, line = _rows(orientation, decimal, word)
        data = tmp_path / f"{n}.eeg"
        data.write_bytes(b"\r\n".join(rows) + b"\r\n")
        expected = _numpy_verdict(word)
        try:
            index = vhdr_text.text_index("h.vhdr", str(data), layout)
        except SourceError as exc:
            assert expected is None, f"{token!r} refused: {exc}"
            assert f"{n}.eeg, line {line}" in str(exc) and "\n" not in str(exc)
            continue
        assert expected is not None, f"{token!r} read"
        got = vhdr_text.read_text(str(data), layout, index, np.arange(3), 5, 6)
        np.testing.assert_equal(got[1, 0], expected)


def _verdict(data: Path, layout: vhdr_text.TextLayout) -> str | np.ndarray:
    """Every value of ``data`` as :func:`~eegprep.readers.vhdr_text.read_text` reads it, or
    the message refusing it."""
    try:
        index = vhdr_text.text_index("h.vhdr", str(data), layout)
    except SourceError as exc:
        return str(exc)
    rows = np.arange(layout.n_values)
    return vhdr_text.read_text(str(data), layout, index, rows, 0, index.n_samples)


@pytest.mark.parametrize("orientation", ["MULTIPLEXED", "VECTORIZED"])
def test_damaged_text_gets_the_verdict_of_the_line_by_line_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, orientation: str
) -> None:
    """Differential: text data with bytes changed, put in or left out at random (digits,
    points, signs, exponents, separators, line ends, letters), gets from the check by numpy the
    same values, or the same one-line refusal, as from the check of each line or piece in
    Python that it stands in for (:func:`_plain` made to pass nothing)."""
    import random

    monkeypatch.setattr(vhdr_text, "STEP", 7)
    rng = random.Random(3)
    alphabet = b"0123456789..--+eE  ,;\t\r\n\nx_"
    for decimal in (".", ","):
        layout = vhdr_text.TextLayout(orientation, 0, 0, decimal, 3)
        plain = bytearray(b"\r\n".join(_rows(orientation, decimal, None, 30)[0]) + b"\r\n")
        for trial in range(60):
            data = bytearray(plain)
            for _ in range(rng.randint(1, 3)):
                at = rng.randrange(len(data))
                new = bytes([rng.choice(alphabet)])
                data[at : at + rng.randint(0, 1)] = new if rng.random() < 0.8 else b""
            path = tmp_path / f"{decimal}{trial}.eeg"
            path.write_bytes(bytes(data))
            fast = _verdict(path, layout)
            with monkeypatch.context() as m:
                m.setattr(vhdr_text, "_plain", lambda *a, **k: False)
                slow = _verdict(path, layout)
            if isinstance(slow, str) or isinstance(fast, str):
                assert fast == slow, bytes(data)
            else:
                np.testing.assert_array_equal(fast, slow)
