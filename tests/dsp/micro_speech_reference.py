"""An independent transcription of TFLite Micro's micro_speech front end for the tests: plain
Python integers and loops, written from the C sources of TFLM's signal library
(``signal/src/*.cc``: window, fft_auto_scale, max_abs, energy, filter_bank, square_root_32/64,
filter_bank_spectral_subtraction, pcan_argc_fixed, log, filter_bank_log), the KISS FFT v130 it
uses (``kiss_fft.c``: kf_work, kf_bfly2, kf_bfly4, kf_factor; ``tools/kiss_fftr.c``), and the
Python helpers that build the tables (``filter_bank_ops.py``, ``window_op.py``,
``wide_dynamic_func_lut_wrapper.cc``) and the int8 step of ``audio_preprocessor.py``.

Nothing here comes from edgecraft.dsp: the FFT is the recursive one of the C code, float32 is
emulated with ``struct``, every C integer type with masks. Slow (about 0.1 s a frame).
"""

from __future__ import annotations

import math
import struct


def f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def short(x: int) -> int:
    return ((x + 0x8000) & 0xFFFF) - 0x8000


def i32(x: int) -> int:
    return ((x + 0x80000000) & 0xFFFFFFFF) - 0x80000000


U32 = 0xFFFFFFFF


def msb32(x: int) -> int:  # the GCC branch of MostSignificantBit32: 32 for 0
    return x.bit_length() if x else 32


# ---- tables -----------------------------------------------------------------------------------

def freq_to_mel(freq: float) -> float:
    return f32(1127.0 * f32(math.log1p(f32(f32(freq) / 700.0))))


def hann_q12(n: int = 480) -> list[int]:
    arg = math.pi * 2 / n
    return [round(4096 * (0.5 - 0.5 * math.cos(arg * (i + 0.5)))) for i in range(n)]


def filter_bank_tables(spectrum_size: int = 257, sample_rate: int = 16000, alignment: int = 4, block: int = 4,
                       channels: int = 40, lo: float = 125.0, hi: float = 7500.0) -> dict:
    index_alignment = 1 if alignment < 2 else alignment // 2
    n = channels + 1
    mel_lower, mel_upper = f32(freq_to_mel(lo)), f32(freq_to_mel(hi))
    span = f32(mel_upper - mel_lower)
    spacing = f32(span / f32(n))
    centers = [f32(mel_lower + f32(spacing * f32(c))) for c in range(1, n + 1)]
    hz_per_sbin = (sample_rate / 2) / (spectrum_size - 1)
    start_index = round(1 + lo / hz_per_sbin)
    fstarts, wstarts, widths = [0] * n, [0] * n, [0] * n
    act_start, act_width = [0] * n, [0] * n
    chan_start, weight_start, needs_zeros = start_index, 0, False
    for ch in range(n):
        fi = chan_start
        while freq_to_mel(fi * hz_per_sbin) <= centers[ch]:
            fi += 1
        width = fi - chan_start
        act_start[ch], act_width[ch] = chan_start, width
        if width == 0:
            fstarts[ch], wstarts[ch], widths[ch] = 0, 0, block
            if not needs_zeros:
                needs_zeros = True
                for j in range(ch):
                    wstarts[j] += block
                weight_start += block
        else:
            aligned = int(chan_start / index_alignment) * index_alignment
            aligned_width = chan_start - aligned + width
            padded = (int((aligned_width - 1) / block) + 1) * block
            fstarts[ch], wstarts[ch], widths[ch] = aligned, weight_start, padded
            weight_start += padded
        chan_start = fi
    weights, unweights = [0] * weight_start, [0] * weight_start
    end_index = 0
    mel_low = freq_to_mel(lo)
    for ch in range(n):
        freq = act_start[ch]
        offset = freq - fstarts[ch]
        denom = mel_low if ch == 0 else centers[ch - 1]
        for j in range(act_width[ch]):
            num = f32(centers[ch] - freq_to_mel(freq * hz_per_sbin))
            den = f32(centers[ch] - denom)
            w = f32(num / den)
            weights[wstarts[ch] + offset + j] = int(f32(w * 4096))
            unweights[wstarts[ch] + offset + j] = int(f32(f32(1 - w) * 4096))
            freq += 1
        end_index = max(end_index, freq)
    return {"start": start_index, "end": end_index, "fstarts": fstarts, "wstarts": wstarts, "widths": widths,
            "weights": weights, "unweights": unweights}


