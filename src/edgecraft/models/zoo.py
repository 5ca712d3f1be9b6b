"""The front door's model zoo: the field's standard architectures as PyTorch modules.

Each :class:`Family` builds a model at its real size (``full``) or tiny for tests: a small
width and input and, for the deep torchvision nets, the first few stages of the same class
(torchvision's ``MobileNetV2``/``MobileNetV3`` with a shorter block list, ``ResNet`` with one
block per stage, SqueezeNet's stem with two ``Fire`` modules): every block type stays, the
conversion takes seconds instead of a minute (litert-torch's time grows with the op count). torchvision's own
model code is used where it exists (through :func:`torchvision_models`, which works without
torchvision's compiled extension); the MLPerf Tiny reference nets, the 1-D sensor CNN and the
recurrent and attention models are written here. Weights are random (seeded): the zoo is for
coverage, exactness and cost, not accuracy. ``benchmarks/zoo.py`` and the front-door tests
both read :data:`FAMILIES`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from edgecraft.models.torchvision_models import torchvision_models


@dataclass(frozen=True)
class Family:
    """One architecture: ``build(full)`` returns the model and its input shape (no batch)."""

    name: str
    source: str  # "torchvision" or "edgecraft"
    build: Callable[[bool], tuple[nn.Module, tuple[int, ...]]]
    note: str = ""


class LastStep(nn.Module):
    """A batch-first recurrent layer with an ``nn.Linear`` on its last step (``y[:, -1]``)."""

    def __init__(self, rnn: nn.Module, hidden: int, classes: int) -> None:
        super().__init__()
        self.rnn = rnn
        self.fc = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, T, F) -> (N, classes)."""
        y, _ = self.rnn(x)
        out: torch.Tensor = self.fc(y[:, -1])
        return out


class EncoderClassifier(nn.Module):
    """``nn.TransformerEncoderLayer`` over (N, T, d_model), mean over time, ``nn.Linear``."""

    def __init__(self, d_model: int, heads: int, ff: int, classes: int) -> None:
        super().__init__()
        self.encoder = nn.TransformerEncoderLayer(d_model, heads, ff, dropout=0.0, batch_first=True)
        self.fc = nn.Linear(d_model, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, T, d_model) -> (N, classes)."""
        out: torch.Tensor = self.fc(self.encoder(x).mean(1))
        return out


def _bn_relu(conv: nn.Module, c: int, one_d: bool = False) -> list[nn.Module]:
    return [conv, nn.BatchNorm1d(c) if one_d else nn.BatchNorm2d(c), nn.ReLU()]


def ds_cnn(channels: int = 64, blocks: int = 4, classes: int = 12) -> nn.Sequential:
    """MLPerf Tiny keyword spotting DS-CNN: 10x4 conv (stride 2), depthwise-separable blocks,
    average pool, linear; input (1, 49, 10) MFCCs."""
    layers = _bn_relu(nn.Conv2d(1, channels, (10, 4), stride=2, padding=(5, 1)), channels)
    for _ in range(blocks):
        layers += _bn_relu(nn.Conv2d(channels, channels, 3, padding=1, groups=channels), channels)
        layers += _bn_relu(nn.Conv2d(channels, channels, 1), channels)
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(1), nn.Linear(channels, classes))


def autoencoder(inputs: int = 640, width: int = 128, code: int = 8) -> nn.Sequential:
    """MLPerf Tiny anomaly detection autoencoder: 4 x (Linear, BatchNorm, ReLU), a code layer,
    4 more, and the output Linear; input 640 (5 frames of 128 log-mel bins)."""
    layers: list[nn.Module] = []
    sizes = [inputs, width, width, width, width, code, width, width, width, width]
    for a, b in itertools.pairwise(sizes):
        layers += _bn_relu(nn.Linear(a, b), b, one_d=True)
    return nn.Sequential(*layers, nn.Linear(width, inputs))


def resnet8(classes: int = 10, width: int = 16) -> nn.Module:
    """MLPerf Tiny image classification ResNet-8 (three residual stacks) for 32x32 RGB, from
    torchvision's ``BasicBlock``."""
    torchvision_models()  # first: registers torchvision without its compiled extension
    from torchvision.models.resnet import BasicBlock

    def down(a: int, b: int) -> nn.Module:
        return nn.Sequential(nn.Conv2d(a, b, 1, stride=2, bias=False), nn.BatchNorm2d(b))

    return nn.Sequential(
        *_bn_relu(nn.Conv2d(3, width, 3, padding=1, bias=False), width),
        BasicBlock(width, width), BasicBlock(width, 2 * width, 2, down(width, 2 * width)),
        BasicBlock(2 * width, 4 * width, 2, down(2 * width, 4 * width)),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(1), nn.Linear(4 * width, classes))


