#!/usr/bin/python3
"""Fixed-batch and dynamic-batch exports of the same weights (issue #16, "Models exported with a
fixed batch"), written to tests/data/fixed_batch/.

torch.onnx.export without dynamic_axes -- PyTorch's default -- declares the example's batch as a
number and constant-folds it into shape ops: nn.MultiheadAttention's Reshape to
[T, batch*heads, head_dim] becomes a constant. gradlens must run such a graph in chunks of that
batch and get what the dynamic-batch export of the same module gives; the tests compare the two
exports method by method, and both against PyTorch's own output and input gradient here.

Models, each exported twice (`<name>_fixed.onnx`: no dynamic axes; `<name>_dynamic.onnx`: batch
axis of input and output dynamic; transformer_tiny's fixed export is the fixture's own
tests/data/fixtures/transformer_tiny/model.onnx, which the script checks byte for byte), with `<name>_input.npy`, `<name>_output.npy` (PyTorch, float32),
`<name>_target.npy` (argmax) and `<name>_grad.npy` (d sum_n output[n, target[n]] / d input):

- transformer_tiny: the fixture of tools/make_fixtures.py rebuilt from its seed (the script checks
  it reproduces that fixture's committed output bit for bit), fixed to a batch of 2; input [3,8,16],
  so the last chunk of every pass is padded.
- vit_tiny: a 2-layer pre-norm ViT (4x4 patches of a 3x16x16 image, class token, learned position
  embedding, d=16, 2 heads, head on the class token; LayerNorm affine parameters and biases
  perturbed as in make_fixtures), fixed to a batch of 1; input [3,3,16,16].

Run with Debian's PyTorch: /usr/bin/python3 tools/make_fixed_batch_fixtures.py
"""
import os
import sys
import tempfile

import numpy as np
import onnx
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data")
OUT = os.path.join(ROOT, "fixed_batch")
VIT_SEED = 16016


class ViTTiny(nn.Module):
    def __init__(self, image=16, patch=4, dim=16, heads=2, depth=2, classes=3):
        super().__init__()
        tokens = (image // patch) ** 2
        self.patch = nn.Conv2d(3, dim, patch, stride=patch)
        self.cls = nn.Parameter(0.5 * torch.randn(1, 1, dim))
        self.pos = nn.Parameter(0.5 * torch.randn(1, tokens + 1, dim))
        self.layers = nn.ModuleList([
            nn.TransformerEncoderLayer(d_model=dim, nhead=heads, dim_feedforward=2 * dim, dropout=0.0,
                                       activation="gelu", batch_first=True, norm_first=True)
            for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch(x)                                  # [N, d, 4, 4]
        x = x.reshape(x.shape[0], x.shape[1], -1)          # target computed at run time
        x = x.transpose(1, 2)                              # [N, 16, d]
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        for layer in self.layers:
            x = layer(x)
        return self.head(self.norm(x)[:, 0])


def export(module, example, path, dynamic, opset):
    # Not under no_grad: nn.TransformerEncoderLayer would take its fused fast path, which has no
    # ONNX export in torch 1.13.
    axes = {"input": {0: "batch"}, "output": {0: "batch"}} if dynamic else None
    torch.onnx.export(module, (example,), path, opset_version=opset, do_constant_folding=True,
                      training=torch.onnx.TrainingMode.EVAL, input_names=["input"],
                      output_names=["output"], dynamic_axes=axes)
    onnx.checker.check_model(onnx.load(path))


def save(name, module, x, batch, opset, fixed_path=None):
    module.eval()
    fixed_path = fixed_path or os.path.join(OUT, name + "_fixed.onnx")
    export(module, x[:batch], fixed_path, False, opset)
    export(module, x[:batch], os.path.join(OUT, name + "_dynamic.onnx"), True, opset)
    fixed = onnx.load(fixed_path)
    declared = [d.dim_value for d in fixed.graph.input[0].type.tensor_type.shape.dim]
    assert declared[0] == batch, declared
    wrt = x.detach().clone().requires_grad_(True)
    out = module(wrt)
    target = out.detach().argmax(dim=1)
    (grad,) = torch.autograd.grad(out.gather(1, target.view(-1, 1)).sum(), wrt)
    np.save(os.path.join(OUT, name + "_input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(OUT, name + "_output.npy"), out.detach().numpy().astype(np.float32))
    np.save(os.path.join(OUT, name + "_target.npy"), target.numpy().astype(np.int64))
    np.save(os.path.join(OUT, name + "_grad.npy"), grad.numpy().astype(np.float32))
    print(f"{name}: declared batch {batch}, input {list(x.shape)}, targets {target.tolist()}")


def transformer_tiny():
    spec = mf.REGISTRY["transformer_tiny"]
    mf.seed_everything(mf.seed_for(spec.name))
    built = spec.build()
    m = built.module.eval()
    fixture = os.path.join(ROOT, "fixtures", "transformer_tiny")
    committed = torch.from_numpy(np.load(os.path.join(fixture, "input.npy")))
    assert torch.equal(built.example_input, committed), "rebuilt input differs from the fixture"
    out = m(committed).detach().numpy()
    assert np.array_equal(out, np.load(os.path.join(fixture, "output.npy"))), "rebuilt weights differ"
    gen = torch.Generator().manual_seed(mf.seed_for(spec.name) + 7)
    x = torch.cat([committed, torch.randn(1, 8, 16, generator=gen)])
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "fixed.onnx")
        save("transformer_tiny", m, x, batch=2, opset=built.opset, fixed_path=path)
        with open(path, "rb") as a, open(os.path.join(fixture, "model.onnx"), "rb") as b:
            assert a.read() == b.read(), "the fixed-batch export differs from the fixture's model.onnx"


def vit_tiny():
    torch.manual_seed(VIT_SEED)
    m = ViTTiny()
    gen = torch.Generator().manual_seed(VIT_SEED + 1)
    mf.perturb_constant_params(m, gen)  # LayerNorm affine and the zero-initialised biases
    # Three examples with three different, clear targets (make_fixtures.pick_input's rule).
    x = mf.pick_input(m.eval(), lambda: torch.randn(3, 3, 16, 16, generator=gen) + torch.randn(3, 3, 1, 1, generator=gen))
    save("vit_tiny", m, x, batch=1, opset=17)


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    transformer_tiny()
    vit_tiny()


if __name__ == "__main__":
    main()
