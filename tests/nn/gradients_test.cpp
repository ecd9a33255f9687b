// Gradient checks: every kernel's backward against central finite differences
// in double precision on random shapes and values, and the float tape of a
// whole network against finite differences with a stated float tolerance.
#include <cmath>
#include <functional>
#include <vector>

#include "deepshear/engine/random.hpp"
#include "deepshear/nn/network.hpp"
#include "deepshear/nn/ops.hpp"
#include "deepshear/nn/tape.hpp"
#include "test_support.hpp"

using namespace ds::nn;

namespace {

std::vector<double> randv(ds::RandomStream& r, long n, double lo = -1, double hi = 1) {
  std::vector<double> v(static_cast<std::size_t>(n));
  for (auto& x : v) x = r.uniform(lo, hi);
  return v;
}

// Checks analytic gradient `g` of f at `x` against central differences (double).
void check_fd(const char* what, std::vector<double>& x, const std::vector<double>& g,
              const std::function<double()>& f, double tol = 1e-6) {
  const double h = 1e-6;
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    double keep = x[i];
    x[i] = keep + h;
    double fp = f();
    x[i] = keep - h;
    double fm = f();
    x[i] = keep;
    double fd = (fp - fm) / (2 * h);
    double err = std::fabs(fd - g[i]) / std::max(1.0, std::fabs(fd));
    worst = std::max(worst, err);
  }
  INFO(what << ": worst relative error " << worst);
  CHECK(worst < tol);
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

}  // namespace

TEST_CASE("conv2d gradients match central differences on random shapes (double)") {
  for (int trial = 0; trial < 4; ++trial) {
    ds::RandomStream r(7, "test.conv", std::uint64_t(trial));
    const long n = r.integer(1, 2), c = r.integer(1, 3), o = r.integer(1, 4), k = r.integer(1, 3),
               s = r.integer(1, 3), h = k + r.integer(0, 5), w = k + r.integer(0, 5);
    const long ho = conv_out(h, k, s), wo = conv_out(w, k, s);
    auto x = randv(r, n * h * w * c), wt = randv(r, k * k * c * o), b = randv(r, o), R = randv(r, n * ho * wo * o);
    std::vector<double> cols(static_cast<std::size_t>(n * ho * wo * k * k * c)), dcols(cols.size()),
        y(static_cast<std::size_t>(n * ho * wo * o));
    auto f = [&] {
      conv2d_forward(x.data(), n, h, w, c, wt.data(), b.data(), k, s, o, cols.data(), y.data());
      return dot(y, R);
    };
    f();
    std::vector<double> dx(x.size()), dw(wt.size()), db(b.size());
    conv2d_backward(x.data(), cols.data(), n, h, w, c, wt.data(), k, s, o, R.data(), dx.data(), dw.data(), db.data(),
                    dcols.data());
    check_fd("conv dx", x, dx, f);
    check_fd("conv dw", wt, dw, f);
    check_fd("conv db", b, db, f);
  }
}

TEST_CASE("conv2d forward matches a naive loop (valid padding, stride, NHWC, [k][k][c][o])") {
  ds::RandomStream r(8, "test.conv.naive");
  const long n = 2, h = 11, w = 9, c = 2, o = 3, k = 3, s = 2, ho = conv_out(h, k, s), wo = conv_out(w, k, s);
  auto x = randv(r, n * h * w * c), wt = randv(r, k * k * c * o), b = randv(r, o);
  std::vector<double> cols(static_cast<std::size_t>(n * ho * wo * k * k * c)), y(static_cast<std::size_t>(n * ho * wo * o));
  conv2d_forward(x.data(), n, h, w, c, wt.data(), b.data(), k, s, o, cols.data(), y.data());
  double worst = 0;
  for (long bi = 0; bi < n; ++bi)
    for (long oy = 0; oy < ho; ++oy)
      for (long ox = 0; ox < wo; ++ox)
        for (long oc = 0; oc < o; ++oc) {
          double acc = b[std::size_t(oc)];
          for (long ky = 0; ky < k; ++ky)
            for (long kx = 0; kx < k; ++kx)
              for (long ic = 0; ic < c; ++ic)
                acc += x[std::size_t(((bi * h + oy * s + ky) * w + ox * s + kx) * c + ic)] *
                       wt[std::size_t(((ky * k + kx) * c + ic) * o + oc)];
          worst = std::max(worst, std::fabs(acc - y[std::size_t(((bi * ho + oy) * wo + ox) * o + oc)]));
        }
  CHECK(worst < 1e-12);
}

