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

  ref_*.npy    attribution references (gradient, rule, CAM, FullGrad and noise-wrapped
               methods) computed in float64 from each method's formula, and noise.npy,
               the noise draws of the noise-wrapped ones; see "Attribution references"
               below (--no-references skips them)
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

# Attribution references: name -> fn(fixture, outdir) -> None (filled in below, see
# "Attribution references"). Each receives the Fixture produced by run_model and writes
# ref_*.npy files next to it.
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
# Attribution references
# --------------------------------------------------------------------------
#
# Each reference is written from the method's formula with torch autograd, forward hooks and
# rectifier overrides, in float64 on a deep copy of the model, for the targets in target.npy.
# Files: tests/data/fixtures/<model>/ref_<name>.npy (float32). The C++ suite
# tests/test_method_references.cpp maps every ref_*.npy name to the gradlens method and options
# that must reproduce it; REFERENCE_PLAN says which references each model gets (kept small:
# methods that do not apply — CAMs without a spatial layer, rules without rectifiers — are
# skipped, and input-sized maps are written only where they test something new).
#
# Conventions (x input, c target, y_c its score = the model output; A, G activation and gradient
# of the CAM layer [N,K,h,w]):
#   gradient ∇ₓy_c · saliency |∇ₓy_c| · input-x-gradient x⊙∇ₓy_c · contrastive ∇ₓ(y_c − y_c'),
#     c' = (c+1) mod C
#   deconvnet / guided-backprop / rectgrad: every ReLU (and ReLU6 = Hardtanh(0, 6), a clip
#     rectifier with [0<x<6] in place of [x>0]) backpropagates max(g,0) / max(g,0)·[x>0] /
#     g·[a·g > τ]·[x < upper] with τ the q-th percentile (torch.quantile, linear) of a·g over the
#     layer per sample (q = 98, 50, 10), a the rectifier's output; everything else passes
#     ordinary gradients
#   CAM maps [N,1,h,w] at the layer gradlens picks by default (the input of the first node that
#     turns a spatial 4-D activation into a non-spatial one), ReLU'd unless "_no-relu"
#   fullgrad: x⊙∇ₓy_c and ref_fullgrad_terms = [y_c, Σ x⊙∇ₓy_c, Σ_l Σ ∂y_c/∂y_l ⊙ b_l] per
#     example (Conv/Linear bias, BatchNorm β − γμ/√(σ²+ε))
#   noise wrappers: noise.npy [N,S,...] (S = 4, σ = 0.15·(max − min) per example); smoothgrad,
#     smoothgrad-sq and vargrad (population variance) of saliency and of gradient over x + ε_s
#     (the sum rounded to float32, as the input any float32 implementation sees)

import contextlib  # noqa: E402
import math  # noqa: E402

NOISE_SAMPLES = 4
NOISE_LEVEL = 0.15

# Per model: which groups of references to write.
#   grad     gradient, contrastive           ixg   saliency, input-x-gradient
#   rules    deconvnet, guided-backprop, rectgrad (q = 98, 50 and 10)
#   cam      the CAM family and guided-grad-cam ("cam" itself only with a GAP→Linear head)
#   fullgrad FullGrad raw map and completeness terms
#   noise    noise.npy and the six noise-wrapped saliency/gradient references
REFERENCE_PLAN = {
    "mlp": {"grad", "ixg", "rules", "noise"},
    "small_cnn": {"grad", "rules", "cam", "fullgrad"},
    "gap_cnn": {"grad", "rules", "cam"},
    "resnet_tiny": {"grad", "rules", "cam", "fullgrad"},
    "mobilenet_tiny": {"grad", "rules"},
    "dilated_grouped": {"grad", "ixg"},
    "transformer_tiny": {"grad", "ixg"},
    "conv_transpose": {"grad", "ixg", "rules", "noise"},
}