def mobilenet_v1(alpha: float = 0.25, classes: int = 2) -> nn.Sequential:
    """MLPerf Tiny visual wake words MobileNetV1 (width ``alpha``) for 96x96 RGB."""
    def c(n: int) -> int:
        return max(8, int(n * alpha))

    layers = _bn_relu(nn.Conv2d(3, c(32), 3, stride=2, padding=1, bias=False), c(32))
    plan = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 \
        + [(1024, 2), (1024, 1)]
    prev = c(32)
    for out, stride in plan:
        layers += _bn_relu(nn.Conv2d(prev, prev, 3, stride, 1, groups=prev, bias=False), prev)
        layers += _bn_relu(nn.Conv2d(prev, c(out), 1, bias=False), c(out))
        prev = c(out)
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(1), nn.Linear(prev, classes))


def cnn1d(channels: int = 3, width: int = 32, classes: int = 6) -> nn.Sequential:
    """A 1-D CNN for sensor windows (N, channels, length): three conv/BN/ReLU/pool stages."""
    layers: list[nn.Module] = []
    prev = channels
    for out in (max(8, width // 2), width, width):
        layers += _bn_relu(nn.Conv1d(prev, out, 5, padding=2), out, one_d=True)
        layers.append(nn.MaxPool1d(2))
        prev = out
    return nn.Sequential(*layers, nn.AdaptiveAvgPool1d(1), nn.Flatten(1), nn.Linear(prev, classes))


def _mobilenet_v2(full: bool) -> tuple[nn.Module, tuple[int, ...]]:
    if full:
        return torchvision_models().mobilenet_v2(num_classes=10, width_mult=0.35), (3, 96, 96)
    torchvision_models()  # first: registers torchvision without its compiled extension
    from torchvision.models.mobilenetv2 import MobileNetV2
    # the first three stages (a stride-1 block, a strided block, a residual block)
    return MobileNetV2(10, 0.1, [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 1, 2]]), (3, 32, 32)


def _mobilenet_v3_small(full: bool) -> tuple[nn.Module, tuple[int, ...]]:
    if full:
        return torchvision_models().mobilenet_v3_small(num_classes=10), (3, 96, 96)
    torchvision_models()  # first: registers torchvision without its compiled extension
    from torchvision.models.mobilenetv3 import MobileNetV3, _mobilenet_v3_conf
    setting, last = _mobilenet_v3_conf("mobilenet_v3_small", width_mult=0.25)
    # squeeze-excite with ReLU, plain, residual, squeeze-excite with hard-swish
    return MobileNetV3(setting[:4], last, num_classes=10), (3, 32, 32)


def _resnet18(full: bool) -> tuple[nn.Module, tuple[int, ...]]:
    if full:
        return torchvision_models().resnet18(num_classes=10), (3, 32, 32)
    torchvision_models()  # first: registers torchvision without its compiled extension
    from torchvision.models.resnet import BasicBlock, ResNet
    return ResNet(BasicBlock, [1, 1, 1, 1], num_classes=10), (3, 16, 16)


def _squeezenet(full: bool) -> tuple[nn.Module, tuple[int, ...]]:
    if full:
        return torchvision_models().squeezenet1_1(num_classes=10), (3, 96, 96)
    torchvision_models()  # first: registers torchvision without its compiled extension
    from torchvision.models.squeezenet import Fire
    # squeezenet1_1's stem, two Fire modules, its ceil-mode pools and its conv classifier
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, stride=2), nn.ReLU(), nn.MaxPool2d(3, 2, ceil_mode=True),
        Fire(16, 4, 8, 8), Fire(16, 4, 8, 8), nn.MaxPool2d(3, 2, ceil_mode=True),
        nn.Conv2d(16, 10, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(1)), (3, 32, 32)


