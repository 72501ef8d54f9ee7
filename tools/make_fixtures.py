#!/usr/bin/python3
"""Generate the PyTorch reference fixtures for gradlens.

For each model this script exports an ONNX file with torch.onnx.export and
writes, next to it, a seeded input, the model's output, the per-example target
class (argmax of the output) and the gradient of sum_n output[n, target[n]]
with respect to the input, computed by torch autograd.  These files are the
independent reference the C++ importer and attribution code are tested
against; the script itself is never run by the build or the tests.

Runs only with Debian's system interpreter (/usr/bin/python3), which has
torch 1.13, torchvision 0.14, onnx 1.12 and numpy.  Nothing is downloaded:
every model is randomly initialised from a fixed seed.

Layout of one fixture directory (tests/data/fixtures/<name>/):
  model.onnx   exported model (eval mode, constant folding on)
  input.npy    input batch (float32; int64 token ids for embedding_mlp)
  output.npy   model output for input.npy (float32)
  target.npy   int64 [N], argmax of output.npy per example
  grad.npy     float32, d(sum_n output[n, target[n]]) / d input
               (grad_embedding.npy instead for embedding_mlp: the gradient
               w.r.t. the embedding layer's output)
  meta.json    name, opset, shapes, versions, seed, description, ONNX op types

Attribution references (Grad-CAM, Integrated Gradients, ...) are meant to be
added later as functions taking a built Fixture; see REFERENCES below.
"""

import argparse
import copy
import json
import os
import sys
import time
import zlib
from dataclasses import dataclass, field
from typing import Callable, Dict, List

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO_ROOT, "tests", "data", "fixtures")
DEFAULT_LARGE_OUT = os.path.join(REPO_ROOT, "tests", "data", "large")
BASE_SEED = 20240611


def seed_for(name: str) -> int:
    """A stable per-model seed (independent of registry order)."""
    return BASE_SEED + (zlib.crc32(name.encode("utf-8")) % 100000)


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % (2 ** 32))


# --------------------------------------------------------------------------
# BatchNorm: make it non-trivial
# --------------------------------------------------------------------------

