"""deepshear.estimate: the same shears as the command, stamps read in place,
the shear conventions, and clear errors for wrong input."""

import numpy as np
import pytest

import deepshear
from conftest import cli, read_primary_image

N = 300


@pytest.fixture(scope="module")
def rendered():
    return deepshear.render_stamps(n=N, seed=11, progress=False)


def test_python_and_command_give_the_same_stamps_and_shears(tmp_path, rendered):
    stamps, truth = rendered
    cli("simulate", "--n", N, "--seed", 11, "-o", tmp_path / "s.fits")
    cli("estimate", tmp_path / "s.fits", "--estimators", "cnn,rrg,ksb", "-o", tmp_path / "e.fits")
    # The command's cube, read by an independent FITS reader, equals Python's stamps bit for bit.
    np.testing.assert_array_equal(read_primary_image(tmp_path / "s.fits"), stamps)
    table = deepshear.read_table(tmp_path / "e.fits")
    np.testing.assert_array_equal(table["TRUE_G1"], truth["G1"])
    cat = deepshear.estimate(stamps, progress=False)
    for est in ("CNN", "RRG", "KSB"):
        for col in (f"G1_{est}", f"G2_{est}", f"FLAGS_{est}"):
            np.testing.assert_array_equal(cat[col], table[col], err_msg=col)
    assert list(cat)[:4] == ["INDEX", "G1", "G2", "FLAGS"]
    np.testing.assert_array_equal(cat["G1"], cat["G1_CNN"])


def test_float32_stamps_are_read_in_place_and_other_layouts_converted(rendered):
    stamps, _ = rendered
    pointer, borrowed = deepshear._core._stamp_view(stamps)
    assert borrowed and pointer == stamps.ctypes.data
    assert not deepshear._core._stamp_view(stamps.astype(np.float64))[1]
    assert not deepshear._core._stamp_view(stamps[:, :, ::-1])[1]
    est = deepshear.Estimator(("rrg",))
    a = est.estimate(stamps[:40], progress=False)
    b = est.estimate(stamps[:40].astype(np.float64), progress=False)
    c = est.estimate(np.asfortranarray(stamps[:40]), progress=False)
    np.testing.assert_array_equal(a["G1_RRG"], b["G1_RRG"])
    np.testing.assert_array_equal(a["G1_RRG"], c["G1_RRG"])


def test_threads_do_not_change_the_answer(rendered):
    stamps, _ = rendered
    one = deepshear.estimate(stamps, ("cnn", "rrg"), threads=1, progress=False)
    two = deepshear.estimate(stamps, ("cnn", "rrg"), threads=2, progress=False)
    for col in ("G1_CNN", "G2_CNN", "G1_RRG"):
        np.testing.assert_array_equal(one[col], two[col])


def test_wrong_input_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match=r"expected shape \(N, 32, 32\)"):
        deepshear.estimate(np.zeros(1024, np.float32))
    with pytest.raises(ValueError, match=r"stamps of 16 x 16 px; the model reads shape \(N, 32, 32\)"):
        deepshear.estimate(np.zeros((2, 16, 16), np.float32))
    with pytest.raises(TypeError, match="complex128 is not a real number type"):
        deepshear.estimate(np.zeros((2, 32, 32), complex))
    with pytest.raises(ValueError, match="unknown estimator 'nonesuch'"):
        deepshear.estimate(np.zeros((2, 32, 32), np.float32), estimators=("nonesuch",))
    with pytest.raises(deepshear.Error, match="/nonexistent.dsm"):
        deepshear.Model("/nonexistent.dsm")
    with pytest.raises(ValueError, match="threads = -2"):
        deepshear.estimate(np.zeros((2, 32, 32), np.float32), threads=-2)


def sheared_stamp(g1, g2):
    """A noiseless exponential galaxy sheared by (g1, g2), the shipped PSF set-up."""
    return deepshear.render_stamp({
        "galaxy": {"kind": "exponential", "hlr": 0.25, "flux": 100},
        "transforms": [{"shear": [g1, g2]}],
        "psf": {"kind": "gaussian", "fwhm": 0.12}, "pixel_scale": 0.065, "nx": 32, "ny": 32,
        "noise": {"kernel": "none"}})


def test_shear_signs_follow_the_galsim_convention():
    stamps = np.stack([sheared_stamp(0.2, 0), sheared_stamp(-0.2, 0), sheared_stamp(0, 0.2), sheared_stamp(0, -0.2)])
    assert stamps.dtype == np.float32 and stamps.shape == (4, 32, 32)
    # array[y, x]: positive g1 stretches along x, the second index.
    y, x = np.mgrid[0:32, 0:32] - 15.5
    mxx, myy = (stamps[0] * x * x).sum(), (stamps[0] * y * y).sum()
    assert mxx > 1.2 * myy
    mxy = (stamps[2] * x * y).sum()  # positive g2 stretches along x = y
    assert mxy > 0.1 * mxx
    cat = deepshear.estimate(stamps, progress=False)
    for est in ("CNN", "RRG", "KSB"):
        g1, g2 = cat[f"G1_{est}"], cat[f"G2_{est}"]
        assert g1[0] > 0.05 and g1[1] < -0.05, est
        assert g2[2] > 0.05 and g2[3] < -0.05, est


def test_a_galsim_image_goes_straight_in():
    galsim = pytest.importorskip("galsim")
    gal = galsim.Convolve(galsim.Exponential(half_light_radius=0.25, flux=100).shear(g1=0.2, g2=0),
                          galsim.Gaussian(fwhm=0.12))
    image = gal.drawImage(nx=32, ny=32, scale=0.065)
    cat = deepshear.estimate(image.array, estimators=("rrg", "cnn"), progress=False)
    assert cat["G1_RRG"][0] > 0.05 and cat["G1_CNN"][0] > 0.05


def test_results_convert_to_structured_arrays_and_astropy_tables(rendered):
    stamps, _ = rendered
    rec = deepshear.estimate(stamps[:10], ("rrg",), structured=True, progress=False)
    assert rec.dtype.names[:4] == ("INDEX", "G1", "G2", "FLAGS") and len(rec) == 10
    astropy_table = pytest.importorskip("astropy.table")
    t = astropy_table.Table(deepshear.estimate(stamps[:10], ("rrg",), progress=False))
    assert len(t) == 10 and "G1_RRG" in t.colnames


def test_an_estimator_reused_gives_each_call_its_own_population(rendered):
    stamps, _ = rendered
    est = deepshear.Estimator(("rrg", "cnn"))
    noiseless, _ = deepshear.render_stamps(n=50, seed=99, noise_scale=0, progress=False)
    est.estimate(noiseless, progress=False)  # another population first (another RRG susceptibility)
    again = est.estimate(stamps[100:], progress=False)
    fresh = deepshear.estimate(stamps[100:], ("rrg", "cnn"), progress=False)
    for col in ("G1_RRG", "G2_RRG", "G1_CNN"):
        np.testing.assert_array_equal(again[col], fresh[col])