def _mobilenet_v3_large(full: bool) -> tuple[nn.Module, tuple[int, ...]]:
    if full:
        return torchvision_models().mobilenet_v3_large(num_classes=10, width_mult=0.5), (3, 96, 96)
    torchvision_models()  # first: registers torchvision without its compiled extension
    from torchvision.models.mobilenetv3 import MobileNetV3, _mobilenet_v3_conf
    setting, last = _mobilenet_v3_conf("mobilenet_v3_large", width_mult=0.25)
    # plain ReLU blocks (one residual), squeeze-excite with ReLU at kernel 5, a hard-swish block,
    # squeeze-excite with hard-swish (blocks 0-3, 6 and 10 chain: 40 -> 80 -> 112 channels)
    return MobileNetV3([setting[k] for k in (0, 1, 2, 3, 6, 10)], last, num_classes=10), (3, 32, 32)


def _mnasnet(full: bool) -> tuple[nn.Module, tuple[int, ...]]:
    if full:
        return torchvision_models().mnasnet0_5(num_classes=10), (3, 96, 96)
    torchvision_models()  # first: registers torchvision without its compiled extension
    from torchvision.models.mnasnet import MNASNet
    model = MNASNet(0.25, num_classes=10)
    # the stem and the first two stacks (kernel 3 and 5, residual repeats), then MNASNet's own
    # 1x1 conv / mean / classifier at a small width
    width = model.layers[9][-1].layers[-1].num_features
    model.layers = nn.Sequential(*model.layers[:10], nn.Conv2d(width, 32, 1, bias=False),
                                 nn.BatchNorm2d(32), nn.ReLU(inplace=True))
    model.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(32, 10))
    return model, (3, 32, 32)


def _shufflenet(full: bool) -> tuple[nn.Module, tuple[int, ...]]:
    if full:
        return torchvision_models().shufflenet_v2_x0_5(num_classes=10), (3, 96, 96)
    torchvision_models()  # first: registers torchvision without its compiled extension
    from torchvision.models.shufflenetv2 import ShuffleNetV2
    # two, one and one units per stage: the strided unit (two branches) opens each stage, the
    # stride-1 unit (channel split, shuffle) follows in the first
    return ShuffleNetV2([2, 1, 1], [8, 16, 32, 64, 64], num_classes=10), (3, 32, 32)


def _efficientnet(full: bool) -> tuple[nn.Module, tuple[int, ...]]:
    if full:
        return torchvision_models().efficientnet_b0(num_classes=10), (3, 96, 96)
    torchvision_models()  # first: registers torchvision without its compiled extension
    from torchvision.models.efficientnet import EfficientNet, _efficientnet_conf
    setting, last = _efficientnet_conf("efficientnet_b0", width_mult=0.25, depth_mult=1.0)
    # MBConv with expansion 1 and 6, kernel 3 and 5, SiLU, squeeze-excite, residual
    return EfficientNet(setting[:3], 0.2, num_classes=10, last_channel=last), (3, 32, 32)