def pcan_gain(x: int, strength: float = 0.95, offset: float = 80.0, gain_bits: int = 21, input_bits: int = 7
              ) -> int:
    xf = f32(f32(float(x)) / f32(float(1 << input_bits)))
    g = f32(f32(float(1 << gain_bits)) * f32(math.pow(f32(xf + f32(offset)), f32(-strength))))
    if g > 32767:
        return 32767
    return short(int(f32(g + 0.5)))


def gain_lut() -> list[int]:
    store = [0] * 126
    store[0], store[1] = pcan_gain(0), pcan_gain(1)
    for interval in range(2, 33):
        x0 = 1 << (interval - 1)
        x1 = x0 + (x0 >> 1)
        x2 = x0 + (x0 - 1) if interval == 32 else 2 * x0
        y0, y1, y2 = pcan_gain(x0), pcan_gain(x1), pcan_gain(x2)
        a1 = 4 * (y1 - y0) - (y2 - y0)
        a2 = (y2 - y0) - a1
        store[4 * interval - 6: 4 * interval - 2] = [y0, short(a1), short(a2), 0]
    return store[:125]


LOG_LUT = [round(65536 * (math.log2(1 + k / 128) - k / 128)) for k in range(129)] + [0]


# ---- KISS FFT, 16-bit fixed point ---------------------------------------------------------------

def sround(x: int) -> int:
    return short((x + (1 << 14)) >> 15)