def batchnorms(module: nn.Module) -> List[nn.modules.batchnorm._BatchNorm]:
    return [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


def randomise_batchnorm(module: nn.Module, calib_input: torch.Tensor,
                        gen: torch.Generator) -> None:
    """Give every BatchNorm layer random, non-default statistics and affine params.

    Drawing running stats blindly makes deep nets (resnet50, densenet121)
    explode or collapse, so they are first set from one train-mode pass over
    `calib_input` (a seeded random batch, not the fixture input) and then
    jittered per channel.  The affine weight/bias are drawn at random.  The
    result is neither mean 0 / var 1 nor gamma 1 / beta 0.
    """
    bns = batchnorms(module)
    if not bns:
        return
    momenta = [bn.momentum for bn in bns]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average: the one batch sets the stats
    # Only the BatchNorms run in training mode: Dropout and StochasticDepth
    # (efficientnet) stay in eval mode so the stats match the eval graph.
    module.eval()
    for bn in bns:
        bn.train()
    with torch.no_grad():
        module(calib_input)
    module.eval()
    with torch.no_grad():
        for bn, mom in zip(bns, momenta):
            bn.momentum = mom
            c = bn.num_features
            std = bn.running_var.clamp_min(1e-6).sqrt()
            # Mild: with 50+ BN layers and residual sums, stronger jitter
            # compounds (efficientnet_b0 logits reached 1e4 with +-40 %).
            bn.running_mean += 0.1 * std * torch.randn(c, generator=gen)
            bn.running_var *= 0.8 + 0.4 * torch.rand(c, generator=gen)
            if bn.affine:
                bn.weight.copy_(0.8 + 0.4 * torch.rand(c, generator=gen))
                bn.bias.copy_(0.1 * torch.randn(c, generator=gen))


def kaiming_reinit(module: nn.Module, gen: torch.Generator) -> None:
    """He-normal weights for Conv/ConvTranspose/Linear (small models only).

    torch's default init shrinks the signal layer by layer; on these tiny nets
    that left input gradients around 1e-6 and the same argmax for every
    input, which makes poor test references.  Biases get U(-0.1, 0.1).
    """
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                w = m.weight
                if isinstance(m, nn.ConvTranspose2d):
                    # weight is [in, out/groups, kh, kw]; each output sums over
                    # in/groups * kh * kw / stride^2 taps on average
                    fan_in = w.shape[0] // m.groups * w[0, 0].numel() / (m.stride[0] * m.stride[1])
                else:
                    fan_in = w[0].numel()
                w.copy_(torch.randn(w.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(0.2 * torch.rand(m.bias.shape, generator=gen) - 0.1)


def perturb_constant_params(module: nn.Module, gen: torch.Generator) -> None:
    """Add noise to parameters that default init leaves constant.

    Zero biases and unit LayerNorm weights would make those terms invisible to
    the tests (and torch's exporter deduplicates equal initializers through
    Identity nodes).  BatchNorm params are handled by randomise_batchnorm.
    """
    with torch.no_grad():
        for p in module.parameters():
            if p.numel() > 1 and bool(p.max() == p.min()):
                p.add_(0.1 * torch.randn(p.shape, generator=gen))


# --------------------------------------------------------------------------
# Small models
# --------------------------------------------------------------------------

class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 24), nn.ReLU(),
                                 nn.Linear(24, 5))

    def forward(self, x):
        return self.net(x)


class SmallCNN(nn.Module):
    """Piecewise linear, every layer has a bias (FullGrad completeness)."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.AvgPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(16 * 4 * 4, 32), nn.ReLU(),
                                        nn.Linear(32, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


class GapCNN(nn.Module):
    """Convs + ReLU, global average pooling, one Linear: the CAM layout."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 24, 3, padding=1), nn.ReLU())
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(24, 7)

    def forward(self, x):
        return self.fc(torch.flatten(self.gap(self.features(x)), 1))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                      nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        skip = x if self.down is None else self.down(x)
        return F.relu(y + skip)


class ResNetTiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8),
                                  nn.ReLU())
        self.block1 = BasicBlock(8, 8, 1)
        self.block2 = BasicBlock(8, 16, 2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.block2(self.block1(self.stem(x)))
        return self.fc(torch.flatten(self.gap(x), 1))


class SqueezeExcite(nn.Module):
    def __init__(self, c, r):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(c, r, 1)
        self.fc2 = nn.Conv2d(r, c, 1)

    def forward(self, x):
        s = F.relu(self.fc1(self.pool(x)))
        return x * F.hardsigmoid(self.fc2(s))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, expand, stride, act, se):
        super().__init__()
        mid = cin * expand
        layers = [nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid), act(),
                  nn.Conv2d(mid, mid, 3, stride=stride, padding=1, groups=mid, bias=False),
                  nn.BatchNorm2d(mid), act()]
        if se:
            layers.append(SqueezeExcite(mid, max(4, mid // 4)))
        layers += [nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.body(x)
        return x + y if self.residual else y


class MobileNetTiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False),
                                  nn.BatchNorm2d(8), nn.ReLU6())
        # depthwise-separable block (MobileNetV1 style)
        self.dw = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False),
                                nn.BatchNorm2d(8), nn.ReLU6(),
                                nn.Conv2d(8, 12, 1, bias=False), nn.BatchNorm2d(12), nn.ReLU6())
        self.ir1 = InvertedResidual(12, 12, 3, 1, nn.ReLU6, se=False)   # with skip
        self.ir2 = InvertedResidual(12, 16, 3, 2, nn.Hardswish, se=True)
        self.ir3 = InvertedResidual(16, 16, 2, 1, nn.Hardswish, se=True)  # with skip
        self.head = nn.Sequential(nn.Conv2d(16, 32, 1), nn.Hardswish(), nn.AdaptiveAvgPool2d(1),
                                  nn.Flatten(), nn.Linear(32, 10))

    def forward(self, x):
        return self.head(self.ir3(self.ir2(self.ir1(self.dw(self.stem(x))))))


