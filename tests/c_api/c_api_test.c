/* The C API from C: elliptical Gaussian stamps of known orientation through
 * RRG (and the CNN when the shipped model is given as argv[1]), the signs of
 * the shear against the stamps' stretch, and the error paths. Exit 0 = pass. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deepshear/deepshear.h"

static int failures = 0;
#define CHECK(cond)                                                  \
  do {                                                               \
    if (!(cond)) {                                                   \
      fprintf(stderr, "c_api_test:%d: CHECK(%s) failed\n", __LINE__, #cond); \
      ++failures;                                                    \
    }                                                                \
  } while (0)

/* A 32 x 32 Gaussian stamp centred at (15.5, 15.5), covariance
 * [[sxx, sxy], [sxy, syy]] px^2. */
static void gaussian(float* s, double sxx, double sxy, double syy) {
  const double det = sxx * syy - sxy * sxy;
  for (int y = 0; y < 32; ++y)
    for (int x = 0; x < 32; ++x) {
      const double dx = x - 15.5, dy = y - 15.5;
      const double r2 = (syy * dx * dx - 2 * sxy * dx * dy + sxx * dy * dy) / det;
      s[y * 32 + x] = (float)(100.0 * exp(-0.5 * r2));
    }
}

/* Stamps: stretched along x, along y, along x = y, along x = -y. */
static void shear_signs(const char* name, const ds_model* model) {
  float* stamps = malloc(sizeof(float) * 4 * 1024);
  double g1[4], g2[4];
  uint32_t flags[4];
  gaussian(stamps, 6.0, 0.0, 4.0);
  gaussian(stamps + 1024, 4.0, 0.0, 6.0);
  gaussian(stamps + 2048, 5.0, 1.0, 5.0);
  gaussian(stamps + 3072, 5.0, -1.0, 5.0);
  ds_estimator* e = ds_estimator_new(name, model, 0.12, 0.065, 1);
  CHECK(e != NULL);
  if (!e) fprintf(stderr, "%s: %s\n", name, ds_last_error());
  CHECK(ds_estimate(e, stamps, 4, 32, 32, g1, g2, flags) == 0);
  for (int i = 0; i < 4; ++i) CHECK(flags[i] == 0);
  CHECK(g1[0] > 0.02 && fabs(g2[0]) < 0.3 * g1[0]);
  CHECK(g1[1] < -0.02 && fabs(g2[1]) < 0.3 * -g1[1]);
  CHECK(g2[2] > 0.02 && fabs(g1[2]) < 0.3 * g2[2]);
  CHECK(g2[3] < -0.02 && fabs(g1[3]) < 0.3 * -g2[3]);
  printf("%s: g = (%.3f, %.3f) (%.3f, %.3f) (%.3f, %.3f) (%.3f, %.3f)\n", name, g1[0], g2[0], g1[1], g2[1], g1[2],
         g2[2], g1[3], g2[3]);
  ds_estimator_free(e);
  free(stamps);
}

static void errors(void) {
  float stamp[1024] = {0};
  double g1;
  CHECK(ds_estimator_new("nonesuch", NULL, 0.12, 0.065, 1) == NULL);
  CHECK(strstr(ds_last_error(), "unknown estimator 'nonesuch'") != NULL);
  CHECK(ds_estimator_new("cnn", NULL, 0.12, 0.065, 1) == NULL); /* the CNN needs a model */
  CHECK(strlen(ds_last_error()) > 0);
  CHECK(ds_model_load("/nonexistent/model.dsm") == NULL);
  CHECK(strstr(ds_last_error(), "/nonexistent/model.dsm") != NULL);
  CHECK(ds_estimate(NULL, stamp, 1, 32, 32, &g1, NULL, NULL) == -1);
  CHECK(strstr(ds_last_error(), "no estimator") != NULL);
  ds_estimator* e = ds_estimator_new("rrg", NULL, 0.12, 0.065, 1);
  CHECK(ds_estimate(e, stamp, 1, 0, 32, &g1, NULL, NULL) == -1); /* no pixels */
  CHECK(strlen(ds_last_error()) > 0);
  ds_estimator_free(e);
}

int main(int argc, char** argv) {
  CHECK(strlen(ds_version()) > 0);
  ds_set_threads(1);
  shear_signs("rrg", NULL);
  shear_signs("ksb", NULL);
  if (argc > 1) {
    ds_model* m = ds_model_load(argv[1]);
    CHECK(m != NULL && ds_model_stamp_size(m) == 32);
    if (m) shear_signs("cnn", m);
    ds_model_free(m);
  }
  errors();
  if (failures) fprintf(stderr, "c_api_test: %d checks failed\n", failures);
  return failures ? 1 : 0;
}
