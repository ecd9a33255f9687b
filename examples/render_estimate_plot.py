"""Render a test set, estimate its shears with the CNN and RRG, and plot the
estimates against the truth (Figure 12 of Springer et al. 2018 in small).

  PYTHONPATH=build/python python3 examples/render_estimate_plot.py [--n 20000] [--out shear.png]

The CNN's estimates carry the model's calibration; RRG's are raw (its
response is below 1 until calibrated: `deepshear evaluate` fits one), so
RRG's line slopes. The plot needs matplotlib (Debian python3-matplotlib); without it the script
prints the same numbers.
"""

import argparse

import numpy as np

import deepshear


def binned(truth, estimate, edges):
    """Mean estimate and its error in bins of the true shear."""
    centres, means, errors = [], [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (truth >= lo) & (truth < hi) & np.isfinite(estimate)
        if sel.sum() > 10:
            centres.append(truth[sel].mean())
            means.append(estimate[sel].mean())
            errors.append(estimate[sel].std() / np.sqrt(sel.sum()))
    return np.array(centres), np.array(means), np.array(errors)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default="shear.png")
    args = ap.parse_args()

    stamps, truth = deepshear.render_stamps(n=args.n, seed=args.seed)
    cat = deepshear.estimate(stamps, estimators=("cnn", "rrg"))
    edges = np.linspace(-0.2, 0.2, 9)
    results = {}
    for est in ("CNN", "RRG"):
        g1 = cat[f"G1_{est}"]
        ok = cat[f"FLAGS_{est}"] == 0
        m, c = np.polyfit(truth["G1"][ok], g1[ok], 1)
        rms = (g1[ok] - truth["G1"][ok]).std()
        results[est] = binned(truth["G1"], g1, edges)
        print(f"{est}: g1 = (1 {m - 1:+.3f}) g1_true {c:+.4f}, RMS error {rms:.3f}, {ok.sum()} of {len(ok)} measured")

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (Debian: python3-matplotlib)")
        return
    fig, ax = plt.subplots(figsize=(5, 4))
    for est, (x, y, e) in results.items():
        ax.errorbar(x, y - x, e, marker="o", capsize=2, label=est + (" (uncalibrated)" if est == "RRG" else ""))
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel("true g1")
    ax.set_ylabel("mean estimate - true g1")
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"plot written to {args.out}")


if __name__ == "__main__":
    main()