TEST_CASE("affine, relu, tanh and dropout-mask gradients match central differences (double)") {
  ds::RandomStream r(9, "test.affine");
  const long n = 3, i = 7, o = 4;
  auto x = randv(r, n * i), wt = randv(r, i * o), b = randv(r, o), R = randv(r, n * o);
  std::vector<double> y(static_cast<std::size_t>(n * o));
  auto f = [&] {
    affine_forward(x.data(), n, i, wt.data(), b.data(), o, y.data());
    return dot(y, R);
  };
  f();
  std::vector<double> dx(x.size()), dw(wt.size()), db(b.size());
  affine_backward(x.data(), n, i, wt.data(), o, R.data(), dx.data(), dw.data(), db.data());
  check_fd("affine dx", x, dx, f);
  check_fd("affine dw", wt, dw, f);
  check_fd("affine db", b, db, f);

  // Element-wise ops; relu inputs kept away from its kink at 0.
  const long m = 40;
  auto v = randv(r, m, -2, 2);
  for (auto& e : v)
    if (std::fabs(e) < 0.05) e = 0.3;
  auto Rm = randv(r, m);
  std::vector<double> out(static_cast<std::size_t>(m)), dv(static_cast<std::size_t>(m));
  auto frelu = [&] {
    relu_forward(v.data(), m, out.data());
    return dot(out, Rm);
  };
  frelu();
  relu_backward(out.data(), m, Rm.data(), dv.data());
  check_fd("relu", v, dv, frelu);
  auto ftanh = [&] {
    tanh_forward(v.data(), m, out.data());
    return dot(out, Rm);
  };
  ftanh();
  std::fill(dv.begin(), dv.end(), 0.0);
  tanh_backward(out.data(), m, Rm.data(), dv.data());
  check_fd("tanh", v, dv, ftanh);
  std::vector<float> mask(static_cast<std::size_t>(m));
  for (long j = 0; j < m; ++j) mask[std::size_t(j)] = (j % 3 == 0) ? 0.0f : 1.0f / 0.7f;
  auto fmask = [&] {
    mask_forward(v.data(), mask.data(), m, out.data());
    return dot(out, Rm);
  };
  fmask();
  std::fill(dv.begin(), dv.end(), 0.0);
  mask_backward(mask.data(), m, Rm.data(), dv.data());
  check_fd("dropout mask", v, dv, fmask);
}

TEST_CASE("mse and Gaussian NLL losses: values and gradients (double)") {
  ds::RandomStream r(10, "test.loss");
  const long n = 4, m = 2;
  auto p = randv(r, n * m), t = randv(r, n * m);
  // MSE closed form.
  double ref = 0;
  for (std::size_t j = 0; j < p.size(); ++j) ref += (p[j] - t[j]) * (p[j] - t[j]);
  CHECK(mse_forward(p.data(), t.data(), n * m) == doctest::Approx(ref / double(n * m)).epsilon(1e-14));
  std::vector<double> dp(p.size());
  mse_backward(p.data(), t.data(), n * m, 1.0, dp.data());
  check_fd("mse", p, dp, [&] { return mse_forward(p.data(), t.data(), n * m); });

  auto out = randv(r, n * 2 * m);
  std::vector<double> dout(out.size());
  // Closed form for one sample, one component (out = [mu, s]):
  // 0.5 (s + (t - mu)^2 e^-s + log 2 pi).
  double one = 0.5 * (out[1] + std::pow(t[0] - out[0], 2) * std::exp(-out[1]) + std::log(2 * M_PI));
  CHECK(gaussian_nll_forward(out.data(), t.data(), 1, 1) == doctest::Approx(one).epsilon(1e-14));
  gaussian_nll_backward(out.data(), t.data(), n, m, 1.0, dout.data());
  check_fd("gaussian nll", out, dout, [&] { return gaussian_nll_forward(out.data(), t.data(), n, m); });
}

