"""deepshear: weak-lensing shear estimation (CNN, RRG, KSB), stamp rendering,
training, evaluation and cluster pipelines, from Python with numpy.

Conventions (the library's, and GalSim's):
  * images are numpy arrays indexed array[y, x]; stamps are float32 of shape
    (N, ny, nx) (32 x 32 for the shipped model); a GalSim Image's .array
    goes straight in;
  * the pixel centre of an N x N stamp is ((N-1)/2, (N-1)/2), 0-based;
  * shear is the reduced shear g = g1 + i g2: positive g1 stretches along x
    (the array's second index), positive g2 along x = y;
  * angles on the sky in arcsec, positions on a stamp in pixels.

The journeys take the same parameters as their commands (``deepshear
simulate --help`` etc.; ``deepshear.keys("simulate")`` lists them): keyword
arguments for plain keys, and a dict for keys with dots
(``{"population.mag_max": 25}``) or to pass a whole configuration. Values may
be numbers, booleans, strings or sequences of numbers.

Errors in the arguments raise ValueError (or TypeError for a wrong dtype);
errors of the library (a missing file, a corrupt model) raise
deepshear.Error, a RuntimeError, with the library's one-line message.
Long calls release the GIL, take ``threads=`` (None: all cores) and show
progress on stderr unless ``progress=False``.

Example::

    import deepshear
    stamps, truth = deepshear.render_stamps(n=1000, seed=7)
    cat = deepshear.estimate(stamps, estimators=("cnn", "rrg"))
    print((cat["G1_CNN"] - truth["G1"]).std(), (cat["G1_RRG"] - truth["G1"]).std())
"""

from ._api import (Error, Model, Estimator, adaptive_moments, build_info, cluster, compose_shears,
                   distortion_from_shear, estimate, evaluate, keys, known_estimators, lensing_jacobian, maps,
                   noise_kernel, read_table, render_stamp, render_stamps, rotate_shear, shear_from_distortion, to_structured,
                   train)

__version__ = build_info()["version"]

__all__ = ["Error", "Model", "Estimator", "adaptive_moments", "build_info", "cluster", "compose_shears",
           "distortion_from_shear", "estimate", "evaluate", "keys", "known_estimators", "lensing_jacobian", "maps",
           "noise_kernel", "read_table", "render_stamp", "render_stamps", "rotate_shear", "shear_from_distortion",
           "to_structured", "train"]