# The CAM layer as a module of each model whose OUTPUT is the tensor gradlens picks by default
# (checked against `gradlens info MODEL`), and the Linear head for CAM when the layer feeds
# GAP → Linear directly.
CAM_LAYERS = {
    "small_cnn": (lambda m: m.features, None),            # AvgPool output [N,16,4,4] → Flatten
    "gap_cnn": (lambda m: m.features, lambda m: m.fc),     # last ReLU [N,24,14,14] → GAP → fc
    "resnet_tiny": (lambda m: m.block2, lambda m: m.fc),   # block2's ReLU [N,16,16,16] → GAP → fc
}


def reference(name):
    def deco(fn):
        REFERENCES[name] = fn
        return fn
    return deco


def reference_model(fx: "Fixture"):
    """A float64 eval-mode copy of the model and the input in float64."""
    return copy.deepcopy(fx.built.module).double().eval(), fx.built.example_input.double()


def write_reference(outdir: str, name: str, t: torch.Tensor) -> None:
    assert torch.isfinite(t).all(), f"{name}: non-finite reference"
    save_npy(os.path.join(outdir, f"ref_{name}.npy"), t, np.float32)


def contrast_classes(fx: "Fixture") -> torch.Tensor:
    return (fx.target + 1) % fx.output.shape[1]


def score_and_input_grad(m, x, target, contrast=None):
    """y_c (− y_c') per row and its gradient w.r.t. x. Rows do not interact (eval mode), so the
    gradient of the sum over rows is each row's own gradient."""
    x = x.detach().clone().requires_grad_(True)
    out = m(x)
    s = out.gather(1, target.view(-1, 1)).squeeze(1)
    if contrast is not None:
        s = s - out.gather(1, contrast.view(-1, 1)).squeeze(1)
    (g,) = torch.autograd.grad(s.sum(), x)
    return s.detach(), g.detach()


# ---- rectifier backward rules ----------------------------------------------------------------

class RuleRectifier(torch.autograd.Function):
    """clip(x, 0, upper) whose backward follows a rule instead of the true derivative."""

    @staticmethod
    def forward(ctx, x, upper, rule, q):
        a = x.clamp(min=0) if math.isinf(upper) else x.clamp(0, upper)
        ctx.save_for_backward(x, a)
        ctx.upper, ctx.rule, ctx.q = upper, rule, q
        return a

    @staticmethod
    def backward(ctx, g):
        x, a = ctx.saved_tensors
        upper, rule = ctx.upper, ctx.rule
        live = (x > 0) & (x < upper)
        if rule == "standard":
            dx = g * live
        elif rule == "deconvnet":
            dx = g.clamp(min=0)
        elif rule == "guided":
            dx = g.clamp(min=0) * live
        elif rule == "rectgrad":
            ag = a * g
            n = ag.shape[0]
            tau = torch.quantile(ag.reshape(n, -1), ctx.q / 100.0, dim=1)   # linear interpolation
            tau = tau.view(n, *([1] * (ag.dim() - 1)))
            dx = g * ((ag > tau) & (x < upper))
        else:
            raise ValueError(rule)
        return dx, None, None, None


@contextlib.contextmanager
def rectifier_rule(rule: str, q: float = 98.0):
    """Route every ReLU (nn.ReLU calls F.relu; the models also call F.relu directly) and every
    ReLU6 (nn.ReLU6 calls F.hardtanh(x, 0, 6)) through RuleRectifier. Yields a counter of the
    rectifier calls so callers can check the override took effect."""
    saved = (F.relu, F.relu6, F.hardtanh)
    calls = [0]

    def relu(input, inplace=False):
        calls[0] += 1
        return RuleRectifier.apply(input, math.inf, rule, q)

    def relu6(input, inplace=False):
        calls[0] += 1
        return RuleRectifier.apply(input, 6.0, rule, q)

    def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
        if min_val != 0.0:
            return saved[2](input, min_val, max_val, inplace)
        calls[0] += 1
        return RuleRectifier.apply(input, float(max_val), rule, q)

    F.relu, F.relu6, F.hardtanh = relu, relu6, hardtanh
    try:
        yield calls
    finally:
        F.relu, F.relu6, F.hardtanh = saved


def rule_input_grad(m, x, target, rule, q=98.0):
    with rectifier_rule(rule, q) as calls:
        _, g = score_and_input_grad(m, x, target)
    assert calls[0] > 0, "the model has no rectifier to apply the rule to"
    return g


