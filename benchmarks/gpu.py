"""GPU pre-training benchmark: LaBraM-Base, -Large and -Huge, and whether the loader keeps up.

One script for the first session with a GPU (<= 5 minutes on one GPU by default). It prints

1. the pre-training step, as ``labram pretrain``'s masked-modelling stage runs it (frozen
   tokenizer codes, the symmetric masked pass over 2B samples, backward, gradient clipping,
   AdamW), for each size in fp32 and bf16 autocast, eager and with ``torch.compile``:
   seconds per step, samples/s, the ratio to fp32 eager of the same size, peak GPU memory and
   the compile time (the warm-up steps);
2. the store loader feeding LaBraM-Base in bf16 (``labram.data.loader``: a synthetic 23-channel
store,
   LaBraM's 256-token windows, the training batch plan) with 0, 4 and 8 dataloader workers: the
   share of step time spent waiting for data (next batch + copy to the device), the first
   batch's wait (workers starting) and the samples/s delivered to the model.

Rows run in order of importance (eager, loader, compiled) and each starts only while the time
budget (``--budget`` seconds) lasts: a row that does not fit is printed as "skipped (budget)".
A size that does not fit in memory is printed as "out of memory".

``--cpu-smoke`` runs the same code on CPU with the tiny preset, 2-sample batches, 0 and 2
workers and ``torch.compile(backend="eager")``, in seconds: what the test suite runs
(tests/labram/test_gpu_benchmark.py).

Run: ``python benchmarks/gpu.py [--sizes base,large,huge] [--batch 64] [--steps 5]
[--budget 280] [--compile model|blocks|none] [--json results.json]`` or
``python benchmarks/gpu.py --cpu-smoke``.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

N_CHANNELS, N_PATCHES = 16, 16  # 256 tokens per sample, LaBraM's budget
LOADER_CHANNELS = 23  # TUH's montage: 23 x 11 s windows (253 tokens)


@dataclass
class Options:
    device: torch.device
    sizes: list[str]
    tokenizer: str  # tokenizer preset (the same frozen tokenizer serves every size)
    batch: int
    steps: int
    warmup: int
    workers: list[int]
    loader_size: str
    loader_steps: int
    compile: str  # "model", "blocks" or "none"
    backend: str  # torch.compile backend
    budget: float
    compile_fp32: bool = True  # also time fp32 under torch.compile (off in the CPU smoke run)
    t0: float = field(default_factory=time.perf_counter)

    def left(self) -> float:
        return self.budget - (time.perf_counter() - self.t0)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _peak_gb(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    return torch.cuda.max_memory_allocated(device) / 1e9


def _reset(device: torch.device) -> None:
    import gc

    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def build(size: str, opt: Options) -> tuple[Any, Any, torch.optim.Optimizer]:
    """(model, frozen tokenizer, AdamW) on the device, seeded."""
    from labram.model.config import model_config, tokenizer_config
    from labram.model.mem import LaBraMForMEM
    from labram.model.tokenizer import VQNSPTokenizer

    torch.manual_seed(0)
    tok_cfg = tokenizer_config(opt.tokenizer)
    with opt.device:
        tokenizer = VQNSPTokenizer(tok_cfg, kmeans_init=False).eval().requires_grad_(False)
        model = LaBraMForMEM(model_config(size, n_codes=tok_cfg.n_codes))
    # labram.train.loop.make_optimizer's optimizer (unfused AdamW); one group is enough to time it
    adamw = torch.optim.AdamW(model.parameters(), lr=5e-4, betas=(0.9, 0.98), weight_decay=0.05)
    return model, tokenizer, adamw


def compiled(model: torch.nn.Module, opt: Options) -> torch.nn.Module:
    """``torch.compile`` of the whole model, or of each transformer block (``blocks``:
    regional compilation, one compile shared by the identical blocks)."""
    if opt.compile == "blocks":
        for block in model.backbone.blocks:  # type: ignore[union-attr]
            block.compile(backend=opt.backend)
        return model
    return torch.compile(model, backend=opt.backend)  # type: ignore[return-value]


def make_step(
    model: torch.nn.Module, tokenizer: Any, adamw: torch.optim.Optimizer, bf16: bool
) -> Callable[[torch.Tensor, torch.Tensor, torch.Generator], float]:
    """One optimisation step as labram.train.loop.train runs it (loss under autocast)."""
    from labram.model.mem import mem_loss

    params = [p for p in model.parameters() if p.requires_grad]

    def step(x: torch.Tensor, channels: torch.Tensor, gen: torch.Generator) -> float:
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = mem_loss(model, tokenizer, x, channels, generator=gen)["loss"]  # type: ignore[arg-type]
        adamw.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 3.0)
        adamw.step()
        return 0.0

    return step


def model_row(size: str, bf16: bool, compile_it: bool, opt: Options) -> dict[str, Any]:
    """Seconds per step, samples/s, peak memory and compile time of one configuration."""
    _reset(opt.device)
    model, tokenizer, adamw = build(size, opt)
    run_model = compiled(model, opt) if compile_it else model
    step = make_step(run_model, tokenizer, adamw, bf16)
    # on the device: random_mask draws with torch.rand(device=x.device), which refuses a
    # generator of another device (labram.train.loop passes a CPU one)
    gen = torch.Generator(device=opt.device).manual_seed(0)
    x = torch.randn(opt.batch, N_CHANNELS, N_PATCHES, 200, device=opt.device)
    ch = torch.arange(N_CHANNELS, device=opt.device)
    t0 = time.perf_counter()
    for _ in range(opt.warmup):
        step(x, ch, gen)
    _sync(opt.device)
    warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(opt.steps):
        step(x, ch, gen)
    _sync(opt.device)
    secs = (time.perf_counter() - t0) / opt.steps
    n_params = sum(p.numel() for p in model.parameters())
    del model, tokenizer, adamw, run_model, step
    if compile_it:
        torch._dynamo.reset()
    return {
        "s_per_step": secs,
        "samples_per_s": opt.batch / secs,
        "peak_gb": _peak_gb(opt.device),
        "warmup_s": warm,
        "params_m": n_params / 1e6,
    }


def build_store(root: Path, n_windows: int) -> Path:
    """A 23-channel, 200 Hz store holding at least ``n_windows`` 11 s windows."""
    from eegprep.pipeline.recipe import Recipe
    from eegprep.store.recording_writer import write_recording
    from eegprep.store.writer import StoreWriter
    from eegprep.testing.records import hand_record
    from eegprep.testing.synth import eeg_like

    sites = "FP1 FP2 F3 F4 C3 C4 P3 P4 O1 O2 F7 F8 T3 T4 T5 T6 A1 A2 FZ CZ PZ T1 T2".split()
    sfreq, minutes = 200.0, 10.0
    n = int(minutes * 60 * sfreq)
    per_rec = n // (11 * int(sfreq))
    rng = np.random.default_rng(0)
    store = root / "store.zarr"
    with StoreWriter(str(store), Recipe()) as writer:
        for i in range(math.ceil(n_windows / per_rec)):
            x = eeg_like(len(sites), n, sfreq, rng=rng, labels=sites, line_hz=None)
            rid, name = f"bench/rec{i:04d}", f"rec{i:04d}"
            rec = hand_record(
                rid, sites, n, sfreq=sfreq, subject=name, subject_key=f"bench:{name}",
                encoding="float32",  # write_recording's default
            )  # fmt: skip
            staged = writer.staging_path()
            blocks = iter(np.array_split(x, max(1, n // 12000), axis=1))
            write_recording(
                str(store), staged, record=rec, channels=sites, n_samples=n, blocks=blocks,
                sfreq=sfreq,
            )  # fmt: skip
            writer.commit([(staged, rec)])
    return store


def loader_rows(store: Path, opt: Options) -> dict[int, dict[str, Any]]:
    """For each worker count: wait share, first batch wait and samples/s, training
    ``opt.loader_size`` in bf16 (fp32 on CPU) on the store's batches."""
    from labram.data.loader import WindowDataset, make_loader
    from labram.data.sampler import BatchPlan
    from labram.data.windows import build_pretrain_index

    index = build_pretrain_index([str(store)])
    plan = BatchPlan(index, batch_size=opt.batch, seed=0)
    bf16 = opt.device.type == "cuda"
    out: dict[int, dict[str, Any]] = {}
    model, tokenizer, adamw = build(opt.loader_size, opt)
    step = make_step(model, tokenizer, adamw, bf16)
    gen = torch.Generator(device=opt.device).manual_seed(0)
    for workers in opt.workers:
        if opt.left() <= 0:
            out[workers] = {"skipped": "budget"}
            continue
        ds = WindowDataset(plan)
        ds.set_epoch(0)
        loader = make_loader(ds, num_workers=workers, pin_memory=opt.device.type == "cuda")
        it = iter(loader)
        waits: list[float] = []
        computes: list[float] = []
        for _ in range(min(opt.loader_steps, len(ds))):
            t0 = time.perf_counter()
            batch = next(it)
            x = batch["x"].to(opt.device, non_blocking=True)
            ch = batch["channels"].to(opt.device, non_blocking=True)
            _sync(opt.device)
            t1 = time.perf_counter()
            step(x, ch, gen)
            _sync(opt.device)
            waits.append(t1 - t0)
            computes.append(time.perf_counter() - t1)
        del it, loader
        wait, compute = sum(waits[1:]), sum(computes[1:])  # the first batch: workers starting
        total = wait + compute
        out[workers] = {
            "wait_share": wait / total if total else math.nan,
            "first_batch_s": waits[0],
            "samples_per_s": opt.batch * (len(waits) - 1) / total if total else math.nan,
            "batches": len(waits),
        }
    return out


