"""Image preprocessing: crop, resize, grayscale/RGB, normalization, quantization.

Images are ``(height, width, channels)`` uint8 or float arrays, channels 1 or 3. The pipeline in
:class:`ImagePreprocess` runs in this order: center crop to the target aspect ratio (optional),
resize (bilinear with half-pixel centers, or nearest), color conversion, ``(x - mean) / std`` per
channel, then quantization to the model's input scale and zero point.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import numpy as np

from edgecraft.dsp.quantize import quantize
from edgecraft.ir.graph import Tensor

# ITU-R BT.601 luma weights, the usual grayscale conversion
LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def center_crop(img: np.ndarray, height: int, width: int) -> np.ndarray:
    """The largest centered crop with the aspect ratio ``width:height`` (integer arithmetic,
    rounded half up, so the C twin crops the same pixels)."""
    h, w = img.shape[:2]
    if w * height > width * h:
        nw = max(1, (2 * h * width + height) // (2 * height))
        x0 = (w - nw) // 2
        return img[:, x0:x0 + nw]
    nh = max(1, (2 * w * height + width) // (2 * width))
    y0 = (h - nh) // 2
    return img[y0:y0 + nh]


def resize(img: np.ndarray, height: int, width: int, method: Literal["bilinear", "nearest"] = "bilinear"
           ) -> np.ndarray:
    """Resize ``(h, w, c)`` to ``(height, width, c)`` float32. Bilinear samples at half-pixel
    centers (source ``(i + 0.5) * h / height - 0.5``, clamped at the edges)."""
    src = np.asarray(img, np.float32)
    h, w = src.shape[:2]
    ys = (np.arange(height) + 0.5) * (h / height) - 0.5
    xs = (np.arange(width) + 0.5) * (w / width) - 0.5
    if method == "nearest":
        yi = np.clip(np.floor((np.arange(height) * h) / height), 0, h - 1).astype(int)
        xi = np.clip(np.floor((np.arange(width) * w) / width), 0, w - 1).astype(int)
        return src[yi][:, xi]
    ys = np.clip(ys, 0, h - 1)
    xs = np.clip(xs, 0, w - 1)
    y0 = np.floor(ys).astype(int)
    x0 = np.floor(xs).astype(int)
    y1 = np.minimum(y0 + 1, h - 1)
    x1 = np.minimum(x0 + 1, w - 1)
    fy = (ys - y0).astype(np.float32)[:, None, None]
    fx = (xs - x0).astype(np.float32)[None, :, None]
    top = src[y0][:, x0] * (1 - fx) + src[y0][:, x1] * fx
    bottom = src[y1][:, x0] * (1 - fx) + src[y1][:, x1] * fx
    return (top * (1 - fy) + bottom * fy).astype(np.float32)


def to_channels(img: np.ndarray, channels: int) -> np.ndarray:
    """Grayscale (1) from RGB by BT.601 luma, or RGB (3) from grayscale by repetition."""
    c = img.shape[2]
    if c == channels:
        return img
    if channels == 1 and c == 3:
        return (img @ LUMA)[..., None].astype(np.float32)
    if channels == 3 and c == 1:
        return np.repeat(img, 3, axis=2)
    raise ValueError(f"cannot convert {c} channels to {channels}")


@dataclass(frozen=True)
class ImagePreprocess:
    """Parameters of the image pipeline. ``mean``/``std`` are per channel (or one value for
    all) in the units of the input (0..255 for uint8). ``dtype`` is the model input type."""

    height: int = 96
    width: int = 96
    channels: int = 3
    crop: bool = True
    method: Literal["bilinear", "nearest"] = "bilinear"
    mean: tuple[float, ...] = (0.0,)
    std: tuple[float, ...] = (255.0,)
    scale: float = 1.0 / 255.0
    zero_point: int = 0
    dtype: str = "int8"

    def to_dict(self) -> dict[str, Any]:
        """The parameters as a plain dict."""
        return asdict(self)

    def for_input(self, tensor: Tensor) -> ImagePreprocess:
        """A copy sized and quantized for a model's ``(1, height, width, channels)`` input tensor
        (its scale, zero point and dtype); normalization stays as set."""
        if len(tensor.shape) != 4 or tensor.shape[0] != 1 or tensor.shape[3] not in (1, 3):
            raise ValueError(f"expected an image input (1, h, w, 1 or 3), got {list(tensor.shape)}")
        _, h, w, c = (int(d) for d in tensor.shape)
        q = tensor.quant
        scale, zp = (float(q.scale[0]), int(q.zero_point[0])) if q is not None else (1.0, 0)
        return replace(self, height=h, width=w, channels=c, scale=scale, zero_point=zp, dtype=tensor.dtype)

    def floats(self, img: np.ndarray) -> np.ndarray:
        """Crop, resize, convert and normalize: ``(height, width, channels)`` float32."""
        x = np.asarray(img)
        if x.ndim == 2:
            x = x[..., None]
        if x.ndim != 3 or x.shape[2] not in (1, 3):
            raise ValueError(f"an image must be (h, w), (h, w, 1) or (h, w, 3), got {list(x.shape)}")
        if self.crop:
            x = center_crop(x, self.height, self.width)
        x = to_channels(resize(x, self.height, self.width, self.method), self.channels)
        mean = np.asarray(self.mean, np.float32)
        std = np.asarray(self.std, np.float32)
        return ((x - mean) / std).astype(np.float32)

    def __call__(self, img: np.ndarray) -> np.ndarray:
        """The model input: :meth:`floats` quantized to ``scale``/``zero_point``/``dtype``,
        with a leading batch axis."""
        return quantize(self.floats(img), self.scale, self.zero_point, self.dtype)[None]


VWW_96 = ImagePreprocess(height=96, width=96, channels=3, mean=(128.0,), std=(128.0,),
                         scale=1.0 / 128.0, zero_point=0)
"""Visual wake words style: 96x96 RGB, ``(x - 128) / 128`` in int8 (override scale/zero point
with the model's own input quantization)."""