# ---- CAM layer activations and gradients -----------------------------------------------------

@contextlib.contextmanager
def hooked_output(module: nn.Module, edit=None):
    """Captures the module's output (optionally replacing it by edit(output))."""
    box = {}

    def hook(mod, inp, out):
        if edit is not None:
            out = edit(out)
        box["out"] = out
        return out
    handle = module.register_forward_hook(hook)
    try:
        yield box
    finally:
        handle.remove()


def layer_activation_and_grad(m, x, layer: nn.Module, target):
    with hooked_output(layer) as box:
        out = m(x)
    A = box["out"]
    (G,) = torch.autograd.grad(out.gather(1, target.view(-1, 1)).sum(), A)
    return A.detach(), G.detach(), out.detach()


def channel_sum(weights, A):
    """Σ_k w[n,k] A[n,k] → [N,1,h,w]."""
    return (weights[:, :, None, None] * A).sum(dim=1, keepdim=True)


def first_component(X):
    """X [K, h, w] → projection of the pixels (rows of X as [hw, K], centred per channel) on the
    first right singular vector, signed to correlate positively with the channel sum of X."""
    K, h, w = X.shape
    M = X.reshape(K, h * w).t()
    Mc = M - M.mean(dim=0, keepdim=True)
    _, sv, vh = torch.linalg.svd(Mc, full_matrices=False)
    proj = Mc @ vh[0]
    corr = float((proj * M.sum(dim=1)).sum())
    gap = float(sv[1] / sv[0]) if sv.numel() > 1 else 0.0
    if corr < 0:
        proj = -proj
    return proj.reshape(1, h, w), corr, gap


# ---- the references --------------------------------------------------------------------------

@reference("gradients")
def gradient_references(fx: "Fixture", outdir: str) -> None:
    plan = REFERENCE_PLAN.get(fx.spec.name, set())
    if not plan & {"grad", "ixg"}:
        return
    m, x = reference_model(fx)
    _, g = score_and_input_grad(m, x, fx.target)
    # Cross-check with float64_reference's gradient (the same computation).
    g64 = torch.from_numpy(np.load(os.path.join(outdir, fx.grad_file.replace(".npy", "_f64.npy"))))
    assert rel_l2(g, g64) < 1e-12
    if "grad" in plan:
        write_reference(outdir, "gradient", g)
        _, gc = score_and_input_grad(m, x, fx.target, contrast_classes(fx))
        write_reference(outdir, "contrastive", gc)
    if "ixg" in plan:
        write_reference(outdir, "saliency", g.abs())
        write_reference(outdir, "input-x-gradient", x * g)


@reference("rules")
def rule_references(fx: "Fixture", outdir: str) -> None:
    if "rules" not in REFERENCE_PLAN.get(fx.spec.name, set()):
        return
    m, x = reference_model(fx)
    # The override under the standard rule must reproduce plain autograd.
    _, g = score_and_input_grad(m, x, fx.target)
    assert rel_l2(rule_input_grad(m, x, fx.target, "standard"), g) < 1e-12
    write_reference(outdir, "deconvnet", rule_input_grad(m, x, fx.target, "deconvnet"))
    write_reference(outdir, "guided-backprop", rule_input_grad(m, x, fx.target, "guided"))
    write_reference(outdir, "rectgrad", rule_input_grad(m, x, fx.target, "rectgrad", 98.0))
    # q = 50 lands on τ = 0 when most units are off (then it equals guided backprop); q = 10
    # gives τ < 0, where the literal rule also passes units with a = 0.
    write_reference(outdir, "rectgrad_q50", rule_input_grad(m, x, fx.target, "rectgrad", 50.0))
    write_reference(outdir, "rectgrad_q10", rule_input_grad(m, x, fx.target, "rectgrad", 10.0))


