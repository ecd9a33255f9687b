"""The journeys from Python: the same parameters as the commands, reports as
dicts, files only when asked."""

import shutil

import numpy as np
import pytest

import deepshear
from conftest import cli


def test_a_stamp_depends_only_on_seed_split_and_index():
    whole, truth = deepshear.render_stamps(n=12, seed=5, progress=False)
    part, part_truth = deepshear.render_stamps(n=6, seed=5, threads=1, progress=False)
    np.testing.assert_array_equal(whole[:6], part)
    np.testing.assert_array_equal(truth["G1"][:6], part_truth["G1"])
    other, _ = deepshear.render_stamps(n=6, seed=6, progress=False)
    assert not np.array_equal(other, part)
    noiseless, _ = deepshear.render_stamps(n=2, seed=5, noise_scale=0, progress=False)
    assert noiseless[0].min() > -1e-6  # no noise: no negative pixels beyond rounding
    with pytest.raises(ValueError, match="python: unknown key 'nonesuch'"):
        deepshear.render_stamps(nonesuch=1)


def test_evaluate_returns_the_report_and_writes_only_when_asked(tmp_path):
    params = {"n": 400, "calibration_n": 400, "estimators": "rrg", "seed": 3, "nboot": 5, "sweep_n": 50,
              "fig11_fractions": [0, 0.5], "backgrounds": [0]}
    report = deepshear.evaluate(params, progress=False)
    assert "table4_self" in report and "rrg" in str(report["table4_self"])
    assert not any(tmp_path.iterdir())
    deepshear.evaluate(params, out=str(tmp_path / "ev"), progress=False)
    assert (tmp_path / "ev" / "evaluation.json").exists()


def test_cluster_and_maps_of_a_mock_field(tmp_path):
    if not (shutil.which("source-extractor") or shutil.which("sex")):
        pytest.skip("SExtractor is not installed (Debian: source-extractor)")
    cli("mock-cluster", "-o", tmp_path / "mock", "--size", 100, "--seed", 3)
    params = {"image": str(tmp_path / "mock" / "mock_sci.fits"), "weight": str(tmp_path / "mock" / "mock_wht.fits"),
              "out": str(tmp_path / "cl"), "estimators": "rrg", "name": "mock"}
    summary = deepshear.cluster(params, progress=False)
    assert len(summary["fields"]) == 1
    table = deepshear.read_table(tmp_path / "cl" / "mock_shear.fits")
    assert "G1_RRG" in table and len(table["G1_RRG"]) > 10
    report = deepshear.maps(str(tmp_path / "cl" / "mock_shear.fits"), {"reference": "rrg"}, nboot=5, nsplit=2,
                            progress=False)
    assert isinstance(report, dict) and report
    assert not (tmp_path / "maps").exists()


def test_train_writes_the_model_and_returns_its_report(tmp_path):
    out = tmp_path / "tiny.dsm"
    report = deepshear.train({"train.n": 400, "val_n": 100, "refit_n": 200, "calibration_n": 200, "epochs": 2,
                              "arch": "input 32 32 1; conv 8 5 3 relu; affine 16 relu 0.1; affine 2 none 0"},
                             out=str(out), progress=False)
    assert [h["epoch"] for h in report["history"]][-1] == 2
    assert "calibration" in report
    model = deepshear.Model(str(out))
    assert model.stamp_shape == (32, 32)
    stamps, _ = deepshear.render_stamps(n=8, seed=2, progress=False)
    cat = deepshear.estimate(stamps, ("cnn",), model=model, progress=False)
    assert np.isfinite(cat["G1_CNN"]).all()
