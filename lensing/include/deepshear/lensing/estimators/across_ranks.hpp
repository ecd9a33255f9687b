// Estimation split over the ranks of an MPI job (engine/ranks.hpp), with the
// same results as one process.
//
// Each rank takes the contiguous items rank_range(n) and runs them through
// its estimators in chunks. Estimators that settle a population number on
// their first call (RRG's susceptibility G) settle it, as on one process, on
// the first chunk of the whole set, items [0, min(chunk, n)): rank 0 measures
// that chunk (all of it, even where it reaches past rank 0's share) and
// sends what it settled to the others, which render their first chunk
// meanwhile. Every other estimate depends on its stamp alone.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "deepshear/lensing/calibration.hpp"
#include "deepshear/lensing/estimators/estimator.hpp"

namespace ds::lens {

// Items [first, first + m) of the set as stamps (m, ny, nx).
using ChunkSource = std::function<Tensor(long first, long m)>;

// This rank's share [a, b) = rank_range(n) of items [0, n) through the set
// in chunks of `chunk` (fetched in increasing order; rank 0's first fetch may
// reach past b), each calibrated by calibrations[name] where given. Returns
// the results of items [a, b) only. Collective: every rank calls it.
std::map<std::string, EstimateBatch> estimate_share(EstimatorSet& set, long n, long chunk, const ChunkSource& fetch,
                                                    const std::map<std::string, Calibration>& calibrations = {},
                                                    Progress* progress = nullptr);

// How many items this rank fetches in estimate_share: its share, and on rank
// 0 at least the first chunk (for a progress line's total).
long share_fetched(long n, long chunk);

// Rank `from`'s settled numbers (parameters()) in every rank's estimators. Collective.
void share_settled_parameters(EstimatorSet& set, int from = 0);

// Every rank's results, joined in rank order (estimates and extra columns),
// on rank 0 (to_all: on every rank). Collective.
std::map<std::string, EstimateBatch> gather_results(const std::map<std::string, EstimateBatch>& mine,
                                                    bool to_all = false);

}  // namespace ds::lens
