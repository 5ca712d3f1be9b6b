"""TFLite Micro's micro_speech front end, in integer arithmetic, bit for bit.

The ``micro-speech`` preset computes what TFLM's micro_speech example feeds its model
(``micro_speech_quantized.tflite``, input 1 x 49 x 40 int8): the audio preprocessor built from
TFLM's signal library, one 30 ms frame every 20 ms, state (the noise estimate) reset at the start
of each one-second clip. Per frame of 480 int16 samples:

1. window: ``(x * hann_q12) >> 12``, saturated to int16; the window is
   ``round(4096 * (0.5 - 0.5 cos(2 pi (i + 0.5) / 480)))``;
2. auto scale: shift left by ``15 - bitlength(max |x|)`` (at least 0) to use the full int16 range;
3. real FFT of 512 points in Q15 fixed point, the arithmetic of the KISS FFT TFLM uses (radix-4
   and radix-2 stages on a 256-point complex FFT, every stage divides by its radix with rounding,
   then the real-FFT split with its own twiddles), see :mod:`edgecraft.ops.kissfft16`;
4. energy ``re^2 + im^2`` (uint32) of the bins the filter bank reads;
5. mel filter bank: 40 triangular channels from 125 to 7500 Hz, weights in Q12 with their
   complements, accumulated in 64 bits; rounded integer square root, shifted right by the auto
   scale;
6. noise reduction: a per-channel noise estimate smoothed with 0.025 (even channels) / 0.06 (odd)
   in Q14 with 10 extra bits, subtracted, keeping at least 5 % of the signal;
7. PCAN gain control: gain ``2^21 (noise / 2^7 + 80)^-0.95`` from a piecewise-quadratic table,
   then ``x^2/4`` below 2 and ``x - 1`` above, 6 fractional bits out;
8. log: fixed-point ``ln(x << 3)`` scaled by 64 (int16, about 0..670);
9. int8: ``(v * 256 + 333) // 666 - 128``, clamped (the example's "divide by 25.6, then by 26").

The output *is* the model's int8 input (``edgecraft stream`` passes int8 features through
untouched). The tables are computed here from the parameters the way TFLM's Python helpers
compute them (float32 where they use float32).
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from edgecraft.ops import kissfft16
from edgecraft.ops.signal_math import bitlength, log32, max_abs16, sqrt64_round, wide_dynamic


@dataclass(frozen=True)
class MicroSpeechFeatures:
    """All parameters of the micro_speech front end (defaults: TFLM's micro_speech example)."""

    sample_rate: int = 16000
    clip_samples: int = 16000
    window_samples: int = 480
    hop_samples: int = 320
    window_bits: int = 12
    num_channels: int = 40
    lower_hz: float = 125.0
    upper_hz: float = 7500.0
    weight_bits: int = 12
    alignment: int = 4
    block_size: int = 4
    subtraction_bits: int = 14
    smoothing_bits: int = 10
    even_smoothing: float = 0.025
    odd_smoothing: float = 0.06
    min_signal_remaining: float = 0.05
    clamping: bool = False
    pcan_strength: float = 0.95
    pcan_offset: float = 80.0
    pcan_gain_bits: int = 21
    pcan_smoothing_bits: int = 10
    log_scale_bits: int = 6
    output_div: int = 666  # int(25.6 * 26 + 0.5)

    def __post_init__(self) -> None:
        if not 64 <= self.fft_size <= 2048:
            raise ValueError(f"the window needs an FFT of 64..2048 points, got {self.window_samples} samples")
        if self.hop_samples <= 0 or self.clip_samples < 0:
            raise ValueError("hop_samples must be positive and clip_samples not negative")
        if not 0 <= self.lower_hz < self.upper_hz < self.sample_rate / 2:
            raise ValueError(f"need 0 <= lower_hz < upper_hz < sample_rate/2, got "
                             f"{self.lower_hz}..{self.upper_hz}")

    @property
    def fft_size(self) -> int:
        """The smallest power of two >= the window."""
        return 1 << max(0, math.ceil(math.log2(max(1, self.window_samples))))

    @property
    def fft_bits(self) -> int:
        """log2 of :attr:`fft_size`."""
        return self.fft_size.bit_length() - 1

    @property
    def correction_bits(self) -> int:
        """Fractional bits the square root leaves (``fft_bits - weight_bits / 2``)."""
        return self.fft_bits - self.weight_bits // 2

    @property
    def num_frames(self) -> int:
        """Frames in one clip."""
        n = self.clip_samples or self.window_samples
        return 1 + max(0, n - self.window_samples) // self.hop_samples if n >= self.window_samples else 0

    @property
    def shape(self) -> tuple[int, int]:
        """Output shape of one clip, ``(frames, channels)``."""
        return (self.num_frames, self.num_channels)

    def to_dict(self) -> dict[str, Any]:
        """The parameters as a plain dict."""
        return asdict(self)

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        """Features of one clip: int8 ``(frames, channels)``."""
        return micro_features(samples, self)


MICRO_SPEECH = MicroSpeechFeatures()
"""TFLM micro_speech: 49 x 40 int8 from 1 s of 16 kHz audio."""


# ---- tables -------------------------------------------------------------------------------------

def _mel32(hz: float) -> np.float32:
    """``1127 * log1pf(hz / 700)`` in float32 (TFLM's FreqToMel)."""
    q = np.float32(np.float32(hz) / np.float32(700.0))
    return np.float32(np.float32(1127.0) * np.float32(math.log1p(float(q))))


@dataclass(frozen=True)
class Tables:
    """Integer tables of one configuration (what the C twin gets as constants)."""

    window: np.ndarray           # int16 [window_samples]
    start: int                   # first FFT bin the filter bank reads
    end: int                     # one past the last
    freq_starts: np.ndarray      # int16 [channels + 1]
    weight_starts: np.ndarray    # int16 [channels + 1]
    widths: np.ndarray           # int16 [channels + 1]
    weights: np.ndarray          # int16
    unweights: np.ndarray        # int16
    smoothing: tuple[int, int, int, int]  # even, 1 - even, odd, 1 - odd (Q subtraction_bits)
    min_signal: int
    gain_lut: np.ndarray         # int16 [125]
    matrix: np.ndarray           # int64 [fft_size/2 + 1, channels]: weights and unweights together


def _filter_bank(cfg: MicroSpeechFeatures) -> tuple[int, int, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                                    np.ndarray]:
    bins = cfg.fft_size // 2 + 1
    n = cfg.num_channels + 1
    mel_lo, mel_hi = _mel32(cfg.lower_hz), _mel32(cfg.upper_hz)
    spacing = np.float32((mel_hi - mel_lo) / np.float32(n))
    centers = (mel_lo + spacing * np.arange(1, n + 1, dtype=np.float32)).astype(np.float32)
    hz_per_bin = (cfg.sample_rate / 2) / (bins - 1)
    start = round(1 + cfg.lower_hz / hz_per_bin)
    align = max(1, cfg.alignment // 2)
    freq_starts, weight_starts, widths = (np.zeros(n, np.int16) for _ in range(3))
    actual_start, actual_width = [0] * n, [0] * n
    next_weight, zeros_added, first = 0, False, start
    for ch in range(n):
        f = first
        while _mel32(f * hz_per_bin) <= centers[ch]:
            f += 1
        width = f - first
        actual_start[ch], actual_width[ch] = first, width
        if width == 0:  # an empty channel points at a shared block of zero weights in front
            freq_starts[ch], weight_starts[ch], widths[ch] = 0, 0, cfg.block_size
            if not zeros_added:
                zeros_added = True
                weight_starts[:ch] += cfg.block_size
                next_weight += cfg.block_size
        else:
            aligned = (first // align) * align
            padded = ((first - aligned + width - 1) // cfg.block_size + 1) * cfg.block_size
            freq_starts[ch], weight_starts[ch], widths[ch] = aligned, next_weight, padded
            next_weight += padded
        first = f
    weights = np.zeros(next_weight, np.int16)
    unweights = np.zeros(next_weight, np.int16)
    end = 0
    scale = 1 << cfg.weight_bits
    for ch in range(n):
        below = np.float32(mel_lo) if ch == 0 else centers[ch - 1]
        den = np.float32(centers[ch] - below)
        f = actual_start[ch]
        for j in range(actual_width[ch]):
            w = np.float32(np.float32(centers[ch] - _mel32(f * hz_per_bin)) / den)
            k = int(weight_starts[ch]) + (actual_start[ch] - int(freq_starts[ch])) + j
            weights[k] = int(np.float32(w * np.float32(scale)))
            unweights[k] = int(np.float32((np.float32(1.0) - w) * np.float32(scale)))
            f += 1
        end = max(end, f)
    if end >= bins:
        raise ValueError("the filter bank's upper edge is beyond the FFT's last bin")
    return start, end, freq_starts, weight_starts, widths, weights, unweights


def _gain(cfg: MicroSpeechFeatures, input_bits: int, x: int) -> int:
    """TFLM's PCAN gain ``2^gain_bits (x / 2^input_bits + offset)^-strength`` in float32."""
    xf = np.float32(np.float32(x) / np.float32(1 << input_bits))
    g = np.float32(np.float32(1 << cfg.pcan_gain_bits)
                   * np.power(np.float32(xf + np.float32(cfg.pcan_offset)), np.float32(-cfg.pcan_strength)))
    return 32767 if g > 32767 else int(np.float32(g + np.float32(0.5)))


def _gain_lut(cfg: MicroSpeechFeatures) -> np.ndarray:
    """The piecewise-quadratic gain table (4 entries per power of two of the noise estimate)."""
    input_bits = cfg.pcan_smoothing_bits - cfg.correction_bits
    lut = np.zeros(4 * 32 - 3, np.int16)
    lut[0], lut[1] = _gain(cfg, input_bits, 0), _gain(cfg, input_bits, 1)
    for interval in range(2, 33):
        x0 = 1 << (interval - 1)
        x1 = x0 + (x0 >> 1)
        x2 = x0 + (x0 - 1) if interval == 32 else 2 * x0
        y0, y1, y2 = (_gain(cfg, input_bits, x) for x in (x0, x1, x2))
        a1 = 4 * (y1 - y0) - (y2 - y0)
        base = 4 * interval - 6
        lut[base] = y0
        lut[base + 1] = ((a1 + 32768) & 0xFFFF) - 32768
        lut[base + 2] = ((y2 - y0 - a1 + 32768) & 0xFFFF) - 32768
        if base + 3 < len(lut):
            lut[base + 3] = 0
    return lut


@functools.lru_cache(maxsize=8)
def tables(cfg: MicroSpeechFeatures) -> Tables:
    """The integer tables of ``cfg`` (cached)."""
    i = np.arange(cfg.window_samples)
    hann = 0.5 - 0.5 * np.cos(2 * np.pi / cfg.window_samples * (i + 0.5))
    window = np.round(hann * (1 << cfg.window_bits)).astype(np.int16)
    start, end, fs, ws, widths, w, uw = _filter_bank(cfg)
    one = 1 << cfg.subtraction_bits
    even = int(cfg.even_smoothing * one)
    odd = int((cfg.odd_smoothing or cfg.even_smoothing) * one)
    bins = cfg.fft_size // 2 + 1
    full = np.zeros((bins, cfg.num_channels + 1), np.int64)
    for ch in range(cfg.num_channels + 1):
        for j in range(int(widths[ch])):
            b = int(fs[ch]) + j
            if b >= bins:  # padding past the last bin has zero weights
                continue
            full[b, ch] += int(w[int(ws[ch]) + j])
            if ch + 1 <= cfg.num_channels:
                full[b, ch + 1] += int(uw[int(ws[ch]) + j])
    return Tables(window, start, end, fs, ws, widths, w, uw, (even, one - even, odd, one - odd),
                  int(cfg.min_signal_remaining * one), _gain_lut(cfg), full[:, 1:])


# ---- the front end ------------------------------------------------------------------------------

def frames_int16(samples: np.ndarray, cfg: MicroSpeechFeatures = MICRO_SPEECH) -> np.ndarray:
    """The clip (padded or trimmed to ``clip_samples``) cut into ``(frames, window_samples)``."""
    x = np.asarray(samples)
    if x.ndim != 1:
        raise ValueError(f"audio must be one channel (1-D), got shape {list(x.shape)}")
    if x.dtype.kind == "f":
        x = np.clip(np.round(x * 32768.0), -32768, 32767)
    x = x.astype(np.int16)
    if cfg.clip_samples:
        x = np.pad(x[: cfg.clip_samples], (0, max(0, cfg.clip_samples - len(x))))
    count = cfg.num_frames if cfg.clip_samples else (
        1 + (len(x) - cfg.window_samples) // cfg.hop_samples if len(x) >= cfg.window_samples else 0)
    idx = np.arange(cfg.window_samples)[None, :] + cfg.hop_samples * np.arange(count)[:, None]
    return x[idx]


def filterbank_energies(frames: np.ndarray, cfg: MicroSpeechFeatures = MICRO_SPEECH) -> np.ndarray:
    """Steps 1-5 on int16 ``(frames, window)``: the square-rooted filter bank, int64
    ``(frames, channels)``."""
    t = tables(cfg)
    x = frames.astype(np.int32) * t.window.astype(np.int32) >> cfg.window_bits
    x = np.clip(x, -32768, 32767)
    peak = np.array([max_abs16(row) for row in x], np.int64) if len(x) else np.zeros(0, np.int64)
    shift = np.where(peak <= 0, 0, np.maximum(0, 15 - bitlength(peak)))
    x = (x << shift[:, None]).astype(np.int16)
    re, im = kissfft16.rfft(x, cfg.fft_size)
    energy = re.astype(np.int64) ** 2 + im.astype(np.int64) ** 2
    energy &= 0xFFFFFFFF
    energy[:, : t.start] = 0
    energy[:, t.end:] = 0
    acc = energy @ t.matrix
    return sqrt64_round(acc) >> shift[:, None]


def micro_features_int16(samples: np.ndarray, cfg: MicroSpeechFeatures = MICRO_SPEECH
                         ) -> np.ndarray:
    """Steps 1-8: the log-scaled features (int16 values, about 0..670) of one clip."""
    t = tables(cfg)
    fb = filterbank_energies(frames_int16(samples, cfg), cfg)
    even, even1, odd, odd1 = t.smoothing
    ch = np.arange(cfg.num_channels)
    smooth = np.where(ch % 2 == 0, even, odd).astype(np.int64)
    smooth1 = np.where(ch % 2 == 0, even1, odd1).astype(np.int64)
    noise = np.zeros(cfg.num_channels, np.int64)
    out = np.zeros(fb.shape, np.int64)
    sb, qb = cfg.smoothing_bits, cfg.subtraction_bits
    snr_shift = 6
    for f in range(len(fb)):
        sig = fb[f]
        up = (sig << sb) & 0xFFFFFFFF
        noise = ((up * smooth + noise * smooth1) >> qb) & 0xFFFFFFFF
        est = np.minimum(noise, up)
        if cfg.clamping:
            noise = est
        floor = ((sig * t.min_signal) >> qb) & 0xFFFFFFFF
        sub = np.maximum((up - est) >> sb, floor)
        gain = wide_dynamic(noise, t.gain_lut) & 0xFFFFFFFF
        snr = ((sub * gain) >> snr_shift) & 0xFFFFFFFF
        pcan = np.where(snr < (2 << 12), (snr * snr & 0xFFFFFFFF) >> 20, (snr >> 6) - 64) & 0xFFFFFFFF
        scaled = (pcan << cfg.correction_bits) & 0xFFFFFFFF
        logv = log32(np.maximum(scaled, 2), 1 << cfg.log_scale_bits)
        out[f] = np.where(scaled > 1, np.minimum(logv, 32767), 0)
    return out


def micro_features(samples: np.ndarray, cfg: MicroSpeechFeatures = MICRO_SPEECH) -> np.ndarray:
    """The micro_speech features of one clip: int8 ``(frames, channels)``, the model's input."""
    v = micro_features_int16(samples, cfg)
    q = (v * 256 + cfg.output_div // 2) // cfg.output_div - 128
    return np.clip(q, -128, 127).astype(np.int8)
