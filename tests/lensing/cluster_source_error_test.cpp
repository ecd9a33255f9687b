// Per-source statistical errors (eqs. 21-23) on mocks with a known noise level.
#include <doctest/doctest.h>

#include <cmath>

#include "deepshear/engine/error.hpp"
#include "deepshear/lensing/cluster/mock_field.hpp"
#include "deepshear/lensing/cluster/source_error.hpp"

using namespace ds::lens;

TEST_CASE("cluster source error: sigma_source recovers the injected per-source noise") {
  // A smooth field (scales >> lambda) plus noise 0.25 (rrg) and 0.18 (cnn) per component.
  auto shear = [](double x, double y) { return Complex(0.08 * std::cos(x / 80.0), 0.06 * std::sin(y / 70.0)); };
  std::vector<SourceCatalogue> fields;
  std::vector<MockField> mocks;
  for (int f = 0; f < 2; ++f) {
    mocks.push_back(mock_field(500, 240, 240, shear, {{"rrg", 0.25}, {"cnn", 0.18}}, 4, std::uint64_t(f)));
    fields.push_back(mocks.back().sources);
  }
  SourceErrorOptions o;
  o.lambdas = {10, 19.5, 40};
  o.nsplit = 8;
  o.nboot = 50;
  SourceErrors r = source_errors(fields, o);
  REQUIRE(r.source.size() == 12);
  for (int e = 0; e < 2; ++e)
    for (int c = 0; c < 2; ++c) {
      // The actual RMS of (estimate - truth) over all sources.
      double q = 0;
      long n = 0;
      for (const auto& m : mocks)
        for (long j = 0; j < m.sources.size(); ++j) {
          const double d = (c == 0 ? m.sources.g1 : m.sources.g2)[std::size_t(e)][std::size_t(j)] -
                           (c == 0 ? m.g1_true : m.g2_true)[std::size_t(j)];
          q += d * d, ++n;
        }
      const double rms = std::sqrt(q / double(n)), injected = e == 0 ? 0.25 : 0.18;
      for (int l = 0; l < 3; ++l) {
        const Estimate s = r.sigma_source(l, e, c);
        INFO("lambda " << o.lambdas[std::size_t(l)] << " estimator " << e << " component " << c << ": " << s.value
                       << " +- " << s.err << ", rms " << rms);
        CHECK(s.err > 0);
        CHECK(s.err < 0.03);
        CHECK(std::abs(s.value - injected) < 3 * s.err);
        CHECK(std::abs(s.value - rms) < 3 * s.err);
        // sigma^2_fs = sigma^2_source + sigma^2_field.
        CHECK(r.field_source[std::size_t(r.index(l, e, c))].value > s.value);
      }
      // The field error falls with the smoothing length (Figure 16).
      CHECK(r.field[std::size_t(r.index(0, e, c))].value > r.field[std::size_t(r.index(1, e, c))].value);
      CHECK(r.field[std::size_t(r.index(1, e, c))].value > r.field[std::size_t(r.index(2, e, c))].value);
    }
  o.nsplit = 1;
  CHECK_THROWS_AS(source_errors(fields, o), ds::Error);
}
