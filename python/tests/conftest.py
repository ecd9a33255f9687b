"""Shared helpers of the Python tests: the command beside the package, and a
minimal FITS image reader (an independent check of the stamps' pixels)."""

import os
import subprocess

import numpy as np
import pytest


def cli(*args):
    """Runs the deepshear command of this build (DEEPSHEAR_CLI) quietly."""
    exe = os.environ.get("DEEPSHEAR_CLI")
    if not exe:
        pytest.skip("DEEPSHEAR_CLI is not set (ctest sets it)")
    subprocess.run([exe, *map(str, args), "--quiet"], check=True)


def read_primary_image(path):
    """The primary HDU's image of a plain FITS file, read from the FITS
    standard's layout: 2880-byte header blocks of 80-character cards, then
    big-endian data, axes NAXISn with NAXIS1 varying fastest."""
    with open(path, "rb") as f:
        data = f.read()
    cards, pos = {}, 0
    while True:
        block = data[pos:pos + 2880].decode("ascii")
        pos += 2880
        done = False
        for i in range(0, 2880, 80):
            card = block[i:i + 80]
            if card.startswith("END "):
                done = True
                break
            if card[8:10] == "= ":
                cards[card[:8].strip()] = card[10:].split("/")[0].strip()
        if done:
            break
    dtype = {-32: ">f4", -64: ">f8", 16: ">i2", 32: ">i4"}[int(cards["BITPIX"])]
    shape = [int(cards[f"NAXIS{k}"]) for k in range(int(cards["NAXIS"]), 0, -1)]
    return np.frombuffer(data, dtype=dtype, count=int(np.prod(shape)), offset=pos).reshape(shape)
