// The paper's evaluation on simulations (sec. 5): bias (c, m) and RMS of the
// calibrated estimate per estimator and component (Table 4), and the same in
// bins of a per-galaxy quantity (Figures 10-12, bias by population).
#pragma once
#include <string>
#include <vector>

#include "deepshear/lensing/calibration.hpp"
#include "deepshear/lensing/estimators/estimate.hpp"
#include "deepshear/lensing/training/report_json.hpp"
#include "deepshear/lensing/training/stamp_set.hpp"

namespace ds::lens {

// Bias and scatter of one estimator on one set. Flagged stamps are left out
// (and counted). The RMS is that of the calibrated estimate (g - c)/(1 + m)
// minus the truth, with `cal` when given, else the set's own fit (the
// paper's way). Bootstrap errors on the RMS.
struct BiasReport {
  BiasFit fit1, fit2;          // fitted on this set
  Calibration applied;         // the calibration the RMS uses
  double rms1 = 0, rms2 = 0;   // calibrated RMS per component
  double rms1_err = 0, rms2_err = 0;
  long used = 0, flagged = 0;
  // {c1, c1_err, m1, ..., sigma2_err, applied_calibration, used, flagged}:
  // values to 6 digits, errors to 3 (Table 4).
  Json to_json() const;
};
BiasReport bias_report(const std::vector<StampTruth>& truth, const std::vector<ShearEstimate>& est,
                       const Calibration* cal = nullptr, int nboot = 100, std::uint64_t seed = 1);

// Statistics in bins of a per-stamp quantity q: bins [edges[b], edges[b+1]).
struct BinStats {
  double lo = 0, hi = 0, centre = 0;  // centre: mean q of the bin's stamps
  long n = 0;
  double rms = 0, rms_err = 0;     // RMS over both components of the calibrated estimate
  double m1 = 0, m1_err = 0, c1 = 0, c1_err = 0, m2 = 0, m2_err = 0, c2 = 0, c2_err = 0;  // bias fitted in the bin
};
// `cal` calibrates the estimates before the RMS (per galaxy when `binned` is
// given, with q_cal the quantity it depends on).
std::vector<BinStats> binned_stats(const std::vector<double>& q, const std::vector<double>& edges,
                                   const std::vector<StampTruth>& truth, const std::vector<ShearEstimate>& est,
                                   const Calibration& cal, const BinnedCalibration* binned = nullptr,
                                   const std::vector<double>* q_cal = nullptr);
// [{lo, hi, n, rms, rms_err, m1, m1_err, c1, c1_err, m2, m2_err, c2, c2_err}]
// per bin: values to 6 digits, errors to 3.
Json bins_to_json(const std::vector<BinStats>& bins);
// One CSV line per bin: estimator,quantity,lo,hi,n,rms,rms_err,m1,...,c2_err.
std::string bins_to_csv(const std::string& estimator, const std::string& quantity, const std::vector<BinStats>& bins);

// Edges of `nbins` bins holding equal numbers of the finite values of q.
std::vector<double> quantile_edges(const std::vector<double>& q, int nbins);

}  // namespace ds::lens