class DilatedGrouped(nn.Module):
    def __init__(self):
        super().__init__()
        self.pad = nn.ZeroPad2d((1, 2, 0, 1))          # left, right, top, bottom
        self.conv_in = nn.Conv2d(4, 8, 3, groups=2)
        self.branch_a = nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=2)
        self.branch_b = nn.Conv2d(8, 6, 3, padding=1)
        self.dropout = nn.Dropout(0.3)
        self.conv_mix = nn.Conv2d(14, 10, 3, stride=2, groups=2)
        self.fc = nn.Linear(10 * 6 * 6, 6)

    def forward(self, x):
        x = F.leaky_relu(self.conv_in(self.pad(x)), 0.1)        # [N, 8, 12, 14]
        a = torch.sigmoid(self.branch_a(x))
        b = torch.tanh(self.branch_b(F.pad(x, (0, 1, 1, 0))))   # [N, 6, 13, 15] -> crop below
        b = b[:, :, 1:, :-1]
        y = torch.cat([a, b], dim=1)                            # [N, 14, 12, 14]
        y = self.dropout(y)
        y = F.leaky_relu(self.conv_mix(y), 0.2)                 # [N, 10, 5, 6]
        y = F.pad(y, (0, 0, 0, 1))                              # [N, 10, 6, 6]
        return torch.softmax(self.fc(torch.flatten(y, 1)), dim=1)


class TransformerTiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([
            nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32, dropout=0.0,
                                       activation="gelu", batch_first=True)
            for _ in range(2)])
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.fc(x.mean(dim=1))


class ConvTransposeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 3, padding=1)
        self.up = nn.ConvTranspose2d(6, 4, 3, stride=2, padding=1, output_padding=1)
        self.conv2 = nn.Conv2d(4, 8, 3, padding=1)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.up(x))            # [N, 4, 24, 24]
        x = F.relu(self.conv2(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class EmbeddingMLP(nn.Module):
    """Token ids -> embedding -> mean over tokens -> MLP head.

    `head` takes the embedding output so the reference gradient w.r.t. the
    embedding output can be computed without hooks.
    """

    def __init__(self, vocab=50, dim=12):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        self.fc1 = nn.Linear(dim, 16)
        self.fc2 = nn.Linear(16, 3)

    def head(self, e):
        return self.fc2(F.relu(self.fc1(e.mean(dim=1))))

    def forward(self, ids):
        return self.head(self.embedding(ids))


# --------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------

@dataclass
class Built:
    module: nn.Module
    example_input: torch.Tensor
    opset: int
    # torch's EVAL export folds Conv+BatchNorm into the Conv weights; keep_bn
    # exports with TrainingMode.PRESERVE (module still in eval mode), which
    # skips that fusion so BatchNormalization nodes reach the ONNX file.
    keep_bn: bool = False


@dataclass
class ModelSpec:
    name: str
    build: Callable[[], Built]      # called after seed_everything(seed_for(name))
    description: str
    large: bool = False
    notes: List[str] = field(default_factory=list)


REGISTRY: Dict[str, ModelSpec] = {}


def register(name, description, large=False, notes=None):
    def deco(fn):
        REGISTRY[name] = ModelSpec(name, fn, description, large, list(notes or []))
        return fn
    return deco


def randn(*shape, generator=None):
    """Seeded example input.  Images ([N, C, H, W]) get a per-example,
    per-channel offset on top of N(0, 1) noise: pure i.i.d. noise averages out
    under global pooling and every example would land on the same class."""
    x = torch.randn(*shape, generator=generator)
    if len(shape) == 4:
        x = x + torch.randn(shape[0], shape[1], 1, 1, generator=generator)
    return x


MAX_INPUT_DRAWS = 50


def pick_input(m: nn.Module, draw: Callable[[], torch.Tensor]) -> torch.Tensor:
    """Draw seeded inputs until the two examples have different, clear argmaxes.

    A per-example target bug (using target[0] for every row) would go unseen
    if both rows shared a class, and a near-tie could flip the argmax under
    float reordering.  The draw sequence is seeded, so this is deterministic.
    """
    for _ in range(MAX_INPUT_DRAWS):
        x = draw()
        with torch.no_grad():
            out = m(x)
        t = out.argmax(dim=1)
        spread = float(out.std())
        if len(set(t.tolist())) == out.shape[0] and top2_gap(out) > 0.02 * spread:
            return x
    raise RuntimeError("no input with distinct, clear targets found")


def small(module_cls, shape, opset, keep_bn=False, init=True):
    """Build a small model from the current seed: He init, BN stats calibrated on
    a random batch and jittered, constant params perturbed, input picked."""
    m = module_cls()
    gen = torch.Generator().manual_seed(torch.initial_seed() + 1)
    if init:
        kaiming_reinit(m, gen)
    randomise_batchnorm(m, randn(16, *shape[1:], generator=gen), gen)
    perturb_constant_params(m, gen)
    m.eval()
    return Built(m, pick_input(m, lambda: randn(*shape)), opset, keep_bn)


@register("mlp", "Linear(20,32)-ReLU-Linear(32,24)-ReLU-Linear(24,5) on [2,20]")
def _mlp():
    return small(MLP, (2, 20), 11)


@register("small_cnn", "Conv(3->8,3,p1)-BN-ReLU-MaxPool2-Conv(8->16,3,s2,p1)-BN-ReLU-AvgPool2-"
          "Flatten-Linear(256,32)-ReLU-Linear(32,10); piecewise linear, all layers biased",
          notes=["Exported in EVAL mode: torch folds each BatchNorm into the preceding Conv's "
                 "weight and bias, so no BatchNormalization node appears (see resnet_tiny).",
                 "torch 1.13 emits an all-zero Pad before AveragePool (count_include_pad)."])
def _small_cnn():
    return small(SmallCNN, (2, 3, 32, 32), 12)


@register("gap_cnn", "3 convs + ReLU (one MaxPool) -> AdaptiveAvgPool2d(1) -> Flatten -> "
          "Linear(24,7); CAM-compatible (last conv feeds GAP feeds the only Linear)")
def _gap_cnn():
    return small(GapCNN, (2, 3, 28, 28), 13)


@register("resnet_tiny", "stem Conv-BN-ReLU, two residual basic blocks (second stride 2 with a "
          "1x1 strided Conv-BN downsample), GAP, Linear(16,10). Exported with "
          "TrainingMode.PRESERVE (module in eval mode) so BatchNormalization stays a separate "
          "node instead of being folded into the Conv")
def _resnet_tiny():
    return small(ResNetTiny, (2, 3, 32, 32), 14, keep_bn=True)


@register("mobilenet_tiny", "stem Conv-BN-ReLU6, depthwise-separable block, three inverted "
          "residuals (ReLU6 / Hardswish, squeeze-excitation with Hardsigmoid gate, two with "
          "skip), 1x1 conv head, GAP, Linear(32,10)")
def _mobilenet_tiny():
    return small(MobileNetTiny, (2, 3, 32, 32), 15)


@register("dilated_grouped", "ZeroPad2d asymmetric, grouped conv, LeakyReLU, two branches "
          "(dilated grouped conv + Sigmoid; F.pad asymmetric + conv + Tanh + crop) joined by "
          "torch.cat, Dropout (eval), strided grouped conv, F.pad, Linear, Softmax over classes. "
          "output.npy holds probabilities; grad is of the target probability",
          notes=["Opset 11: every pad (ZeroPad2d, F.pad) becomes Pad whose pads input is "
                 "computed by an int64 chain Constant/ConstantOfShape/Concat/Reshape/"
                 "Slice(step -1)/Transpose/Reshape/Cast; torch 1.13 does not constant-fold "
                 "Slice with step != 1."])
def _dilated_grouped():
    return small(DilatedGrouped, (2, 4, 13, 13), 11)


@register("transformer_tiny", "2x nn.TransformerEncoderLayer(d_model=16, nhead=2, ff=32, "
          "gelu, dropout=0, batch_first, post-norm) on float [2,8,16], mean over sequence, "
          "Linear(16,4); LayerNorm affine params and attention biases randomised",
          notes=["torch 1.13 exports the packed q/k/v in-projection as MatMul+Add followed by "
                 "three Slices whose bounds are computed at run time from Shape->Gather->Add->"
                 "Div->Mul (not constant-folded); the importer needs int64 shape arithmetic.",
                 "Must be traced with grad enabled: under no_grad the layer takes its fused "
                 "fast path (aten::_transformer_encoder_layer_fwd), which has no ONNX export.",
                 "Opset 17: LayerNorm exports as a single LayerNormalization node."])
def _transformer_tiny():
    return small(TransformerTiny, (2, 8, 16), 17, init=False)  # keep xavier attention init


@register("conv_transpose", "Conv(3->6)-ReLU, ConvTranspose2d(6->4,3,stride 2,pad 1,"
          "output_padding 1)-ReLU, Conv(4->8)-ReLU, GAP, Linear(8,5)")
def _conv_transpose():
    return small(ConvTransposeNet, (2, 3, 12, 12), 16)


@register("embedding_mlp", "nn.Embedding(50,12) on int64 ids [2,6], mean over tokens, "
          "Linear(12,16)-ReLU-Linear(16,3). input.npy is int64; the gradient is w.r.t. the "
          "embedding output and stored as grad_embedding.npy (no gradient for integer ids)")
def _embedding_mlp():
    m = EmbeddingMLP()
    kaiming_reinit(m, torch.Generator().manual_seed(torch.initial_seed() + 1))
    m.eval()
    ids = pick_input(m, lambda: torch.randint(0, 50, (2, 6), dtype=torch.int64))
    return Built(m, ids, 13)


# Large torchvision architectures: not committed, written under tests/data/large/.
LARGE_OPSETS = {
    "alexnet": 11, "vgg11_bn": 13, "vgg16": 13, "resnet18": 13, "resnet50": 13,
    "densenet121": 14, "squeezenet1_1": 12, "mobilenet_v2": 13, "mobilenet_v3_small": 14,
    "efficientnet_b0": 15, "shufflenet_v2_x1_0": 16, "googlenet": 17,
}


def _make_large(name, opset):
    def build():
        import torchvision.models as tvm
        kwargs = {"weights": None}
        if name == "googlenet":
            kwargs.update(aux_logits=False, init_weights=True)
        m = getattr(tvm, name)(**kwargs)
        gen = torch.Generator().manual_seed(torch.initial_seed() + 1)
        calib = randn(8, 3, 224, 224, generator=gen)
        randomise_batchnorm(m, calib, gen)
        m.eval()
        return Built(m, randn(1, 3, 224, 224), opset)
    return build


for _name, _opset in LARGE_OPSETS.items():
    REGISTRY[_name] = ModelSpec(
        _name, _make_large(_name, _opset),
        f"torchvision.models.{_name}(weights=None), seeded random init, BN running stats from "
        "one train-mode pass over a random batch then jittered, batch 1, 3x224x224", large=True)

# Attribution references, to be added later: name -> fn(fixture, outdir) -> None.
# Each receives the Fixture produced by run_model and writes extra .npy files.
REFERENCES: Dict[str, Callable] = {}


# --------------------------------------------------------------------------
# Running one model
# --------------------------------------------------------------------------

@dataclass
class Fixture:
    spec: ModelSpec
    built: Built
    seed: int
    output: torch.Tensor
    target: torch.Tensor
    grad: torch.Tensor          # w.r.t. input, or w.r.t. embedding output
    grad_file: str


def forward_and_grad(spec: ModelSpec, built: Built):
    m, x = built.module, built.example_input
    if isinstance(m, EmbeddingMLP):
        emb = m.embedding(x).detach().requires_grad_(True)
        out = m.head(emb)
        with torch.no_grad():
            assert torch.equal(out, m(x)), "head(embedding(x)) differs from forward(x)"
        wrt, grad_file = emb, "grad_embedding.npy"
    else:
        wrt = x.detach().clone().requires_grad_(True)
        out = m(wrt)
        grad_file = "grad.npy"
    target = out.detach().argmax(dim=1)
    picked = out.gather(1, target.view(-1, 1)).sum()
    (g,) = torch.autograd.grad(picked, wrt)
    return out.detach(), target, g.detach(), grad_file


def onnx_ops(model: onnx.ModelProto) -> List[str]:
    ops = set()

    def walk(graph):
        for node in graph.node:
            ops.add(node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}::{node.op_type}")
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.GRAPH:
                    walk(attr.g)
                for sub in attr.graphs:
                    walk(sub)
    walk(model.graph)
    return sorted(ops)


def save_npy(path, t: torch.Tensor, dtype):
    a = np.ascontiguousarray(t.detach().cpu().numpy().astype(np.dtype(dtype).newbyteorder("<")))
    np.save(path, a)


def float64_reference(spec: ModelSpec, built: Built, target: torch.Tensor):
    """The same output and gradient computed in float64 on a copy of the model.

    Deep random-init networks are ill-conditioned at ReLU kinks: torch's own float32 input
    gradient of resnet50 is ~1e-2 away from its float64 gradient. The C++ tests therefore
    compare against this float64 reference, with a tolerance of max(1e-4, 2 x torch float32's
    own error), i.e. "at least as accurate as PyTorch in float32"."""
    m = copy.deepcopy(built.module).double().eval()
    x = built.example_input
    if isinstance(m, EmbeddingMLP):
        wrt = m.embedding(x).detach().requires_grad_(True)
        out = m.head(wrt)
    else:
        wrt = x.detach().clone().double().requires_grad_(True)
        out = m(wrt)
    picked = out.gather(1, target.view(-1, 1)).sum()
    (g,) = torch.autograd.grad(picked, wrt)
    return out.detach(), g.detach()


def rel_l2(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.double(), b.double()
    return float((a - b).norm() / b.norm().clamp_min(1e-300))


def top2_gap(out: torch.Tensor) -> float:
    if out.shape[1] < 2:
        return float("inf")
    top = out.topk(2, dim=1).values
    return float((top[:, 0] - top[:, 1]).min())


def run_model(spec: ModelSpec, out_root: str) -> Fixture:
    seed = seed_for(spec.name)
    seed_everything(seed)
    t0 = time.time()
    built = spec.build()
    built.module.eval()
    out, target, grad, grad_file = forward_and_grad(spec, built)
    out64, grad64 = float64_reference(spec, built, target)
    f32_out_err, f32_grad_err = rel_l2(out, out64), rel_l2(grad, grad64)

    d = os.path.join(out_root, spec.name)
    os.makedirs(d, exist_ok=True)
    onnx_path = os.path.join(d, "model.onnx")
    # Not under no_grad: nn.TransformerEncoderLayer would take its fused
    # inference fast path (aten::_transformer_encoder_layer_fwd), which has no
    # ONNX export in torch 1.13.
    mode = torch.onnx.TrainingMode.PRESERVE if built.keep_bn else torch.onnx.TrainingMode.EVAL
    assert not built.module.training
    torch.onnx.export(built.module, (built.example_input,), onnx_path,
                      opset_version=built.opset, do_constant_folding=True, training=mode,
                      input_names=["input"], output_names=["output"])
    model = onnx.load(onnx_path)
    onnx.checker.check_model(model)
    ops = onnx_ops(model)

    x = built.example_input
    in_dtype = np.int64 if x.dtype == torch.int64 else np.float32
    save_npy(os.path.join(d, "input.npy"), x, in_dtype)
    save_npy(os.path.join(d, "output.npy"), out, np.float32)
    save_npy(os.path.join(d, "target.npy"), target, np.int64)
    save_npy(os.path.join(d, grad_file), grad, np.float32)
    save_npy(os.path.join(d, "output_f64.npy"), out64, np.float64)
    save_npy(os.path.join(d, grad_file.replace(".npy", "_f64.npy")), grad64, np.float64)
    with open(os.path.join(d, "reference_error.txt"), "w") as f:
        f.write(f"{f32_out_err:.9g} {f32_grad_err:.9g}\n")
    for stale in {"grad.npy", "grad_embedding.npy"} - {grad_file}:
        for f in (stale, stale.replace(".npy", "_f64.npy")):
            if os.path.exists(os.path.join(d, f)):
                os.remove(os.path.join(d, f))

    import torchvision
    meta = {
        "name": spec.name,
        "description": spec.description,
        "opset": built.opset,
        "input_name": "input",
        "output_name": "output",
        "input_shape": list(x.shape),
        "input_dtype": np.dtype(in_dtype).name,
        "output_shape": list(out.shape),
        "grad_file": grad_file,
        "grad_wrt": "embedding output" if grad_file == "grad_embedding.npy" else "input",
        "grad_shape": list(grad.shape),
        "target_convention": "target[n] = argmax(output[n]); grad = d(sum_n output[n, target[n]])"
                             " / d " + ("embedding output" if grad_file != "grad.npy" else "input"),
        "min_top2_gap": top2_gap(out),
        "float64_reference": "output_f64.npy and " + grad_file.replace(".npy", "_f64.npy") +
                             ": the same computation in float64 (same targets)",
        "torch_float32_error": {"output": f32_out_err, "grad": f32_grad_err},
        "export_training_mode": "PRESERVE (eval module; BN not fused)" if built.keep_bn
                                else "EVAL (Conv+BN fused by the exporter)",
        "seed": seed,
        "torch_version": torch.__version__,
        "torchvision_version": torchvision.__version__,
        "onnx_version": onnx.__version__,
        "ops": ops,
    }
    if spec.notes:
        meta["notes"] = spec.notes
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2, sort_keys=False)
        f.write("\n")

    dt = time.time() - t0
    print(f"wrote {os.path.relpath(d)}: input {list(x.shape)} {meta['input_dtype']} -> output "
          f"{list(out.shape)}, opset {built.opset}, {len(model.graph.node)} nodes, {dt:.1f}s")
    print(f"    ops: {' '.join(ops)}")
    print(f"    torch float32 vs float64: output {f32_out_err:.3g}, gradient {f32_grad_err:.3g}")
    return Fixture(spec, built, seed, out, target, grad, grad_file)


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------

def parse_names(text: str, pool: List[str]) -> List[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in pool]
    if unknown:
        raise SystemExit(f"unknown model(s): {', '.join(unknown)}; choose from: {', '.join(pool)}")
    return names


def main(argv=None) -> int:
    small_names = [n for n, s in REGISTRY.items() if not s.large]
    large_names = [n for n, s in REGISTRY.items() if s.large]
    ap = argparse.ArgumentParser(
        description="Export seeded PyTorch models to ONNX and write reference input/output/"
                    "target/gradient .npy fixtures for the gradlens tests.",
        epilog="small models: " + ", ".join(small_names) + "; large (--large): "
               + ", ".join(large_names))
    ap.add_argument("--only", metavar="NAME[,NAME]",
                    help="generate only these small models (default: all small models)")
    ap.add_argument("--large", nargs="?", const="all", metavar="NAME[,NAME]",
                    help="generate large torchvision models instead (all of them, or the listed "
                         "ones); written to tests/data/large/, which is git-ignored")
    ap.add_argument("--out", metavar="DIR",
                    help=f"output root (default: {os.path.relpath(DEFAULT_OUT, REPO_ROOT)}, or "
                         f"{os.path.relpath(DEFAULT_LARGE_OUT, REPO_ROOT)} with --large)")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch intra-op threads (default 1, for run-to-run reproducibility)")
    ap.add_argument("--list", action="store_true", help="list model names and exit")
    args = ap.parse_args(argv)

    if args.list:
        for n, s in REGISTRY.items():
            print(f"{n:20s} {'large' if s.large else 'small'}  {s.description}")
        return 0

    if args.large is not None:
        if args.only:
            ap.error("use --large NAME[,NAME] instead of combining --only with --large")
        names = large_names if args.large == "all" else parse_names(args.large, large_names)
        out_root = args.out or DEFAULT_LARGE_OUT
    else:
        names = parse_names(args.only, small_names) if args.only else small_names
        out_root = args.out or DEFAULT_OUT

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    union = set()
    for n in names:
        fx = run_model(REGISTRY[n], out_root)
        union.update(json.load(open(os.path.join(out_root, n, "meta.json")))["ops"])
        for ref_name, ref in REFERENCES.items():
            ref(fx, os.path.join(out_root, n))
    print(f"op types used ({len(union)}): {' '.join(sorted(union))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