@reference("cams")
def cam_references(fx: "Fixture", outdir: str) -> None:
    if "cam" not in REFERENCE_PLAN.get(fx.spec.name, set()):
        return
    m, x = reference_model(fx)
    layer_of, head_of = CAM_LAYERS[fx.spec.name]
    layer = layer_of(m)
    t = fx.target
    A, G, out = layer_activation_and_grad(m, x, layer, t)
    N, K, h, w = A.shape
    maps = {}

    maps["grad-cam_no-relu"] = channel_sum(G.mean(dim=(2, 3)), A)
    maps["grad-cam"] = maps["grad-cam_no-relu"].clamp(min=0)

    sum_a = A.sum(dim=(2, 3), keepdim=True)
    denom = 2 * G ** 2 + sum_a * G ** 3
    safe = (G != 0) & (denom != 0)
    alpha = torch.where(safe, G ** 2 / torch.where(safe, denom, torch.ones_like(denom)),
                        torch.zeros_like(G))
    maps["grad-cam-pp"] = channel_sum((alpha * G.clamp(min=0)).sum(dim=(2, 3)), A).clamp(min=0)

    ag, a = (A * G).sum(dim=(2, 3)), A.sum(dim=(2, 3))
    xw = torch.where(a != 0, ag / torch.where(a != 0, a, torch.ones_like(a)), torch.zeros_like(a))
    maps["xgrad-cam"] = channel_sum(xw, A).clamp(min=0)

    maps["layer-cam"] = (G.clamp(min=0) * A).sum(dim=1, keepdim=True).clamp(min=0)
    maps["hires-cam"] = (G * A).sum(dim=1, keepdim=True).clamp(min=0)

    if head_of is not None:
        W = head_of(m).weight.detach()              # [C, K]
        maps["cam"] = channel_sum(W[t], A).clamp(min=0)

    for name, X in (("eigen-cam", A), ("eigen-grad-cam", A * G)):
        rows = []
        for n in range(N):
            proj, corr, gap = first_component(X[n])
            # A sign decided by a near-zero correlation, or a near-degenerate top singular
            # value, would make the reference fragile.
            assert abs(corr) > 1e-6 and gap < 0.99, (name, corr, gap)
            rows.append(proj)
        maps[name] = torch.stack(rows).clamp(min=0)

    H, Wd = x.shape[2], x.shape[3]
    score_w = torch.zeros(N, K, dtype=x.dtype)
    ablation_w = torch.zeros(N, K, dtype=x.dtype)
    with torch.no_grad():
        for n in range(N):
            up = F.interpolate(A[n][:, None], size=(H, Wd), mode="bilinear", align_corners=False)
            lo = up.amin(dim=(1, 2, 3), keepdim=True)
            hi = up.amax(dim=(1, 2, 3), keepdim=True)
            masks = torch.where(hi > lo, (up - lo) / torch.where(hi > lo, hi - lo, torch.ones_like(hi)),
                                torch.zeros_like(up))
            s = m(x[n][None] * masks)[:, t[n]]      # [K]
            score_w[n] = torch.softmax(s, dim=0)
        y = out.gather(1, t.view(-1, 1)).squeeze(1)
        for k in range(K):
            def zero_channel(o, k=k):
                o = o.clone()
                o[:, k] = 0
                return o
            with hooked_output(layer, zero_channel):
                yk = m(x).gather(1, t.view(-1, 1)).squeeze(1)
            ablation_w[:, k] = (y - yk) / y
    maps["score-cam"] = channel_sum(score_w, A).clamp(min=0)
    maps["ablation-cam"] = channel_sum(ablation_w, A).clamp(min=0)

    for name, mp in maps.items():
        assert mp.shape == (N, 1, h, w)
        write_reference(outdir, name, mp)

    guided = rule_input_grad(m, x, t, "guided")
    up = F.interpolate(maps["grad-cam"], size=(H, Wd), mode="bilinear", align_corners=False)
    write_reference(outdir, "guided-grad-cam", guided * up)
    # Captum's GuidedGradCam upsamples with LayerAttribution.interpolate's default, "nearest".
    up = F.interpolate(maps["grad-cam"], size=(H, Wd), mode="nearest")
    write_reference(outdir, "guided-grad-cam_nearest", guided * up)


