"""Image preprocessing: crop, resize, channels, normalization, quantization."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.dsp.image import ImagePreprocess, center_crop, resize, to_channels


def test_center_crop_keeps_the_middle() -> None:
    img = np.arange(4 * 8).reshape(4, 8, 1)
    assert center_crop(img, 4, 4)[:, :, 0].tolist() == img[:, 2:6, 0].tolist()
    assert center_crop(img.transpose(1, 0, 2), 1, 1).shape == (4, 4, 1)


def test_resize_hand_checked() -> None:
    img = np.array([[0, 10], [20, 30]], np.float32)[..., None]
    np.testing.assert_allclose(resize(img, 1, 1)[..., 0], [[15.0]])
    up = resize(img, 4, 4)[..., 0]
    np.testing.assert_allclose(up[0], [0, 2.5, 7.5, 10])  # half-pixel centers, clamped edges
    np.testing.assert_allclose(resize(img, 2, 2), img)
    assert resize(img, 4, 4, "nearest")[..., 0].tolist() == [[0, 0, 10, 10]] * 2 + [[20, 20, 30, 30]] * 2


def test_channels_and_quantization() -> None:
    rgb = np.array([[[255, 0, 0]]], np.float32)
    assert to_channels(rgb, 1)[0, 0, 0] == pytest.approx(0.299 * 255)
    assert to_channels(rgb[..., :1], 3).shape == (1, 1, 3)
    pre = ImagePreprocess(height=2, width=2, channels=3, crop=False, mean=(128.0,), std=(128.0,),
                          scale=1 / 128, zero_point=0)
    img = np.full((4, 4, 3), 255, np.uint8)
    x = pre(img)
    assert x.shape == (1, 2, 2, 3) and x.dtype == np.int8
    assert (x == 127).all()  # (255 - 128) / 128 / (1/128) = 127
    assert (pre(np.zeros((4, 4), np.uint8)) == -128).all()
    with pytest.raises(ValueError, match="an image"):
        pre(np.zeros((4, 4, 2), np.uint8))


def test_for_input_takes_the_model_input_quantization() -> None:
    from edgecraft.models.synthetic import small_cnn
    from edgecraft.runtime import Interpreter

    graph = small_cnn()  # 1x32x32x3 int8, scale 1/128, zero point -1
    pre = ImagePreprocess(mean=(128.0,), std=(1.0,)).for_input(graph.input_tensors()[0])
    assert (pre.height, pre.width, pre.channels, pre.zero_point, pre.dtype) == (32, 32, 3, -1, "int8")
    img = np.random.default_rng(0).integers(0, 256, (48, 64, 3)).astype(np.uint8)
    x = pre(img)
    assert x.shape == (1, 32, 32, 3)
    assert Interpreter(graph).run([x])[0].shape == (1, 10)
    with pytest.raises(ValueError, match="image input"):
        pre.for_input(graph.tensors[graph.outputs[0]])
