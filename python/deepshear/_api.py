"""The documented Python API over deepshear._core (see the package docstring)."""

import json

import numpy as np

from . import _core

Error = _core.Error


# ---------------------------------------------------------------- parameters

def _text(key, value):
    """A parameter value as the configuration text the library parses."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple, np.ndarray)):
        return ", ".join(_text(key, v) for v in value)
    raise TypeError(f"parameter {key}: cannot use a value of type {type(value).__name__}")


def _params(params, kwargs):
    """(key, text) pairs from a dict of parameters and keyword arguments."""
    merged = dict(params or {})
    merged.update(kwargs)
    return [(str(k), _text(k, v)) for k, v in merged.items() if v is not None]


def _threads(threads):
    return 0 if threads is None else int(threads)


def keys(journey):
    """The parameters of a journey ("simulate", "render", "train", "evaluate",
    "cluster", "maps"), as the command declares them: a list of dicts with
    key, type, default (as text) and help."""
    return [dict(zip(("key", "type", "default", "help"), k)) for k in _core.journey_keys(journey)]


def to_structured(columns):
    """A dict of equal-length 1-d arrays (what estimate() and render_stamps()
    return) as one numpy structured array. For astropy: Table(columns)
    takes the dict directly; Table(to_structured(columns)) works too."""
    names = list(columns)
    arrays = [np.asarray(columns[n]) for n in names]
    out = np.empty(len(arrays[0]) if arrays else 0, dtype=[(n, a.dtype, a.shape[1:]) for n, a in zip(names, arrays)])
    for n, a in zip(names, arrays):
        out[n] = a
    return out


# ---------------------------------------------------------------- rendering

def render_stamps(params=None, *, threads=None, progress=True, **kwargs):
    """Render a stamp set exactly as `deepshear simulate` (and train and
    evaluate) render it for the same parameters: source -> size jitter ->
    rotation and mirror -> shear and magnification -> centroid shift -> PSF
    and pixel -> 32x32 -> correlated noise -> background.

    Parameters are the keys of ``deepshear simulate --help`` (keys("simulate")),
    e.g. n=1000, seed=7, split="test", noise_scale=0.5, source="parametric".

    Returns (stamps, truth): stamps is a float32 array (N, 32, 32) indexed
    [i, y, x]; truth is a dict of arrays, one row per stamp: G1, G2, MU, MAG,
    R_HALF [arcsec], SNR, SOURCE_INDEX, ROTATION [rad], MIRROR, DILATION,
    OFFSET_X, OFFSET_Y [px], SEED. Stamp i depends only on (seed, split, i).
    """
    return _core.render_stamps(_params(params, kwargs), _threads(threads), progress)


def render_stamp(description=None, params=None, **kwargs):
    """Render one stamp as `deepshear render` does: a float32 array (ny, nx).

    description: a dict (or JSON text) in the render JSON layout, e.g.
      {"galaxy": {"kind": "sersic", "n": 1, "hlr": 0.4, "flux": 100},
       "transforms": [{"shear": [0.1, 0.0]}],
       "psf": {"kind": "gaussian", "fwhm": 0.12}, "pixel_scale": 0.065,
       "nx": 32, "ny": 32, "noise": {"kernel": "none"}}
    params / keyword arguments: the flags of ``deepshear render --help``
    (keys("render")); the description's values override them.
    """
    text = description if isinstance(description, str) else json.dumps(description) if description else ""
    return _core.render_stamp(_params(params, kwargs), text)


# ---------------------------------------------------------------- estimation

class Model:
    """A CNN model file loaded once (path None: the shipped default model).

    Attributes: path, stamp_shape (ny, nx), trained_setup (the PSF FWHM
    [arcsec] and pixel scale [arcsec / px] it was trained for), provenance
    (dict of the file's provenance records)."""

    def __init__(self, path=None):
        self._model = _core.Model(path or "")

    path = property(lambda self: self._model.path)
    stamp_shape = property(lambda self: tuple(self._model.stamp_shape))
    trained_setup = property(lambda self: dict(self._model.trained_setup))
    provenance = property(lambda self: dict(self._model.provenance))

    def __repr__(self):
        return f"deepshear.Model({self.path!r})"


class Estimator:
    """Shear estimators set up once, for repeated estimate() calls.

    estimators: names among known_estimators() ("cnn", "rrg", "ksb").
    model: a Model, a model file path, or None (the shipped model, loaded
      only when an estimator needs one).
    psf_fwhm, pixel_scale: the stamps' round Gaussian PSF FWHM (arcsec,
      with the pixel) and pixel scale (arcsec / px); RRG and KSB correct for
      this PSF, and the CNN checks it against its training set-up (5%:
      an error, or a warning with allow_mismatch=True).
    symmetrise: the CNN's 8-fold symmetrised estimate (eq. 14 of Springer
      et al. 2018); calibration: the model's (c, m) calibration.
    """

    def __init__(self, estimators=("cnn", "rrg", "ksb"), model=None, psf_fwhm=0.12, pixel_scale=0.065,
                 symmetrise=True, calibration=True, allow_mismatch=False):
        names = [estimators] if isinstance(estimators, str) else list(estimators)
        core_model = model._model if isinstance(model, Model) else _core.Model(model) if model else None
        self._set = _core.Estimators(names, core_model, float(psf_fwhm), float(pixel_scale), bool(symmetrise),
                                     bool(calibration), bool(allow_mismatch))

    @property
    def names(self):
        return list(self._set.names)

    def estimate(self, stamps, *, threads=None, progress=True, structured=False):
        """Shears of stamps (N, ny, nx), or one stamp (ny, nx).

        float32 C-contiguous arrays are read in place (no copy); other real
        dtypes and layouts are converted to float32 (a copy); complex,
        boolean and object arrays raise TypeError, other shapes ValueError.

        Returns the columns of `deepshear estimate`'s table as a dict of
        arrays (structured=True: one structured array): INDEX, then G1, G2,
        FLAGS of the first estimator, then G1_<EST>, G2_<EST>, FLAGS_<EST>
        for each (EST upper case) and any extra columns. g is the reduced
        shear in the stamp's pixel frame (positive g1 along x = axis 1 of
        the array); flagged rows (FLAGS != 0) hold NaN. Stamps of one call
        are one population: RRG's susceptibility comes from its first 4096.
        """
        columns = self._set.estimate(stamps, _threads(threads), progress)
        return to_structured(columns) if structured else columns


def estimate(stamps, estimators=("cnn", "rrg", "ksb"), model=None, psf_fwhm=0.12, pixel_scale=0.065,
             symmetrise=True, calibration=True, *, allow_mismatch=False, threads=None, progress=True,
             structured=False):
    """Shear estimates per stamp, as `deepshear estimate` gives them.

    stamps: float32 array (N, ny, nx) [i, y, x] (or one stamp (ny, nx)),
    e.g. a GalSim Image's .array or np.stack of them. See Estimator for the
    arguments and Estimator.estimate for the result (a dict of arrays, or a
    structured array with structured=True; astropy: Table(result)).
    """
    est = Estimator(estimators, model, psf_fwhm, pixel_scale, symmetrise, calibration, allow_mismatch)
    return est.estimate(stamps, threads=threads, progress=progress, structured=structured)


def known_estimators():
    """The registered estimator names, e.g. ["cnn", "rrg", "ksb"]."""
    return list(_core.known_estimators())


# ---------------------------------------------------------------- journeys

def train(params=None, *, threads=None, progress=True, **kwargs):
    """Train the shear CNN end to end, as `deepshear train` does, and write
    the model file named by out= (atomically; checkpoints resume a killed
    run). Parameters: keys("train"), e.g. out="m.dsm", **{"train.n": 20000}.
    Returns the training report as a dict (history, attenuation factors,
    calibration, calibration-set fits)."""
    return json.loads(_core.train(_params(params, kwargs), _threads(threads), progress))


def evaluate(params=None, *, threads=None, progress=True, **kwargs):
    """The paper's evaluation on simulations (`deepshear evaluate`): CNN,
    RRG and KSB on the same calibration and test stamps. Parameters:
    keys("evaluate"), e.g. estimators="cnn,rrg", n=20000, seed=5. Files are
    written only when out= names a folder. Returns evaluation.json's
    content as a dict (Table 4, figures' data, bias by magnitude and S/N)."""
    return json.loads(_core.evaluate(_params(params, kwargs), _threads(threads), progress))


def cluster(params=None, *, threads=None, progress=True, **kwargs):
    """Shear catalogues of cluster fields (`deepshear cluster`): image=,
    weight= (or fields= a list file) and out= (required: the catalogues are
    files). Returns cluster_summary.json's content as a dict."""
    return json.loads(_core.cluster(_params(params, kwargs), _threads(threads), progress))


def maps(catalogues, params=None, *, threads=None, progress=True, **kwargs):
    """Maps and statistics from shear catalogues (`deepshear maps`):
    catalogues is a path or a list of paths; parameters keys("maps"), e.g.
    z_lens=0.3, centre_radec=(150, 2.2). Files are written only when out=
    names a folder. Returns the maps report as a dict."""
    paths = [catalogues] if isinstance(catalogues, str) else [str(c) for c in catalogues]
    return json.loads(_core.maps(paths, _params(params, kwargs), _threads(threads), progress))


# ---------------------------------------------------------------- tools

def noise_kernel(image, mask=None, step=1, *, threads=None):
    """The 7x7 correlated-noise kernel K (float64 [y, x], centre (3, 3)) of
    an image's background, as `deepshear noise-kernel` estimates it: noise
    made by convolving white noise with K has the image's background
    covariance. mask: same shape, non-zero = source or bad pixel (None:
    all pixels are background). step: grid step of the 7x7 patches [px]."""
    return _core.noise_kernel(image, mask, int(step), _threads(threads))


def adaptive_moments(image, sigma_guess=5.0, x_guess=float("nan"), y_guess=float("nan")):
    """Adaptive moments of one image (ny, nx), as HSM's FindAdaptiveMom:
    a dict with ok, message, amplitude, x, y (px, 0-based, x = column),
    mxx, mxy, myy (px^2), sigma = det(M)^(1/4) (px), e1, e2 (distortion),
    rho4 and iterations. Guesses in px; NaN = the stamp centre."""
    return _core.adaptive_moments(image, float(sigma_guess), float(x_guess), float(y_guess))


def _complex_map(f, *args):
    out = np.vectorize(f, otypes=[complex])(*args)
    return out if out.shape else complex(out)


def distortion_from_shear(g):
    """Distortion e = 2g / (1 + |g|^2) of reduced shear g (complex, or an
    array of them)."""
    return _complex_map(_core.distortion_from_shear, g)


def shear_from_distortion(e):
    """Reduced shear g = e / (1 + sqrt(1 - |e|^2)) of distortion e."""
    return _complex_map(_core.shear_from_distortion, e)


def rotate_shear(g, theta):
    """The shear seen after rotating the image by theta (radians,
    anticlockwise): g exp(2 i theta)."""
    return _complex_map(_core.rotate_shear, g, theta)


def compose_shears(g_a, g_b):
    """Shear g_a then g_b: returns (g_c, theta) with A(g_b) A(g_a) =
    R(theta) A(g_c) (complex shears, theta in radians)."""
    return _core.compose_shears(complex(g_a), complex(g_b))


def lensing_jacobian(g, mu=1.0):
    """The 2x2 lensing Jacobian sqrt(mu) / sqrt(1 - |g|^2) [[1 + g1, g2],
    [g2, 1 - g1]] (source plane -> image) for reduced shear g (complex)."""
    return _core.lensing_jacobian(complex(g), float(mu))


def read_table(path, extname=None):
    """A FITS binary table (the first table HDU, or the one named extname)
    as a dict of numpy arrays: what `deepshear estimate`, `cluster` and
    `simulate` (extname="TRUTH") write. Integer columns come as int64,
    other numbers as float64 (vector columns 2-d), strings as lists."""
    return _core.read_table(str(path), extname or "")


def build_info():
    """The build's version, commit, compiler, instruction sets and library
    versions, as `deepshear info --json`."""
    return json.loads(_core.build_info())