@reference("fullgrad")
def fullgrad_references(fx: "Fixture", outdir: str) -> None:
    if "fullgrad" not in REFERENCE_PLAN.get(fx.spec.name, set()):
        return
    m, x = reference_model(fx)
    biased = [mod for mod in m.modules()
              if isinstance(mod, (nn.Conv2d, nn.Linear, nn.BatchNorm2d))]
    outputs = {}
    handles = [mod.register_forward_hook(lambda mod, i, o: outputs.__setitem__(mod, o))
               for mod in biased]
    xg = x.detach().clone().requires_grad_(True)
    f = m(xg).gather(1, fx.target.view(-1, 1)).squeeze(1)
    for h in handles:
        h.remove()
    layers = [mod for mod in biased if mod in outputs]
    grads = torch.autograd.grad(f.sum(), [xg] + [outputs[mod] for mod in layers])
    input_term = (x * grads[0]).flatten(1).sum(dim=1)
    bias_total = torch.zeros_like(f)
    for mod, g in zip(layers, grads[1:]):
        if isinstance(mod, nn.BatchNorm2d):
            b = mod.bias - mod.weight * mod.running_mean / torch.sqrt(mod.running_var + mod.eps)
        elif mod.bias is not None:
            b = mod.bias
        else:
            continue
        shape = (1, -1) + (1,) * (g.dim() - 2)
        bias_total = bias_total + (g * b.detach().view(shape)).flatten(1).sum(dim=1)
    f = f.detach()
    # Piecewise-linear networks with biases: the decomposition is exact.
    assert float(((f - input_term - bias_total).abs() / f.abs()).max()) < 1e-10
    write_reference(outdir, "fullgrad", x * grads[0])
    write_reference(outdir, "fullgrad_terms", torch.stack([f, input_term, bias_total], dim=1))


@reference("noise")
def noise_references(fx: "Fixture", outdir: str) -> None:
    if "noise" not in REFERENCE_PLAN.get(fx.spec.name, set()):
        return
    x32 = fx.built.example_input.float()
    N = x32.shape[0]
    gen = torch.Generator().manual_seed(fx.seed + 7)
    sigma = NOISE_LEVEL * (x32.flatten(1).amax(dim=1) - x32.flatten(1).amin(dim=1))
    eps = torch.randn((N, NOISE_SAMPLES) + tuple(x32.shape[1:]), generator=gen, dtype=torch.float64)
    eps = (eps * sigma.double().view(N, *([1] * (eps.dim() - 1)))).float()
    save_npy(os.path.join(outdir, "noise.npy"), eps, np.float32)
    m = copy.deepcopy(fx.built.module).double().eval()
    noisy = (x32[:, None] + eps).double()           # the float32 input, promoted
    grads = torch.stack([score_and_input_grad(m, noisy[:, s], fx.target)[1]
                         for s in range(NOISE_SAMPLES)], dim=1)    # [N, S, ...]
    for base, a in (("gradient", grads), ("saliency", grads.abs())):
        mean = a.mean(dim=1)
        write_reference(outdir, f"smoothgrad_{base}", mean)
        write_reference(outdir, f"smoothgrad-sq_{base}", (a ** 2).mean(dim=1))
        write_reference(outdir, f"vargrad_{base}", a.var(dim=1, unbiased=False))


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
    ap.add_argument("--references", action=argparse.BooleanOptionalAction, default=None,
                    help="write the attribution references ref_*.npy (default: on for the small "
                         "models, off with --large)")
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

    with_references = args.references if args.references is not None else args.large is None
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    union = set()
    for n in names:
        fx = run_model(REGISTRY[n], out_root)
        union.update(json.load(open(os.path.join(out_root, n, "meta.json")))["ops"])
        if with_references:
            d = os.path.join(out_root, n)
            for stale in os.listdir(d):
                if (stale.startswith("ref_") and stale.endswith(".npy")) or stale == "noise.npy":
                    os.remove(os.path.join(d, stale))
            for ref in REFERENCES.values():
                ref(fx, d)
            written = sorted(f for f in os.listdir(d) if f.startswith("ref_") or f == "noise.npy")
            if written:
                print(f"    references: {' '.join(written)}")
    print(f"op types used ({len(union)}): {' '.join(sorted(union))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