def run(opt: Options) -> dict[str, Any]:
    """Every row that fits in the budget; the results as a dict (also ``--json``)."""
    rows: list[dict[str, Any]] = []
    plan = [(s, bf16, False) for s in opt.sizes for bf16 in (False, True)]
    for size, bf16, comp in plan:
        rows.append(_row(size, bf16, comp, opt))
    feed: dict[int, dict[str, Any]] = {}
    if opt.left() > 0:
        work = Path(tempfile.mkdtemp(prefix="labram-gpu-bench-"))
        try:
            store = build_store(work, opt.batch * (opt.loader_steps + 1))
            feed = loader_rows(store, opt)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    else:
        feed = {w: {"skipped": "budget"} for w in opt.workers}
    if opt.compile != "none":
        for bf16 in (True, False) if opt.compile_fp32 else (True,):
            for size in opt.sizes:
                rows.append(_row(size, bf16, True, opt))
    return {
        "device": _device_name(opt.device),
        "torch": torch.__version__,
        "batch": opt.batch,
        "tokens_per_sample": N_CHANNELS * N_PATCHES,
        "compile": opt.compile,
        "rows": rows,
        "loader": {"size": opt.loader_size, "workers": {str(k): v for k, v in feed.items()}},
        "seconds": time.perf_counter() - opt.t0,
    }