TEST_CASE("tape: whole-network float gradients match finite differences (float tolerance 2e-2)") {
  // A small network with every op: conv (stride 2), conv 1x1, flatten, affine,
  // tanh, relu, dropout (its mask fixed by the step), mse.
  Architecture a = Architecture::parse("input 9 9 2; conv 4 3 2 tanh; conv 3 1 1 relu; affine 6 tanh 0.25; affine 2 none 0");
  Network net(a);
  net.init_glorot(3);
  ds::RandomStream r(11, "test.tape");
  for (long j = 0; j < net.num_params(); ++j) net.params()[j] += float(r.uniform(-0.1, 0.1));
  const long n = 3;
  std::vector<float> x(static_cast<std::size_t>(n * 81 * 2)), y(static_cast<std::size_t>(n * 2));
  for (auto& v : x) v = float(r.uniform(-1, 1));
  for (auto& v : y) v = float(r.uniform(-1, 1));
  Network::Pass pass;
  pass.training = true;
  pass.seed = 5;
  pass.step = 2;
  auto loss_of = [&] {
    Tape t;
    auto out = net.forward(t, x.data(), n, pass);
    return t.loss(t.mse(out, t.input(y.data(), {n, 2})));
  };
  net.zero_grads();
  {
    Tape t;
    auto out = net.forward(t, x.data(), n, pass);
    auto l = t.mse(out, t.input(y.data(), {n, 2}));
    t.backward(l);
  }
  std::vector<float> g(net.grads(), net.grads() + net.num_params());
  double gmax = 0;
  for (float v : g) gmax = std::max(gmax, double(std::fabs(v)));
  REQUIRE(gmax > 0);
  int bad = 0;
  const float h = 1e-4f;
  for (long j = 0; j < net.num_params(); ++j) {
    float keep = net.params()[j];
    net.params()[j] = keep + h;
    double fp = loss_of();
    net.params()[j] = keep - h;
    double fm = loss_of();
    net.params()[j] = keep;
    double fd = (fp - fm) / (2.0 * double(h));
    if (std::fabs(fd - double(g[std::size_t(j)])) > 2e-2 * std::max(gmax * 0.1, std::fabs(fd))) {
      ++bad;
      MESSAGE("param " << j << ": tape " << g[std::size_t(j)] << " fd " << fd);
    }
  }
  CHECK(bad <= 1);  // at most one relu kink crossed by the +-h step
}

TEST_CASE("tape: separate relu, tanh, dropout and flatten nodes, gradient w.r.t. an input (float, 2e-2)") {
  // x[2][3][3][2] (variable) -> conv 2x2 -> tanh node -> flatten -> dropout node
  // -> affine -> relu node -> gaussian NLL against targets.
  ds::RandomStream r(13, "test.tape.nodes");
  std::vector<float> x(2 * 3 * 3 * 2), w1(2 * 2 * 2 * 3), b1(3), w2(12 * 4), b2(4), t(4);
  for (auto* v : {&x, &w1, &b1, &w2, &b2, &t})
    for (auto& e : *v) e = float(r.uniform(-1, 1));
  for (auto& e : b2) e = float(r.uniform(0.2, 1));  // keep the relu mostly active
  std::vector<float> gw1(w1.size()), gb1(b1.size()), gw2(w2.size()), gb2(b2.size());
  std::vector<float> gx;
  auto run = [&](bool grads) {
    Tape tp;
    auto xi = tp.variable(x.data(), {2, 3, 3, 2});
    auto h = tp.conv2d(xi, tp.param(w1.data(), gw1.data(), {2, 2, 2, 3}), tp.param(b1.data(), gb1.data(), {3}), 1);
    h = tp.tanh(h);
    h = tp.flatten(h);
    h = tp.dropout(h, 0.25, true, 3, 4, 0);
    h = tp.affine(h, tp.param(w2.data(), gw2.data(), {12, 4}), tp.param(b2.data(), gb2.data(), {4}));
    h = tp.relu(h);
    auto loss = tp.gaussian_nll(h, tp.input(t.data(), {2, 2}));
    if (grads) {
      tp.backward(loss);
      gx.assign(tp.grad(xi), tp.grad(xi) + x.size());
    }
    return tp.loss(loss);
  };
  run(true);
  double gmax = 0;
  for (float v : gx) gmax = std::max(gmax, double(std::fabs(v)));
  REQUIRE(gmax > 0);
  int bad = 0;
  const float h = 1e-3f;
  for (std::size_t j = 0; j < x.size(); ++j) {
    float keep = x[j];
    x[j] = keep + h;
    double fp = run(false);
    x[j] = keep - h;
    double fm = run(false);
    x[j] = keep;
    double fd = (fp - fm) / (2.0 * double(h));
    if (std::fabs(fd - gx[j]) > 2e-2 * std::max(gmax * 0.1, std::fabs(fd))) ++bad;
  }
  CHECK(bad == 0);
  // Parameter gradients accumulate (+=) across backward passes, as documented.
  std::vector<float> once(gw2);
  run(true);
  for (std::size_t j = 0; j < gw2.size(); ++j) CHECK(gw2[j] == doctest::Approx(2 * once[j]).epsilon(1e-5));
}
