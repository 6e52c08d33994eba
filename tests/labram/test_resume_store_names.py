"""``--resume`` takes the run's store under another spelling of its name: a trailing ``/``,
``./``, a symbolic link to it, a ``file://`` URL (docs/training.md, "Resuming"). Before: the run's
record was compared as text, and ``labram finetune --resume --store s.zarr/`` of a run made with
``--store s.zarr`` was refused (``its run was made with another stores``). A copy of the store at
another path is still another store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.labram.cli_runs import one_error, run_labram, tuab_finetune
from tests.labram.test_run_guards import TINY


@pytest.fixture(scope="module")
def run(tuab: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("names") / "ft"
    code, output = run_labram(*tuab_finetune(tuab, TINY), "--out", out)
    assert code == 0, output
    return out


def _spelling(tuab: str, form: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    store = Path(tuab)
    if form == "trailing /":
        return f"{store}/"
    if form == "./":
        monkeypatch.chdir(store.parent)
        return f"./{store.name}"
    if form == "link":
        (tmp_path / "link.zarr").symlink_to(store)
        return str(tmp_path / "link.zarr")
    return f"file://{store}"


@pytest.mark.parametrize("form", ["trailing /", "./", "link", "file://"])
def test_finetune_resumes_with_the_same_store_spelled_otherwise(
    run: Path, tuab: str, form: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "ft"
    shutil.copytree(run, folder)
    store = _spelling(tuab, form, tmp_path, monkeypatch)
    code, output = run_labram(*tuab_finetune(store, TINY),
                              "--out", folder, "--resume")  # fmt: skip
    assert code == 0, output


def test_finetune_refuses_a_copy_of_the_store_elsewhere(
    run: Path, tuab: str, tmp_path: Path
) -> None:
    folder = tmp_path / "ft"
    shutil.copytree(run, folder)
    copy = tmp_path / "copy.zarr"
    shutil.copytree(tuab, copy)
    one_error(
        *run_labram(
            *tuab_finetune(copy, TINY),
            "--out",
            folder,
            "--resume",
        ),
        "its run was made with another stores",
    )


def test_same_stores() -> None:
    from labram.data.store_set import same_stores

    assert not same_stores(["a"], "a") and not same_stores(["a"], ["a", "a"])
    assert not same_stores([1], [1])


def test_pretrain_resumes_its_exclusions_with_the_stores_spelled_otherwise(
    store: str, tuab: str, tmp_path: Path
) -> None:
    from eegprep.base.errors import UsageError
    from labram.stages.pretrain import exclusions

    out = tmp_path / "pre"
    want = exclusions([store], out, [tuab], True)
    assert exclusions([f"{store}/"], out, [f"file://{tuab}"], True, resume=True) == want
    with pytest.raises(UsageError, match="the run pre-trained on"):
        exclusions([tuab], out, [store], True, resume=True)