def _row(size: str, bf16: bool, comp: bool, opt: Options) -> dict[str, Any]:
    row: dict[str, Any] = {"size": size, "dtype": "bf16" if bf16 else "fp32", "compile": comp}
    if opt.left() <= 0:
        return {**row, "skipped": "budget"}
    try:
        return {**row, **model_row(size, bf16, comp, opt)}
    except torch.OutOfMemoryError:
        _reset(opt.device)
        return {**row, "skipped": "out of memory"}


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({torch.get_num_threads()} threads)"


def report(res: dict[str, Any]) -> str:
    """The two tables, as printed and as pasted into docs/benchmarks.md."""
    lines = [
        f"LaBraM pre-training step on {res['device']} (torch {res['torch']}): tokenizer codes, "
        f"masked modelling of 2 x {res['batch']} samples x {res['tokens_per_sample']} tokens, "
        f"backward, AdamW; compile: {res['compile']}",
        "",
        "| size | params (M) | dtype | torch.compile | s / step | samples/s | vs fp32 eager "
        "| peak GPU GB | warm-up s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    eager = {
        r["size"]: r["samples_per_s"]
        for r in res["rows"]
        if r["dtype"] == "fp32" and not r["compile"] and "samples_per_s" in r
    }
    for r in res["rows"]:
        head = f"| {r['size']} | {r.get('params_m', math.nan):.1f} | {r['dtype']} | "
        head += "yes" if r["compile"] else "no"
        if "skipped" in r:
            lines.append(f"{head} | {r['skipped']} | | | | |")
            continue
        ratio = r["samples_per_s"] / eager[r["size"]] if r["size"] in eager else math.nan
        peak = "-" if r["peak_gb"] is None else f"{r['peak_gb']:.1f}"
        lines.append(
            f"{head} | {r['s_per_step']:.3f} | {r['samples_per_s']:.1f} | {ratio:.2f} | {peak} "
            f"| {r['warmup_s']:.1f} |"
        )
    ld = res["loader"]
    lines += [
        "",
        f"Store loader feeding LaBraM-{ld['size']} ({LOADER_CHANNELS}-channel 11 s windows, "
        f"batch {res['batch']}): share of step time waiting for data",
        "",
        "| loader workers | waiting share | first batch wait s | samples/s |",
        "|---|---|---|---|",
    ]
    for w, r in ld["workers"].items():
        if "skipped" in r:
            lines.append(f"| {w} | skipped ({r['skipped']}) | | |")
            continue
        lines.append(
            f"| {w} | {r['wait_share']:.1%} | {r['first_batch_s']:.2f} | {r['samples_per_s']:.1f} |"
        )
    lines.append(f"\n({res['seconds']:.0f} s in all)")
    return "\n".join(lines)