def _regnet(full: bool) -> tuple[nn.Module, tuple[int, ...]]:
    if full:
        return torchvision_models().regnet_x_400mf(num_classes=10), (3, 64, 64)
    torchvision_models()  # first: registers torchvision without its compiled extension
    from torchvision.models.regnet import BlockParams, RegNet
    # RegNetX's stem and bottleneck blocks with grouped 3x3 convs (group width 8), residual
    params = BlockParams([1, 2], [16, 32], [8, 8], [1.0, 1.0], [2, 2])
    return RegNet(params, num_classes=10, stem_width=8), (3, 32, 32)


FAMILIES: dict[str, Family] = {f.name: f for f in [
    Family("mobilenet_v2", "torchvision", _mobilenet_v2, "width 0.35, 96x96"),
    Family("mobilenet_v3_small", "torchvision", _mobilenet_v3_small, "96x96"),
    Family("mobilenet_v3_large", "torchvision", _mobilenet_v3_large, "width 0.5, 96x96"),
    Family("resnet18", "torchvision", _resnet18, "32x32"),
    Family("squeezenet1_1", "torchvision", _squeezenet, "96x96"),
    Family("mnasnet0_5", "torchvision", _mnasnet, "96x96"),
    Family("shufflenet_v2_x0_5", "torchvision", _shufflenet, "96x96"),
    Family("efficientnet_b0", "torchvision", _efficientnet, "96x96"),
    Family("regnet_x_400mf", "torchvision", _regnet, "64x64"),
    Family("ds_cnn", "edgecraft", lambda full: (ds_cnn(64 if full else 8, 4 if full else 2), (1, 49, 10)),
           "MLPerf Tiny KWS, 49x10 MFCC"),
    Family("resnet8", "edgecraft",
           lambda full: (resnet8(width=16 if full else 4), (3, 32, 32) if full else (3, 16, 16)),
           "MLPerf Tiny IC, 32x32"),
    Family("mobilenet_v1_025", "edgecraft",
           lambda full: (mobilenet_v1(0.25 if full else 0.05), (3, 96 if full else 32, 96 if full else 32)),
           "MLPerf Tiny VWW, 96x96"),
    Family("autoencoder", "edgecraft", lambda full: (autoencoder(640, 128 if full else 16), (640,)),
           "MLPerf Tiny AD, 640 inputs"),
    Family("cnn1d", "edgecraft", lambda full: (cnn1d(3, width=32 if full else 8), (3, 128 if full else 32)),
           "3-axis sensor window"),
    Family("lstm", "edgecraft",
           lambda full: (LastStep(nn.LSTM(16 if full else 6, 64 if full else 12, batch_first=True),
                                  64 if full else 12, 6), (32 if full else 3, 16 if full else 6)),
           "nn.LSTM, 32 steps of 16 features, hidden 64, last step"),
    Family("gru", "edgecraft",
           lambda full: (LastStep(nn.GRU(16 if full else 6, 64 if full else 12, batch_first=True),
                                  64 if full else 12, 6), (32 if full else 3, 16 if full else 6)),
           "nn.GRU, 32 steps of 16 features, hidden 64, last step"),
    Family("transformer", "edgecraft",
           lambda full: (EncoderClassifier(32, 4, 64 if full else 32, 6), (16 if full else 4, 32)),
           "nn.TransformerEncoderLayer d_model 32, 4 heads, 16 steps"),
]}


def build(name: str, full: bool = False, seed: int = 0) -> tuple[nn.Module, tuple[int, ...]]:
    """Family ``name`` at full or tiny size, seeded, in eval mode with BatchNorm statistics
    randomized (so folding them is not the identity); returns (model, input shape)."""
    torch.manual_seed(seed)
    model, shape = FAMILIES[name].build(full)
    gen = torch.Generator().manual_seed(seed + 1)
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.running_mean is not None:
            assert m.running_var is not None
            m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=gen) - 0.5)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) * 1.5 + 0.5)
    return model.eval(), shape