def fixdiv(c: list[int], div: int) -> None:
    c[0] = sround(c[0] * (32767 // div))
    c[1] = sround(c[1] * (32767 // div))


def cmul(a: list[int], b: tuple[int, int]) -> list[int]:
    return [sround(a[0] * b[0] - a[1] * b[1]), sround(a[0] * b[1] + a[1] * b[0])]


def kf_factor(n: int) -> list[int]:
    facs, p, floor_sqrt = [], 4, math.floor(math.sqrt(n))
    while True:
        while n % p:
            p = {4: 2, 2: 3}.get(p, p + 2)
            if p > floor_sqrt:
                p = n
        n //= p
        facs += [p, n]
        if n <= 1:
            return facs


def twiddle(phase: float) -> tuple[int, int]:
    return (math.floor(0.5 + 32767 * math.cos(phase)), math.floor(0.5 + 32767 * math.sin(phase)))


class KissFftr:
    def __init__(self, nfft: int) -> None:
        self.n = nfft // 2
        pi = 3.141592653589793
        self.tw = [twiddle(-2 * pi * i / self.n) for i in range(self.n)]
        self.factors = kf_factor(self.n)
        self.super = [twiddle(-pi * ((i + 1) / self.n + 0.5)) for i in range(self.n // 2)]

    def bfly2(self, out: list[list[int]], base: int, fstride: int, m: int) -> None:
        for k in range(m):
            a, b = out[base + k], out[base + k + m]
            fixdiv(a, 2)
            fixdiv(b, 2)
            t = cmul(b, self.tw[k * fstride])
            out[base + k + m] = [short(a[0] - t[0]), short(a[1] - t[1])]
            out[base + k] = [short(a[0] + t[0]), short(a[1] + t[1])]

    def bfly4(self, out: list[list[int]], base: int, fstride: int, m: int) -> None:
        for k in range(m):
            f0, f1, f2, f3 = (out[base + k + q * m] for q in range(4))
            for f in (f0, f1, f2, f3):
                fixdiv(f, 4)
            s0 = cmul(f1, self.tw[k * fstride])
            s1 = cmul(f2, self.tw[2 * k * fstride])
            s2 = cmul(f3, self.tw[3 * k * fstride])
            s5 = [short(f0[0] - s1[0]), short(f0[1] - s1[1])]
            f0 = [short(f0[0] + s1[0]), short(f0[1] + s1[1])]
            s3 = [short(s0[0] + s2[0]), short(s0[1] + s2[1])]
            s4 = [short(s0[0] - s2[0]), short(s0[1] - s2[1])]
            out[base + k + 2 * m] = [short(f0[0] - s3[0]), short(f0[1] - s3[1])]
            out[base + k] = [short(f0[0] + s3[0]), short(f0[1] + s3[1])]
            out[base + k + m] = [short(s5[0] + s4[1]), short(s5[1] - s4[0])]
            out[base + k + 3 * m] = [short(s5[0] - s4[1]), short(s5[1] + s4[0])]

    def work(self, out: list[list[int]], base: int, f: list[list[int]], fi: int, fstride: int, fac: int
             ) -> None:
        p, m = self.factors[fac], self.factors[fac + 1]
        if m == 1:
            for k in range(p):
                out[base + k] = list(f[fi + k * fstride])
        else:
            for k in range(p):
                self.work(out, base + k * m, f, fi + k * fstride, fstride * p, fac + 2)
        (self.bfly2 if p == 2 else self.bfly4)(out, base, fstride, m)

    def __call__(self, x: list[int]) -> list[tuple[int, int]]:
        n = self.n
        pairs = [[x[2 * i], x[2 * i + 1]] for i in range(n)]
        tmp: list[list[int]] = [[0, 0] for _ in range(n)]
        self.work(tmp, 0, pairs, 0, 1, 0)
        freq = [[0, 0] for _ in range(n + 1)]
        tdc = list(tmp[0])
        fixdiv(tdc, 2)
        freq[0] = [short(tdc[0] + tdc[1]), 0]
        freq[n] = [short(tdc[0] - tdc[1]), 0]
        for k in range(1, n // 2 + 1):
            fpk = list(tmp[k])
            fpnk = [tmp[n - k][0], short(-tmp[n - k][1])]
            fixdiv(fpk, 2)
            fixdiv(fpnk, 2)
            f1k = [short(fpk[0] + fpnk[0]), short(fpk[1] + fpnk[1])]
            f2k = [short(fpk[0] - fpnk[0]), short(fpk[1] - fpnk[1])]
            tw = cmul(f2k, self.super[k - 1])
            freq[k] = [short((f1k[0] + tw[0]) >> 1), short((f1k[1] + tw[1]) >> 1)]
            freq[n - k] = [short((f1k[0] - tw[0]) >> 1), short((tw[1] - f1k[1]) >> 1)]
        return [(a, b) for a, b in freq]


# ---- the signal library -------------------------------------------------------------------------

def sqrt32(num: int) -> int:
    if num == 0:
        return 0
    res = 0
    max_bit = (32 - msb32(num)) | 1
    bit = 1 << (31 - max_bit)
    for _ in range((31 - max_bit) // 2 + 1):
        if num >= res + bit:
            num -= res + bit
            res = (res >> 1) + bit
        else:
            res >>= 1
        bit >>= 2
    if num > res and res != 0xFFFF:
        res += 1
    return res


def sqrt64(num: int) -> int:
    if num >> 32 == 0:
        return sqrt32(num)
    res = 0
    max_bit = (64 - num.bit_length()) | 1
    bit = 1 << (63 - max_bit)
    for _ in range((63 - max_bit) // 2 + 1):
        if num >= res + bit:
            num -= res + bit
            res = (res >> 1) + bit
        else:
            res >>= 1
        bit >>= 2
    if num > res and res != 0xFFFFFFFF:
        res += 1
    return res & U32


def wide_dynamic(x: int, lut: list[int]) -> int:
    if x <= 2:
        return lut[x]
    interval = msb32(x)
    base = 4 * interval - 6
    frac = ((x << (11 - interval)) if interval < 11 else (x >> (interval - 11))) & 0x3FF
    result = (lut[base + 2] * frac) >> 5
    result = i32(result + i32((lut[base + 1] & U32) << 5))
    result = i32(result * frac)
    result = i32(result + (1 << 14)) >> 15
    return short(result + lut[base])


def log32(x: int, out_scale: int) -> int:
    integer = msb32(x) - 1
    frac = i32(x - (1 << integer))
    frac = frac << (16 - integer) if integer < 16 else frac >> (integer - 16)
    seg = frac >> 9
    c0, c1 = LOG_LUT[seg], LOG_LUT[seg + 1]
    rel = ((c1 - c0) * (frac - 512 * seg)) >> 16
    log2 = ((integer << 16) + frac + c0 + rel) & U32
    loge = ((45426 * log2 + 32768) >> 16) & U32
    return ((out_scale * loge + 32768) & U32) >> 16


class MicroFrontend:
    """One stream: call with 480 int16 samples per frame, returns 40 int8 features."""

    def __init__(self) -> None:
        self.window = hann_q12()
        self.fb = filter_bank_tables()
        self.lut = gain_lut()
        self.fft = KissFftr(512)
        self.noise = [0] * 40
        s = 1 << 14
        self.smooth = [(int(0.025 * s), s - int(0.025 * s)), (int(0.06 * s), s - int(0.06 * s))]
        self.min_signal = int(0.05 * s)

    def __call__(self, frame: list[int]) -> list[int]:
        w = []
        for v, h in zip(frame, self.window, strict=True):
            raw = (v * h) >> 12
            w.append(-32768 if raw < -32768 else 32767 if raw > 32767 else raw)
        top = 0  # MaxAbs16 with its int16 running value
        for v in w:
            if v > top:
                top = v
            elif -v > top:
                top = short(-v)
        scale = 16 - msb32(top & U32) - 1
        scale = max(scale, 0)
        w = [short(v * (1 << scale)) for v in w] + [0] * 32
        spec = self.fft(w)
        fb = self.fb
        energy = [0] * 257
        for i in range(fb["start"], fb["end"]):
            re, im = spec[i]
            energy[i] = (i32(re * re) + i32(im * im)) & U32
        energy += [0] * 8  # padding the last channel may read (zero weights)
        out64 = []
        wacc, uacc = 0, 0
        for ch in range(41):
            for j in range(fb["widths"][ch]):
                e = energy[fb["fstarts"][ch] + j]
                wacc += fb["weights"][fb["wstarts"][ch] + j] * e
                uacc += fb["unweights"][fb["wstarts"][ch] + j] * e
            out64.append(wacc)
            wacc, uacc = uacc, 0
        sig = [sqrt64(v) >> scale for v in out64[1:]]
        feats = []
        for i, x in enumerate(sig):
            sm, one_minus = self.smooth[i & 1]
            up = (x << 10) & U32
            self.noise[i] = ((up * sm + self.noise[i] * one_minus) >> 14) & U32
            est = min(self.noise[i], up)
            floor = ((x * self.min_signal) >> 14) & U32
            sub = (up - est) >> 10
            y = sub if sub > floor else floor
            gain = wide_dynamic(self.noise[i], self.lut) & U32
            snr = ((y * gain) >> 6) & U32
            y = (snr * snr) >> 20 if snr < (2 << 12) else (snr >> 6) - 64
            scaled = (y << 3) & U32
            v = min(log32(scaled, 64), 32767) if scaled > 1 else 0
            q = int((v * 256 + 333) / 666) - 128
            feats.append(max(-128, min(127, q)))
        return feats


def micro_speech_clip(pcm: list[int]) -> list[list[int]]:
    """49 x 40 int8 features of one second (16000 samples), fresh noise state."""
    fe = MicroFrontend()
    return [fe(pcm[s:s + 480]) for s in range(0, 16000 - 480 + 1, 320)]