def options(argv: list[str] | None = None) -> tuple[Options, argparse.Namespace]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cpu-smoke", action="store_true", help="tiny sizes on CPU, in seconds")
    ap.add_argument("--sizes", default="base,large,huge")
    ap.add_argument("--batch", type=int, default=64, help="samples per step (before doubling)")
    ap.add_argument("--steps", type=int, default=5, help="timed steps per configuration")
    ap.add_argument("--loader-steps", type=int, default=40, help="steps per loader row")
    ap.add_argument("--workers", default="0,4,8", help="dataloader worker counts")
    ap.add_argument("--compile", default="model", choices=("model", "blocks", "none"))
    ap.add_argument("--budget", type=float, default=280.0, help="seconds; later rows skip")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    if args.cpu_smoke:
        opt = Options(
            device=torch.device("cpu"), sizes=["tiny"], tokenizer="tiny", batch=2, steps=1,
            warmup=1, workers=[0, 2], loader_size="tiny", loader_steps=3, compile=args.compile,
            backend="eager", budget=args.budget, compile_fp32=False,
        )  # fmt: skip
        torch.set_num_threads(1)  # tiny tensors: more threads only spin on a shared machine
        return opt, args
    if not torch.cuda.is_available():
        raise SystemExit("no CUDA device: run with --cpu-smoke for the CPU check")
    opt = Options(
        device=torch.device("cuda"),
        sizes=args.sizes.split(","),
        tokenizer="base",
        batch=args.batch,
        steps=args.steps,
        warmup=2,
        workers=[int(w) for w in args.workers.split(",")],
        loader_size="base",
        loader_steps=args.loader_steps,
        compile=args.compile,
        backend="inductor",
        budget=args.budget,
    )
    return opt, args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    import logging

    logging.getLogger("torch._dynamo").setLevel(logging.ERROR)  # graph-break notes
    opt, args = options(argv)
    res = run(opt)
    print(report(res))
    if args.json:
        args.json.write_text(json.dumps(res, indent=2, default=str))
    return res


if __name__ == "__main__":
    main()
