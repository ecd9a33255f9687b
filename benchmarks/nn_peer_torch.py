#!/usr/bin/env python3
"""Peer benchmark: the springer2018 network in PyTorch on the CPU, beside
`deepshear bench nn`, same machine, same thread count, one run.

    python3 benchmarks/nn_peer_torch.py [--deepshear PATH] [--threads N] [--seconds S]

Prints three JSON lines (torch, deepshear, ratios deepshear/torch). When
`import torch` fails it says so and exits 0. For a fair comparison on Debian
install python3-torch with libopenblas0-pthread (otherwise its matrix
products use the reference BLAS).

The measurements mirror deepshear's: plain inference stamps/s (batch 1024,
per-stamp mean/std normalisation included), 8-fold symmetrised galaxies/s
(128 galaxies = 1024 stamps per batch), training samples/s (batch 100,
RMSProp rho 0.9, eps 1e-7, lr 3e-4, dropout 0.3, MSE).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time


def rate(seconds, items, fn):
    fn()  # warm-up
    calls, t0 = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        el = time.perf_counter() - t0
        if el >= seconds:
            return calls * items / el


def find_deepshear(given):
    if given:
        return given
    here = os.path.dirname(os.path.abspath(__file__))
    for d in ("build", "build-nn", "build-release"):
        p = os.path.join(here, "..", d, "deepshear")
        if os.path.exists(p):
            return p
    return shutil.which("deepshear")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--deepshear", help="path of the deepshear command (default: ../build*/deepshear or PATH)")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--seconds", type=float, default=3.0)
    a = ap.parse_args()
    try:
        import torch
        import torch.nn as nn
    except Exception as e:  # noqa: BLE001 - any failure means: no peer here
        print(f"nn_peer_torch: PyTorch is not available here ({e}); nothing to compare. "
              "Install python3-torch (and libopenblas0-pthread) to run this peer benchmark.")
        return 0

    torch.set_num_threads(a.threads)
    torch.manual_seed(1)

    class Springer2018(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Sequential(
                nn.Conv2d(1, 64, 5, stride=3), nn.ReLU(),
                nn.Conv2d(64, 40, 1), nn.ReLU(),
                nn.Conv2d(40, 10, 1), nn.ReLU())
            self.dense = nn.Sequential(
                nn.Linear(1000, 100), nn.ReLU(), nn.Dropout(0.3),
                nn.Linear(100, 30), nn.ReLU(), nn.Dropout(0.3),
                nn.Linear(30, 2))

        def forward(self, x):
            # (y, x, channel) flatten as in Keras/deepshear
            return self.dense(self.conv(x).permute(0, 2, 3, 1).reshape(x.shape[0], -1))

    net = Springer2018()
    n_params = sum(p.numel() for p in net.parameters())
    assert n_params == 107866, n_params

    def normalise(x):
        m = x.mean(dim=(1, 2, 3), keepdim=True)
        s = x.std(dim=(1, 2, 3), keepdim=True, unbiased=False)
        return (x - m) / torch.where(s > 0, s, torch.ones_like(s))

    x = torch.randn(1024, 1, 32, 32)
    net.eval()
    with torch.no_grad():
        plain = rate(a.seconds, 1024, lambda: net(normalise(x)))

        def symmetrised():
            g = normalise(x[:128])
            outs = []
            for f in (False, True):
                base = torch.flip(g, dims=(3,)) if f else g
                for r in range(4):
                    outs.append(torch.rot90(base, r, dims=(2, 3)))
            y = net(torch.cat(outs)).view(8, 128, 2)
            sign1 = torch.tensor([1, -1, 1, -1, 1, -1, 1, -1.0]).view(8, 1)
            sign2 = torch.tensor([1, -1, 1, -1, -1, 1, -1, 1.0]).view(8, 1)
            return torch.stack([(y[..., 0] * sign1).mean(0), (y[..., 1] * sign2).mean(0)], dim=1)

        sym = rate(a.seconds, 128, symmetrised)

    net.train()
    opt = torch.optim.RMSprop(net.parameters(), lr=3e-4, alpha=0.9, eps=1e-7)
    xt, yt = normalise(torch.randn(100, 1, 32, 32)), torch.full((100, 2), 0.05)
    lossf = nn.MSELoss()

    def step():
        opt.zero_grad()
        loss = lossf(net(xt), yt)
        loss.backward()
        opt.step()

    train = rate(a.seconds, 100, step)
    flop = 1.118e6
    torch_line = {"peer": "torch", "version": torch.__version__, "threads": a.threads,
                  "plain_stamps_per_s": round(plain), "plain_gflops": round(plain * flop * 1e-9, 1),
                  "symmetrised_galaxies_per_s": round(sym), "symmetrised_gflops": round(sym * 8 * flop * 1e-9, 1),
                  "train_samples_per_s": round(train), "train_gflops": round(train * 3 * flop * 1e-9, 1)}
    print(json.dumps(torch_line))

    exe = find_deepshear(a.deepshear)
    if not exe:
        print("nn_peer_torch: deepshear command not found (give --deepshear PATH); no ratios")
        return 0
    out = subprocess.run([exe, "bench", "nn", "--threads", str(a.threads), "--seconds", str(a.seconds)],
                         check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    print(out)
    ds = json.loads(out)
    ratios = {k: round(ds[k] / torch_line[k], 2) for k in
              ("plain_stamps_per_s", "symmetrised_galaxies_per_s", "train_samples_per_s")}
    print(json.dumps({"ratio_deepshear_over_torch": ratios, "threads": a.threads}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
