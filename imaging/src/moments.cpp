// Flux, centroids, half-light radius, unweighted, Gaussian-weighted and
// adaptive moments. Every function is written once as a template over the
// pixel type and exposed for float and double views.
#include "deepshear/imaging/moments.hpp"

// GCC 12: false -W(maybe-)uninitialized inside Eigen's AVX-512 kernels.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

namespace ds::img {

namespace {

template <class T>
double flux_impl(ImageView<const T> im) {
  return im.sum();
}

template <class T>
Centroid centroid_impl(ImageView<const T> im, double sigma, double x0, double y0, int max_iter, double tol) {
  require(sigma > 0, "weighted_centroid: weight sigma " + std::to_string(sigma) + " must be positive");
  Centroid c;
  c.x = std::isnan(x0) ? 0.5 * double(im.nx() - 1) : x0;
  c.y = std::isnan(y0) ? 0.5 * double(im.ny() - 1) : y0;
  if (im.size() == 0) return c;
  const double inv2s2 = 0.5 / (sigma * sigma);
  const double reach = 6 * sigma;
  for (int it = 1; it <= max_iter; ++it) {
    long ylo = std::max(0L, long(std::floor(c.y - reach))), yhi = std::min(im.ny() - 1, long(std::ceil(c.y + reach)));
    long xlo = std::max(0L, long(std::floor(c.x - reach))), xhi = std::min(im.nx() - 1, long(std::ceil(c.x + reach)));
    double s = 0, sx = 0, sy = 0;
    for (long y = ylo; y <= yhi; ++y) {
      const double dy = double(y) - c.y;
      for (long x = xlo; x <= xhi; ++x) {
        const double dx = double(x) - c.x;
        const double wi = std::exp(-(dx * dx + dy * dy) * inv2s2) * double(im(y, x));
        s += wi;
        sx += wi * dx;
        sy += wi * dy;
      }
    }
    c.iterations = it;
    if (!(s > 0) || !std::isfinite(s)) return c;  // no positive weighted flux: not converged
    const double stx = sx / s, sty = sy / s;
    c.x += stx;
    c.y += sty;
    if (std::abs(stx) < tol && std::abs(sty) < tol) {
      c.converged = true;
      return c;
    }
  }
  return c;
}

template <class T>
double hlr_impl(ImageView<const T> im, double x0, double y0, double total, int sub) {
  require(sub >= 1, "half_light_radius: subsample must be >= 1");
  if (std::isnan(total)) total = im.sum();
  if (!(total > 0)) return std::numeric_limits<double>::quiet_NaN();
  // The sub-pixels sorted by distance depend only on the geometry: sorted once
  // per (shape, centre, subsample) and thread, then reused (a stack of
  // stamps measured about their centres sorts once).
  struct Order {
    long ny = -1, nx = -1;
    double x0 = 0, y0 = 0;
    int sub = 0;
    std::vector<std::pair<double, long>> rp;  // (radius, pixel index y * nx + x)
  };
  thread_local Order order;
  if (order.ny != im.ny() || order.nx != im.nx() || order.x0 != x0 || order.y0 != y0 || order.sub != sub) {
    order.ny = im.ny(), order.nx = im.nx(), order.x0 = x0, order.y0 = y0, order.sub = sub;
    order.rp.clear();
    order.rp.reserve(std::size_t(im.size()) * std::size_t(sub * sub));
    for (long y = 0; y < im.ny(); ++y)
      for (long x = 0; x < im.nx(); ++x)
        for (int a = 0; a < sub; ++a) {
          const double dy = double(y) - 0.5 + (a + 0.5) / sub - y0;
          for (int b = 0; b < sub; ++b) {
            const double dx = double(x) - 0.5 + (b + 0.5) / sub - x0;
            order.rp.emplace_back(std::sqrt(dx * dx + dy * dy), y * im.nx() + x);
          }
        }
    std::sort(order.rp.begin(), order.rp.end());
  }
  const double share = 1.0 / double(sub * sub);
  const double half = 0.5 * total;
  double cum = 0, r_prev = 0;
  for (const auto& [r, idx] : order.rp) {
    const double f = double(im(idx / im.nx(), idx % im.nx())) * share;
    const double next = cum + f;
    if (next >= half) {
      // The sub-pixel's flux is spread over the radii between the previous
      // sub-pixel and this one.
      const double t = f > 0 ? (half - cum) / f : 1.0;
      return r_prev + t * (r - r_prev);
    }
    cum = next;
    r_prev = r;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

template <class T>
UnweightedMoments unweighted_impl(ImageView<const T> im) {
  UnweightedMoments m;
  double s = 0, sx = 0, sy = 0;
  for (long y = 0; y < im.ny(); ++y)
    for (long x = 0; x < im.nx(); ++x) {
      const double v = double(im(y, x));
      s += v;
      sx += v * double(x);
      sy += v * double(y);
    }
  m.flux = s;
  if (s == 0) return m;
  m.x = sx / s;
  m.y = sy / s;
  double sxx = 0, sxy = 0, syy = 0;
  for (long y = 0; y < im.ny(); ++y)
    for (long x = 0; x < im.nx(); ++x) {
      const double v = double(im(y, x)), dx = double(x) - m.x, dy = double(y) - m.y;
      sxx += v * dx * dx;
      sxy += v * dx * dy;
      syy += v * dy * dy;
    }
  m.mxx = sxx / s;
  m.mxy = sxy / s;
  m.myy = syy / s;
  return m;
}

template <class T>
WeightedMoments weighted_impl(ImageView<const T> im, const GaussianWeight& w, double max_rho2, bool abs_i) {
  const double det = w.mxx * w.myy - w.mxy * w.mxy;
  require(w.mxx > 0 && w.myy > 0 && det > 0,
          "gaussian_weighted_moments: weight covariance [[" + std::to_string(w.mxx) + ", " + std::to_string(w.mxy) +
              "], [" + std::to_string(w.mxy) + ", " + std::to_string(w.myy) + "]] is not positive definite");
  const double ixx = w.myy / det, ixy = -w.mxy / det, iyy = w.mxx / det;
  long xlo = 0, xhi = im.nx() - 1, ylo = 0, yhi = im.ny() - 1;
  if (std::isfinite(max_rho2)) {
    // The ellipse rho^2 <= max_rho2 lies within |dx| <= sqrt(max_rho2 mxx), |dy| <= sqrt(max_rho2 myy).
    // Bounds are clamped in double before conversion (a huge max_rho2 must not overflow a long).
    const double rx = std::sqrt(max_rho2 * w.mxx), ry = std::sqrt(max_rho2 * w.myy);
    auto clampd = [](double v, long lo, long hi) { return long(std::min(std::max(v, double(lo)), double(hi))); };
    xlo = clampd(std::ceil(w.x0 - rx), 0, im.nx());
    xhi = clampd(std::floor(w.x0 + rx), -1, im.nx() - 1);
    ylo = clampd(std::ceil(w.y0 - ry), 0, im.ny());
    yhi = clampd(std::floor(w.y0 + ry), -1, im.ny() - 1);
  }
  WeightedMoments m;
  double s = 0, sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
  double s4a = 0, s4b = 0, s4c = 0, s4d = 0, s4e = 0, sr4 = 0;
  long used = 0;
  // Per row: rho^2 for every pixel, then one vectorised exp over the row.
  const long width = std::max(0L, xhi - xlo + 1);
  thread_local Eigen::ArrayXd rho2_row, wt_row;
  if (rho2_row.size() < width) {
    rho2_row.resize(width);
    wt_row.resize(width);
  }
  for (long y = ylo; y <= yhi; ++y) {
    const double dy = double(y) - w.y0;
    const T* row = im.row(y);
    for (long j = 0; j < width; ++j) {
      const double dx = double(xlo + j) - w.x0;
      rho2_row[j] = ixx * dx * dx + 2 * ixy * dx * dy + iyy * dy * dy;
    }
    wt_row.head(width) = (-0.5 * rho2_row.head(width)).exp();
    for (long j = 0; j < width; ++j) {
      const double rho2 = rho2_row[j];
      if (rho2 > max_rho2) continue;
      const double dx = double(xlo + j) - w.x0;
      const double wt = wt_row[j];
      double v = double(row[xlo + j]);
      if (abs_i) v = std::abs(v);
      const double wi = wt * v;
      ++used;
      sw += wt;
      s += wi;
      sx += wi * dx;
      sy += wi * dy;
      const double xx = dx * dx, xy = dx * dy, yy = dy * dy;
      sxx += wi * xx;
      sxy += wi * xy;
      syy += wi * yy;
      s4a += wi * xx * xx;
      s4b += wi * xx * xy;
      s4c += wi * xx * yy;
      s4d += wi * xy * yy;
      s4e += wi * yy * yy;
      sr4 += wi * rho2 * rho2;
    }
  }
  m.pixels = used;
  m.sum_w = sw;
  m.sum_wi = s;
  if (s == 0) return m;
  m.x = sx / s;
  m.y = sy / s;
  m.xx = sxx / s;
  m.xy = sxy / s;
  m.yy = syy / s;
  m.xxxx = s4a / s;
  m.xxxy = s4b / s;
  m.xxyy = s4c / s;
  m.xyyy = s4d / s;
  m.yyyy = s4e / s;
  m.rho4 = sr4 / s;
  return m;
}

std::string fmt(double v) {
  std::ostringstream o;
  o.precision(6);
  o << v;
  return o.str();
}

template <class T>
AdaptiveMoments adaptive_impl(ImageView<const T> im, const AdaptiveParams& p) {
  AdaptiveMoments r;
  auto fail = [&](MomentStatus s, const std::string& msg) {
    r.status = s;
    r.message = msg;
    return r;
  };
  if (im.size() == 0) return fail(MomentStatus::EmptyImage, "empty image (0 pixels)");
  for (long y = 0; y < im.ny(); ++y)
    for (long x = 0; x < im.nx(); ++x)
      if (!std::isfinite(double(im(y, x))))
        return fail(MomentStatus::EmptyImage,
                    "pixel (x=" + std::to_string(x) + ", y=" + std::to_string(y) + ") is not finite");
  require(p.sigma_guess > 0, "adaptive_moments: sigma_guess " + fmt(p.sigma_guess) + " must be positive");
  const double xg = std::isnan(p.x_guess) ? 0.5 * double(im.nx() - 1) : p.x_guess;
  const double yg = std::isnan(p.y_guess) ? 0.5 * double(im.ny() - 1) : p.y_guess;
  GaussianWeight w;
  w.x0 = xg;
  w.y0 = yg;
  w.mxx = w.myy = p.sigma_guess * p.sigma_guess;
  w.mxy = 0;
  WeightedMoments m;
  for (int it = 1; it <= p.max_iter; ++it) {
    r.iterations = it;
    m = weighted_impl(im, w, p.max_rho2, false);
    if (!(m.sum_wi > 0))
      return fail(MomentStatus::EmptyImage, "no positive weighted flux (sum W I = " + fmt(m.sum_wi) + ") at iteration " +
                                                std::to_string(it) + ", centroid (" + fmt(w.x0) + ", " + fmt(w.y0) +
                                                ")");
    // The product I W of Gaussians of equal covariance M has covariance M / 2
    // and lies halfway between their centres: step the centroid by twice the
    // first moment and set M to twice the central second moments.
    double dx = 2 * m.x, dy = 2 * m.y;
    double nxx = 2 * (m.xx - m.x * m.x), nxy = 2 * (m.xy - m.x * m.y), nyy = 2 * (m.yy - m.y * m.y);
    // Bound each step: the centroid moves at most one weight sigma, the size
    // changes at most by a factor 4 in area.
    const double s_old = std::sqrt(std::sqrt(w.mxx * w.myy - w.mxy * w.mxy));
    const double step = std::hypot(dx, dy);
    if (step > s_old) {
      dx *= s_old / step;
      dy *= s_old / step;
    }
    const double det_new = nxx * nyy - nxy * nxy;
    if (!std::isfinite(det_new))
      return fail(MomentStatus::BadMoments, "second moments are not finite at iteration " + std::to_string(it));
    const double lam0 = 0.5 * (nxx + nyy) - std::sqrt(0.25 * (nxx - nyy) * (nxx - nyy) + nxy * nxy);
    if (!(lam0 >= p.min_sigma2))
      return fail(MomentStatus::BadMoments, "moments too small or not positive-definite: smallest eigenvalue " +
                                                fmt(lam0) + " px^2 < " + fmt(p.min_sigma2) + " (Mxx " + fmt(nxx) +
                                                ", Mxy " + fmt(nxy) + ", Myy " + fmt(nyy) + ") at iteration " +
                                                std::to_string(it));
    const double area_ratio = std::sqrt(det_new) / std::sqrt(w.mxx * w.myy - w.mxy * w.mxy);
    if (area_ratio > 4 || area_ratio < 0.25) {
      const double f = (area_ratio > 4 ? 4.0 : 0.25) / area_ratio;
      nxx *= f, nxy *= f, nyy *= f;
    }
    const double lam_min = 0.5 * (nxx + nyy) - std::sqrt(0.25 * (nxx - nyy) * (nxx - nyy) + nxy * nxy);
    if (lam_min < p.min_sigma2)
      return fail(MomentStatus::BadMoments, "moments too small: smallest eigenvalue " + fmt(lam_min) + " px^2 < " +
                                                fmt(p.min_sigma2) + " at iteration " + std::to_string(it));
    if (0.5 * (nxx + nyy) > p.max_sigma2)
      return fail(MomentStatus::BadMoments, "moments too large: (Mxx + Myy) / 2 = " + fmt(0.5 * (nxx + nyy)) +
                                                " px^2 > " + fmt(p.max_sigma2) + " at iteration " + std::to_string(it));
    const double s2 = std::sqrt(w.mxx * w.myy - w.mxy * w.mxy);
    const double dm = std::max({std::abs(nxx - w.mxx), std::abs(nxy - w.mxy), std::abs(nyy - w.myy)}) / s2;
    w.x0 += dx;
    w.y0 += dy;
    w.mxx = nxx;
    w.mxy = nxy;
    w.myy = nyy;
    if (std::hypot(w.x0 - xg, w.y0 - yg) > p.max_shift)
      return fail(MomentStatus::CentroidShift, "centroid moved " + fmt(std::hypot(w.x0 - xg, w.y0 - yg)) +
                                                   " px from the guess (" + fmt(xg) + ", " + fmt(yg) + "), more than " +
                                                   fmt(p.max_shift) + " at iteration " + std::to_string(it));
    r.x = w.x0;
    r.y = w.y0;
    r.mxx = w.mxx;
    r.mxy = w.mxy;
    r.myy = w.myy;
    r.amplitude = 2 * m.sum_wi;
    r.rho4 = m.rho4;
    if (std::abs(dx) < p.tolerance && std::abs(dy) < p.tolerance && dm < p.tolerance) {
      r.status = MomentStatus::Ok;
      r.message.clear();
      r.sigma = std::sqrt(std::sqrt(r.mxx * r.myy - r.mxy * r.mxy));
      r.e1 = (r.mxx - r.myy) / (r.mxx + r.myy);
      r.e2 = 2 * r.mxy / (r.mxx + r.myy);
      return r;
    }
  }
  r.sigma = std::sqrt(std::sqrt(r.mxx * r.myy - r.mxy * r.mxy));
  r.e1 = (r.mxx - r.myy) / (r.mxx + r.myy);
  r.e2 = 2 * r.mxy / (r.mxx + r.myy);
  return fail(MomentStatus::NotConverged,
              "adaptive moments did not converge in " + std::to_string(p.max_iter) + " iterations (last centroid (" +
                  fmt(r.x) + ", " + fmt(r.y) + "), sigma " + fmt(r.sigma) + ")");
}

}  // namespace

GaussianWeight GaussianWeight::round(double x0, double y0, double sigma) {
  require(sigma > 0, "GaussianWeight: sigma " + std::to_string(sigma) + " must be positive");
  GaussianWeight w;
  w.x0 = x0;
  w.y0 = y0;
  w.mxx = w.myy = sigma * sigma;
  w.mxy = 0;
  return w;
}

GaussianWeight GaussianWeight::elliptical(double x0, double y0, double sigma, double e1, double e2) {
  const double e2sum = e1 * e1 + e2 * e2;
  require(sigma > 0 && e2sum < 1, "GaussianWeight: need sigma > 0 and |e| < 1, got sigma " + std::to_string(sigma) +
                                      ", e (" + std::to_string(e1) + ", " + std::to_string(e2) + ")");
  // M = T/2 [[1 + e1, e2], [e2, 1 - e1]] with det M = sigma^4: (T/2)^2 (1 - e^2) = sigma^4.
  const double half_t = sigma * sigma / std::sqrt(1 - e2sum);
  GaussianWeight w;
  w.x0 = x0;
  w.y0 = y0;
  w.mxx = half_t * (1 + e1);
  w.myy = half_t * (1 - e1);
  w.mxy = half_t * e2;
  return w;
}

const char* to_string(MomentStatus s) {
  switch (s) {
    case MomentStatus::Ok: return "ok";
    case MomentStatus::NotConverged: return "not converged";
    case MomentStatus::BadMoments: return "bad moments";
    case MomentStatus::CentroidShift: return "centroid shift too large";
    case MomentStatus::EmptyImage: return "empty or non-finite image";
  }
  return "unknown";
}

double flux(ImageView<const float> im) { return flux_impl(im); }
double flux(ImageView<const double> im) { return flux_impl(im); }

Centroid weighted_centroid(ImageView<const float> im, double sigma, double x0, double y0, int max_iter, double tol) {
  return centroid_impl(im, sigma, x0, y0, max_iter, tol);
}
Centroid weighted_centroid(ImageView<const double> im, double sigma, double x0, double y0, int max_iter, double tol) {
  return centroid_impl(im, sigma, x0, y0, max_iter, tol);
}

double half_light_radius(ImageView<const float> im, double x0, double y0, double total, int subsample) {
  return hlr_impl(im, x0, y0, total, subsample);
}
double half_light_radius(ImageView<const double> im, double x0, double y0, double total, int subsample) {
  return hlr_impl(im, x0, y0, total, subsample);
}

UnweightedMoments unweighted_moments(ImageView<const float> im) { return unweighted_impl(im); }
UnweightedMoments unweighted_moments(ImageView<const double> im) { return unweighted_impl(im); }

WeightedMoments gaussian_weighted_moments(ImageView<const float> im, const GaussianWeight& w, double max_rho2,
                                          bool abs_intensity) {
  return weighted_impl(im, w, max_rho2, abs_intensity);
}
WeightedMoments gaussian_weighted_moments(ImageView<const double> im, const GaussianWeight& w, double max_rho2,
                                          bool abs_intensity) {
  return weighted_impl(im, w, max_rho2, abs_intensity);
}

AdaptiveMoments adaptive_moments(ImageView<const float> im, const AdaptiveParams& p) { return adaptive_impl(im, p); }
AdaptiveMoments adaptive_moments(ImageView<const double> im, const AdaptiveParams& p) { return adaptive_impl(im, p); }

}  // namespace ds::img
