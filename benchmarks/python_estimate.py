"""deepshear.estimate from Python beside `deepshear estimate` on the same
100,000 stamps (issue: within 5% of the command's speed). Both run the
8-fold symmetrised CNN; the command's time includes reading the FITS cube
and writing its table, Python's the call on a numpy array in memory.
Alternates the two `--repeats` times and prints the median rates and their
ratio as one JSON line.

  PYTHONPATH=build/python python3 benchmarks/python_estimate.py --cli build/deepshear
"""

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

import deepshear


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cli", required=True, help="the deepshear command of the same build")
    ap.add_argument("--n", type=int, default=100000, help="stamps")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--estimators", default="cnn")
    ap.add_argument("--threads", type=int, default=0, help="0 = all cores")
    args, _ = ap.parse_known_args()
    threads = ["--threads", str(args.threads)] if args.threads else []
    with tempfile.TemporaryDirectory() as tmp:
        cube = os.path.join(tmp, "stamps.fits")
        subprocess.run([args.cli, "simulate", "--n", str(args.n), "--seed", "4242", "-o", cube, "-q"], check=True)
        stamps, _ = deepshear.render_stamps(n=args.n, seed=4242, progress=False)
        names = tuple(args.estimators.split(","))
        cli_s, py_s = [], []
        for r in range(args.repeats):
            t0 = time.perf_counter()
            subprocess.run([args.cli, "estimate", cube, "--estimators", args.estimators, "-o",
                            os.path.join(tmp, f"e{r}.fits"), "-q", *threads], check=True)
            cli_s.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            deepshear.estimate(stamps, names, threads=args.threads or None, progress=False)
            py_s.append(time.perf_counter() - t0)
    cli_rate, py_rate = args.n / statistics.median(cli_s), args.n / statistics.median(py_s)
    info = deepshear.build_info()
    print(json.dumps({"benchmark": "python_estimate", "stamps": args.n, "estimators": args.estimators,
                      "threads": args.threads or info["cores"], "cpu": info["cpu"],
                      "command_stamps_per_s": round(cli_rate), "python_stamps_per_s": round(py_rate),
                      "python_over_command": round(py_rate / cli_rate, 3)}))


if __name__ == "__main__":
    main()
