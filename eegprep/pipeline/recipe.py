"""The preprocessing recipe: a frozen description, serialised into every store, with a hash.

The hash covers everything that changes output samples, so that a store written under one recipe
is never silently extended under another, and so that a re-run can tell what is current.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

from eegprep.base.bounds import check_fields
from eegprep.base.errors import UsageError
from eegprep.base.validation import check_choice, check_kinds

Mode = Literal["fast", "mne"]
Encoding = Literal["auto", "float32", "float16", "quantized"]
ENCODINGS: tuple[str, ...] = ("auto", "float32", "float16", "quantized")

RECIPE_VERSION = 2  # 2: single-pass FFT pipeline (was: polyphase, then a 200 Hz FIR)


@dataclass(frozen=True, kw_only=True)
class Recipe:
    """How every recording is turned into store samples.

    Attributes
    ----------
    sfreq : float
        Output sampling rate in Hz. 200: LaBraM's patch is 200 samples = 1 s.
    l_freq : float
        High-pass edge in Hz (0.1, LaBraM's recipe).
    h_freq : float
        Low-pass edge in Hz (75, LaBraM's recipe).
    notch : bool
        Notch the recording's mains frequency (50 or 60 Hz, from the manifest). LaBraM notched
        50 Hz everywhere, even on 60 Hz US data (their issue #67); we use the site's mains.
    mode : {'fast', 'mne'}
        ``fast``: streamed float32 pipeline (one FFT pass per block: MNE's low-pass for the source
        rate, band-limited resampling, high-pass and notch at the output rate). ``mne``: MNE's own
        functions in LaBraM's order on the whole recording in float64 (reference; more memory).
        See docs/preprocessing.md for the design and the measured difference between the two.
    encoding : {'auto', 'float32', 'float16', 'quantized'}
        How samples are stored. ``auto`` (the default): per recording, ``quantized`` when every
        stored channel has a known ADC step (EDF, BDF, integer BrainVision, ...), ``float32``
        when any has none; an ingest into an existing store keeps the store's encoding.
        ``float32``: exactly as computed. ``float16``: half the size, error up to ~0.1 uV.
        ``quantized``: rounded to a step of 1/8 of the source's ADC resolution (error at most
        1/16 of it, under the source's own quantisation noise) and stored as integers: about
        half the size of float32. Every record states its ``encoding``, ``quantum_uv`` and
        ``max_error_uv``. See docs/store-format.md.
    block_seconds : float
        Output block length of the streamed pipeline, in seconds; bounds peak memory.
    """

    sfreq: float = 200.0
    l_freq: float = 0.1
    h_freq: float = 75.0
    notch: bool = True
    mode: Mode = "fast"
    encoding: Encoding = "auto"  # the smallest that stays well inside the source's resolution
    block_seconds: float = 240.0

    def __post_init__(self) -> None:
        check_kinds(self)  # (notch="no" was true)
        check_choice("mode", self.mode, ("fast", "mne"))
        check_choice("encoding", self.encoding, ENCODINGS)
        # (inf passed the band's check, then the store's root could not be written, half
        # made: "Out of range float values ..."; 1e30 Hz or a block of 1e30 s was taken)
        check_fields(self, ("sfreq", "l_freq", "h_freq", "block_seconds"), scope="recipe")
        if not 0 < self.l_freq < self.h_freq < self.sfreq / 2:
            raise UsageError(
                f"band {self.l_freq}-{self.h_freq} Hz must satisfy 0 < l_freq < h_freq < "
                f"sfreq/2 = {self.sfreq / 2} Hz"
            )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["version"] = RECIPE_VERSION
        d["filter_design"] = (
            "one FFT pass per block: MNE firwin low-pass at the source rate (hamming, "
            "h_trans=min(max(h_freq/4, 2), fs_in/2-h_freq)) x MNE firwin high-pass and notch at "
            "the output rate, band-limited resampling with a 1 Hz raised-cosine taper to the "
            "lower Nyquist frequency; zero phase; odd-reflection edge padding of the source"
            if self.mode == "fast"
            else "MNE raw.filter(l_freq, h_freq), notch_filter(mains), resample(sfreq), float64"
        )
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Recipe:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def hash(self) -> str:
        """Hash of everything that changes output samples (not ``block_seconds``)."""
        return recipe_hash(self.to_dict())

    def with_(self, **changes: Any) -> Recipe:
        return replace(self, **changes)


def recipe_hash(recipe: dict[str, Any]) -> str:
    """16 hex digits of SHA-256 over a recipe as :meth:`Recipe.to_dict` gives it (a store's
    root keeps that dict), ``block_seconds`` left out."""
    d = {k: v for k, v in recipe.items() if k != "block_seconds"}
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]
