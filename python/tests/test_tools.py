"""The tools beside the journeys, against closed forms."""

import numpy as np
import pytest

import deepshear


def test_shear_algebra_closed_forms():
    g = 0.3 + 0.4j
    e = deepshear.distortion_from_shear(g)
    assert abs(e - 2 * g / (1 + abs(g) ** 2)) < 1e-14
    assert abs(deepshear.shear_from_distortion(e) - g) < 1e-12
    arr = deepshear.distortion_from_shear(np.array([0.1, 0.1j]))
    np.testing.assert_allclose(arr, [0.2 / 1.01, 0.2j / 1.01])
    assert abs(deepshear.rotate_shear(0.1, np.pi / 4) - 0.1j) < 1e-14
    g_c, theta = deepshear.compose_shears(0.2, -0.2)
    assert abs(g_c) < 1e-12 and abs(theta) < 1e-12
    a = deepshear.lensing_jacobian(0.2 + 0.1j, 1.0)
    s = 1 / np.sqrt(1 - 0.05)
    np.testing.assert_allclose(a, s * np.array([[1.2, 0.1], [0.1, 0.8]]))
    assert abs(np.linalg.det(a) - 1) < 1e-12  # area-preserving without magnification


def test_adaptive_moments_of_a_gaussian():
    y, x = np.mgrid[0:48, 0:48] - 23.5
    sxx, syy = 9.0, 4.0
    image = np.exp(-0.5 * (x * x / sxx + y * y / syy)).astype(np.float32)
    m = deepshear.adaptive_moments(image)
    assert m["ok"], m["message"]
    # The adaptive weight matches the Gaussian itself: M = its covariance.
    assert m["mxx"] == pytest.approx(sxx, rel=1e-3) and m["myy"] == pytest.approx(syy, rel=1e-3)
    assert m["e1"] == pytest.approx((sxx - syy) / (sxx + syy), abs=1e-3)
    assert m["x"] == pytest.approx(23.5, abs=1e-3)


def test_noise_kernel_of_white_noise_is_a_delta():
    rng = np.random.default_rng(3)
    image = rng.normal(0, 2.0, (400, 400)).astype(np.float32)
    k = deepshear.noise_kernel(image, step=2)
    assert k.shape == (7, 7)
    # White noise of sigma 2: K is 2 at the centre and about 0 elsewhere.
    assert k[3, 3] == pytest.approx(2.0, rel=0.03)
    off = np.abs(k.copy())
    off[3, 3] = 0
    assert off.max() < 0.08
    with pytest.raises(ValueError, match="mask must have the image's shape"):
        deepshear.noise_kernel(image, mask=np.zeros((3, 3)))


def test_keys_list_the_commands_parameters():
    keys = {k["key"]: k for k in deepshear.keys("simulate")}
    assert keys["n"]["default"] == "1000" and keys["n"]["type"] == "int"
    assert "seed" in keys and "noise_scale" in keys
    with pytest.raises(ValueError, match="no journey 'nonesuch'"):
        deepshear.keys("nonesuch")
    assert set(deepshear.known_estimators()) >= {"cnn", "rrg", "ksb"}
    assert deepshear.__version__ == deepshear.build_info()["version"]
