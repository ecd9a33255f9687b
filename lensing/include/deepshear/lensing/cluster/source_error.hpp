// Per-source statistical errors of shear estimators on real fields (Springer et al.
// 2018, sec. 6.3, eqs. 21-23). For each random 50/50 split of a field's sources into a
// held-in half H and a held-out half S:
//   sigma^2_field-source = mean over j in S of (g^H_lambda(theta_j) - g_j)^2        (eq. 21)
//   sigma^2_field        = mean over j in S of Var_bootstrap(g^H_lambda(theta_j))   (eq. 22)
//   sigma^2_source       = sigma^2_field-source - sigma^2_field                     (eq. 23)
// per estimator and shear component, with g^H the field smoothed from H (nboot
// resamplings of H for the variance). Over many fields each statistic is the plain mean of
// the per-field means (the paper's E_k). Held-out sources where the held-in field is
// masked (neff < min_neff) are skipped.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "deepshear/lensing/cluster/field.hpp"

namespace ds::lens {

struct SourceErrorOptions {
  std::vector<double> lambdas{19.5};  // smoothing lengths, arcsec
  double truncation = 4.0, min_neff = 5.0;
  int nsplit = 10;   // random 50/50 splits; split s from RandomStream(seed, "source_error.split", s)
  int nboot = 100;   // bootstrap resamplings of each held-in half
  std::uint64_t seed = 1;
};

// One value and its uncertainty.
struct Estimate {
  double value = 0, err = 0;
};

// Statistics indexed [(l * k + e) * 2 + c]: smoothing length l, estimator e, component c.
// Each sigma is sqrt of the split-averaged variance; err is the standard deviation of the
// single-split values over the splits (the splits share sources, so their mean is not
// nsplit times better determined than one split; this is the conservative choice).
struct SourceErrors {
  std::vector<double> lambdas;
  std::vector<std::string> names;
  std::vector<Estimate> field_source, field, source;
  long index(int l, int e, int c) const { return (long(l) * long(names.size()) + e) * 2 + c; }
  const Estimate& sigma_source(int l, int e, int c) const { return source[std::size_t(index(l, e, c))]; }
};

SourceErrors source_errors(const std::vector<SourceCatalogue>& fields, const SourceErrorOptions& options = {});

}  // namespace ds::lens
