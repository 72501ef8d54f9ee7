#!/usr/bin/python3
"""PyTorch timings to set beside `gradlens bench` on the same machine.

Times, for a model of tools/make_fixtures.py's registry (e.g. resnet18), the median wall-clock
of: forward; forward + input gradient of one logit (what Captum's Saliency / IntegratedGradients
do per step); and a Grad-CAM as pytorch-grad-cam computes it (forward with a hook, backward).
Same seeds, same input shape, same thread count. Used only for the README's speed table.

    /usr/bin/python3 tools/bench_torch.py resnet18 --threads 2 --repeat 5
"""
import argparse
import statistics
import sys
import time

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import make_fixtures as mf  # noqa: E402


def median_ms(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--batch", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    mf.seed_everything(mf.seed_for(args.model))
    built = mf.REGISTRY[args.model].build()
    m = built.module.eval()
    x = built.example_input.repeat(args.batch, *[1] * (built.example_input.dim() - 1))

    def forward():
        with torch.no_grad():
            m(x)

    def backward():
        xx = x.detach().clone().requires_grad_(True)
        y = m(xx)
        torch.autograd.grad(y[:, 0].sum(), xx)  # input gradient only, as Captum does

    # pytorch-grad-cam style: hook the last 4-D activation before the pooling head.
    layer = [mod for mod in m.modules() if isinstance(mod, torch.nn.Conv2d)][-1]
    saved = {}
    layer.register_forward_hook(lambda mod, i, o: saved.__setitem__("a", o))

    def grad_cam():
        y = m(x)
        (g,) = torch.autograd.grad(y[:, 0].sum(), saved["a"])
        (g.mean((2, 3), keepdim=True) * saved["a"]).sum(1).clamp_min(0)

    print(f"torch {torch.__version__}, {args.model}, input {list(x.shape)}, {args.threads} threads, "
          f"median of {args.repeat} runs")
    for name, fn in (("forward", forward), ("forward + input gradient", backward), ("grad-cam", grad_cam)):
        print(f"  {name:28s} {median_ms(fn, args.repeat):10.2f} ms")


if __name__ == "__main__":
    main()
