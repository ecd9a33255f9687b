#include "deepshear/lensing/training/population.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "deepshear/engine/config.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/fits.hpp"

namespace ds::lens {

PopulationSample read_population(const std::string& path) {
  PopulationSample p;
  std::string ext = path.size() > 5 ? path.substr(path.size() - 5) : path;
  if (ext == ".fits" || path.find(".fits.") != std::string::npos) {
    fits::FitsFile f(path);
    f.hdu(1);
    auto mag = f.read_column(f.has_column("MAG") ? "MAG" : "MAG_AUTO");
    std::vector<double> r;
    if (f.has_column("R_HALF")) {
      r = f.read_column("R_HALF");
    } else {
      r = f.read_column("FLUX_RADIUS");
      double scale = f.key_double("PIXEL_SCALE");
      for (auto& v : r) v *= scale;
    }
    for (std::size_t i = 0; i < mag.size(); ++i)
      if (std::isfinite(mag[i]) && r[i] > 0) p.magnitude.push_back(mag[i]), p.log_rhalf.push_back(std::log10(r[i]));
  } else {
    std::ifstream in(path);
    if (!in) throw Error(path + ": cannot open the target population");
    std::string line;
    int lineno = 0;
    while (std::getline(in, line)) {
      ++lineno;
      auto hash = line.find('#');
      if (hash != std::string::npos) line = line.substr(0, hash);
      if (trim(line).empty()) continue;
      std::istringstream ss(line);
      double m, r;
      if (!(ss >> m >> r) || !(r > 0))
        throw Error(path + ":" + std::to_string(lineno) + ": expected 'magnitude r_half' with r_half > 0");
      p.magnitude.push_back(m);
      p.log_rhalf.push_back(std::log10(r));
    }
  }
  if (p.magnitude.empty()) throw Error(path + ": the target population is empty");
  return p;
}

std::vector<double> population_weights(const PopulationSample& src, const PopulationSample& tgt, int nb) {
  require(nb >= 1, "population matching: need at least one bin");
  require(src.magnitude.size() == src.log_rhalf.size() && tgt.magnitude.size() == tgt.log_rhalf.size(),
          "population matching: magnitude and size columns differ in length");
  auto [m0, m1] = std::minmax_element(tgt.magnitude.begin(), tgt.magnitude.end());
  auto [r0, r1] = std::minmax_element(tgt.log_rhalf.begin(), tgt.log_rhalf.end());
  const double mlo = *m0, mhi = *m1 + 1e-9 * (1 + std::abs(*m1)), rlo = *r0, rhi = *r1 + 1e-9 * (1 + std::abs(*r1));
  auto bin = [&](double m, double r) -> long {
    if (!(m >= mlo && m < mhi && r >= rlo && r < rhi)) return -1;
    long i = std::min<long>(nb - 1, long((m - mlo) / (mhi - mlo) * nb));
    long j = std::min<long>(nb - 1, long((r - rlo) / (rhi - rlo) * nb));
    return i * nb + j;
  };
  std::vector<double> ht(std::size_t(nb * nb)), hs(std::size_t(nb * nb));
  for (std::size_t i = 0; i < tgt.magnitude.size(); ++i) ht[std::size_t(bin(tgt.magnitude[i], tgt.log_rhalf[i]))] += 1;
  std::vector<long> b(src.magnitude.size());
  for (std::size_t i = 0; i < b.size(); ++i) {
    b[i] = bin(src.magnitude[i], src.log_rhalf[i]);
    if (b[i] >= 0) hs[std::size_t(b[i])] += 1;
  }
  std::vector<double> w(b.size());
  double sum = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    w[i] = b[i] < 0 ? 0 : ht[std::size_t(b[i])] / hs[std::size_t(b[i])];
    sum += w[i];
  }
  require(sum > 0, "population matching: no source falls where the target population lies");
  for (auto& x : w) x *= double(w.size()) / sum;
  return w;
}

}  // namespace ds::lens
