"""Every numeric option of every command, fed absurd values: taken as documented, or one line.

Walked over click's own command tree (a new numeric option is swept too): each of ``0``, ``-1``,
``nan``, ``inf``, ``-inf``, ``1e300``, ``2**63``, ``10**30``, ``1e3``, `` 5 ``, ``5x`` and a
full-width ``５`` either parses to the number it means, inside the option's documented range
(docs/cli.md, "Numeric options"), or is one ``error:`` line naming the option, exit status 2,
no traceback, within 5 s. Before, ``labram predict --batch-size`` (and every count) had no upper
bound (``10**30`` was taken, and allocated as far as it got), ``--lr nan`` and ``--keep-replaced
inf`` passed click's range check, ``--workers ５`` ran with 5 workers, and ``--seed -1`` was
refused later without naming the option.
"""

from __future__ import annotations

import math
import re

import click
import pytest
from click.testing import CliRunner

from eegprep.base.limits import MOST_SIZE
from eegprep.cli_numbers import Amount, ByteSize, Whole
from tests.safety.test_reader_fuzz import _time_limit
from tests.test_cli_errors import (  # _isolated: the same autouse fixture, for these tests too
    BASE,
    COMMANDS,
    ROOTS,
    _isolated,  # noqa: F401
    assert_one_error,
)

VALUES = ["0", "-1", "nan", "inf", "-inf", "1e300", str(2**63), str(10**30), "1e3", " 5 ", "5x",
          "\uff15"]  # fmt: skip
"""The values each numeric option is fed (the last: a full-width digit 5)."""


def _numeric(cmd: click.Command) -> list[click.Option]:
    kinds = (click.types.IntParamType, click.types.FloatParamType, ByteSize)
    return [p for p in cmd.params if isinstance(p, click.Option) and isinstance(p.type, kinds)]


CASES = [(path, p.opts[0]) for path, cmd in sorted(COMMANDS.items()) for p in _numeric(cmd)]
"""(command, option) of every numeric option."""


def _param(path: tuple[str, ...], opt: str) -> click.Option:
    return next(p for p in _numeric(COMMANDS[path]) if p.opts[0] == opt)


def _meant(param: click.Option, value: str) -> float | None:
    """The number ``value`` means for ``param`` when the option should take it: ASCII (spaces
    around it allowed), a whole number for a whole option, finite, inside its range."""
    text = value.strip()
    if isinstance(param.type, ByteSize):  # bytes: a plain number of them here (no unit)
        digits = text.isascii() and re.fullmatch(r"[0-9]+(\.[0-9]*)?", text) is not None
        size = int(float(text)) if digits else 0
        return size if 0 < size <= MOST_SIZE else None
    whole = isinstance(param.type, click.types.IntParamType)
    pattern = r"[+-]?[0-9]+" if whole else r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
    if not text.isascii() or re.fullmatch(pattern, text) is None:
        return None
    number = int(text) if whole else float(text)
    t = param.type
    low, high = t.min, t.max  # type: ignore[attr-defined]
    above = number > low if t.min_open else number >= low  # type: ignore[attr-defined]
    return number if math.isfinite(number) and above and number <= high else None


def _case_id(v: object) -> str:
    return " ".join(v) if isinstance(v, tuple) else str(v)


@pytest.fixture(scope="module", autouse=True)
def _imported() -> None:
    """What the commands import on first use, imported once (its time is not a hang)."""
    import labram.stages.finetune
    import labram.stages.predict  # noqa: F401


def test_the_sweep_finds_the_options() -> None:
    found = {(" ".join(path), opt) for path, opt in CASES}
    assert {("labram predict", "--batch-size"), ("eegprep ingest", "--keep-replaced"),
            ("labram finetune", "--lr"), ("eegprep demo", "--seed"),
            ("labram pretrain", "--tokenizer-batch-size"),
            ("eegprep ingest", "--file-memory-limit")} <= found  # fmt: skip
    assert len(CASES) >= 42


@pytest.mark.parametrize(("path", "opt"), CASES, ids=_case_id)
def test_every_numeric_option_is_bounded_on_both_sides(path: tuple[str, ...], opt: str) -> None:
    """An option of click's ``IntRange(min=1)`` took 10**30; each is one of ours, with a top."""
    t = _param(path, opt).type
    if isinstance(t, ByteSize):  # (bounded by parse_size: 1 byte to MOST_SIZE)
        return
    assert isinstance(t, Whole | Amount), (opt, t)
    assert t.min is not None and t.max is not None, (opt, t.min, t.max)


@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize(("path", "opt"), CASES, ids=_case_id)
def test_a_numeric_option_takes_what_it_means_or_says_so(
    path: tuple[str, ...], opt: str, value: str
) -> None:
    param = _param(path, opt)
    meant = _meant(param, value)
    args = [*path[1:], opt, value, *(BASE[path] or [])]
    with _time_limit(5, f"{' '.join(path)} {opt} {value!r}"):
        res = CliRunner().invoke(ROOTS[path[0]], args)
    if meant is None:
        line = assert_one_error(res)
        assert f"Invalid value for '{opt}'" in line, line
        return
    assert param.type.convert(value, param, None) == meant  # (" 5 " is 5)
    assert "Traceback" not in res.output and "Invalid value for" not in res.output, res.output


def test_the_seed_bound_is_finetunes() -> None:
    from eegprep.base.bounds import MOST_SEEDS
    from labram.stages.finetune import MAX_SEEDS

    assert MOST_SEEDS == MAX_SEEDS


AMOUNT_CASES = [(path, opt) for path, opt in CASES if isinstance(_param(path, opt).type, Amount)]
"""(command, option) of every option taking an amount (a float)."""


@pytest.mark.parametrize(("path", "opt"), AMOUNT_CASES, ids=_case_id)
def test_a_denormal_or_minus_zero_is_said_or_zero(path: tuple[str, ...], opt: str) -> None:
    """``5e-324`` (a denormal float: not zero, under 2.2e-308) is one usage line naming the
    option; ``-0.0`` is 0.0 where the range holds 0 (its sign dropped), refused as 0 is where
    not. Both were taken as written."""
    param = _param(path, opt)
    for text in ("5e-324", "-5e-324", "1e-310"):
        with pytest.raises(click.BadParameter, match="denormal"):
            param.type.convert(text, param, None)
    meant = _meant(param, "0")
    if meant is None:
        with pytest.raises(click.BadParameter):
            param.type.convert("-0.0", param, None)
        return
    got = param.type.convert("-0.0", param, None)
    assert got == 0.0 and math.copysign(1.0, got) == 1.0, got


def test_a_denormal_option_is_one_error_line() -> None:
    res = CliRunner().invoke(ROOTS["eegprep"], ["ingest", "--keep-replaced", "5e-324",
                                                *(BASE[("eegprep", "ingest")] or [])])  # fmt: skip
    line = assert_one_error(res)
    assert "Invalid value for '--keep-replaced'" in line and "denormal" in line, line
