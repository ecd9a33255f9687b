/* deepshear's C API: load a model, set up an estimator, estimate the shears
 * of a float array of stamps, read the last error. For C, Fortran (through
 * ISO_C_BINDING: every argument is a pointer, an int, a long or a double) and
 * any language with a C foreign-function interface. The C++ library
 * (<deepshear/lensing/...>) does the work; this is a client of it.
 *
 *   ds_model* m = ds_model_load(NULL);                 // the shipped model
 *   ds_estimator* e = ds_estimator_new("cnn", m, 0.12, 0.065, 1);
 *   if (!e || ds_estimate(e, stamps, n, 32, 32, g1, g2, flags) != 0)
 *     fprintf(stderr, "%s\n", ds_last_error());
 *   ds_estimator_free(e);
 *   ds_model_free(m);
 *
 * Conventions as in the library: stamps are float32, n x ny x nx, row-major
 * (index (i * ny + y) * nx + x); g = g1 + i g2 is the reduced shear in the
 * stamp's pixel frame, positive g1 stretching along x, positive g2 along
 * x = y; flags are the EstimateFlag bits (0 = measured; a flagged stamp has
 * g1 = g2 = 0). Functions that can fail return NULL or non-zero and set the
 * calling thread's last error; none throws or exits. Handles are not shared
 * between threads while a call runs. */
#ifndef DEEPSHEAR_DEEPSHEAR_H
#define DEEPSHEAR_DEEPSHEAR_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ds_model ds_model;         /* a loaded CNN model file */
typedef struct ds_estimator ds_estimator; /* one estimator, set up */

/* The library's version, "0.1.0". */
const char* ds_version(void);

/* The message of the calling thread's last failure ("" when none). */
const char* ds_last_error(void);

/* Threads for later work (n <= 0: all cores). */
void ds_set_threads(int n);

/* Loads a model file; path NULL or "" = the shipped default model. NULL on
 * failure. */
ds_model* ds_model_load(const char* path);
void ds_model_free(ds_model* model);
/* The stamp side the model reads (32); 0 for NULL. */
long ds_model_stamp_size(const ds_model* model);

/* Sets up the estimator `name` ("cnn", "rrg" or "ksb") for stamps with a
 * round Gaussian PSF of FWHM psf_fwhm (arcsec, with the pixel) at
 * pixel_scale (arcsec / px). The CNN needs a model (the others ignore it) and
 * gives, with symmetrise != 0, the 8-fold symmetrised, calibrated estimate.
 * The model must outlive the estimator. NULL on failure. */
ds_estimator* ds_estimator_new(const char* name, const ds_model* model, double psf_fwhm, double pixel_scale,
                               int symmetrise);
void ds_estimator_free(ds_estimator* estimator);

/* Estimates n stamps of ny x nx pixels at `stamps` into g1[n], g2[n] and
 * flags[n] (any may be NULL when not wanted). Each call is one population
 * (RRG's susceptibility comes from its first 4096 stamps, as in the
 * `estimate` command). Returns 0, or -1 with the last error set. */
int ds_estimate(ds_estimator* estimator, const float* stamps, long n, long ny, long nx, double* g1, double* g2,
                uint32_t* flags);

#ifdef __cplusplus
}
#endif

#endif /* DEEPSHEAR_DEEPSHEAR_H */
