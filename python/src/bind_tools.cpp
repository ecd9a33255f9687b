// The tools users reach for beside the journeys: the noise-kernel estimate,
// adaptive moments, shear algebra, threads and build facts.
#include <pybind11/complex.h>
#include <pybind11/stl.h>

#include <cmath>
#include <vector>

#include "arrays.hpp"
#include "call.hpp"
#include "deepshear/engine/build_info.hpp"
#include "deepshear/engine/data_path.hpp"
#include "deepshear/engine/fits.hpp"
#include "deepshear/engine/parallel.hpp"
#include "deepshear/imaging/moments.hpp"
#include "deepshear/imaging/noise.hpp"
#include "deepshear/lensing/shear.hpp"

namespace ds::py {

namespace {

namespace pyb = pybind11;

// The 7 x 7 kernel (float64, [y, x], centre (3, 3)) of an image's background
// noise; mask (same shape, non-zero = source or bad pixel) may be None.
pyb::array_t<double> noise_kernel(const pyb::handle& image, const pyb::handle& mask, long step, int threads) {
  const StampArray im = image_array(image, "deepshear.noise_kernel: image");
  std::vector<unsigned char> m(std::size_t(im.ny * im.nx), 0);
  if (!mask.is_none()) {
    auto a = pyb::array_t<unsigned char, pyb::array::c_style | pyb::array::forcecast>::ensure(mask);
    if (!a || a.ndim() != 2 || a.shape(0) != im.ny || a.shape(1) != im.nx)
      throw pyb::value_error("deepshear.noise_kernel: mask must have the image's shape (" + std::to_string(im.ny) +
                             ", " + std::to_string(im.nx) + ")");
    std::copy(a.data(), a.data() + a.size(), m.begin());
  }
  if (step < 1) throw pyb::value_error("deepshear.noise_kernel: step = " + std::to_string(step) + " must be >= 1");
  const img::NoiseKernel k = released(threads, false, [&] {
    return img::estimate_noise_kernel(ImageView<const float>(im.data, im.ny, im.nx),
                                      ImageView<const unsigned char>(m.data(), im.ny, im.nx), step);
  });
  pyb::array_t<double> out({img::NoiseKernel::kSize, img::NoiseKernel::kSize});
  for (long y = 0; y < img::NoiseKernel::kSize; ++y)
    for (long x = 0; x < img::NoiseKernel::kSize; ++x) out.mutable_at(y, x) = k(y, x);
  return out;
}

pyb::dict adaptive_moments(const pyb::handle& image, double sigma_guess, double x_guess, double y_guess) {
  const StampArray im = image_array(image, "deepshear.adaptive_moments: image");
  img::AdaptiveParams p;
  p.sigma_guess = sigma_guess, p.x_guess = x_guess, p.y_guess = y_guess;
  const auto a = img::adaptive_moments(ImageView<const float>(im.data, im.ny, im.nx), p);
  pyb::dict d;
  d["ok"] = a.ok(), d["message"] = a.message, d["amplitude"] = a.amplitude;
  d["x"] = a.x, d["y"] = a.y, d["mxx"] = a.mxx, d["mxy"] = a.mxy, d["myy"] = a.myy;
  d["sigma"] = a.sigma, d["e1"] = a.e1, d["e2"] = a.e2, d["rho4"] = a.rho4, d["iterations"] = a.iterations;
  return d;
}

// A FITS table (the first table HDU, or the one named `extname`) as a dict
// of arrays: integer columns as int64, other numbers as float64 (vector
// columns 2-d), strings as lists.
pyb::dict read_table(const std::string& path, const std::string& extname) {
  fits::FitsFile f(path);
  if (!extname.empty()) f.hdu(extname);
  for (int h = 0; h < f.num_hdus() && extname.empty(); ++h)
    if (f.hdu(h).info().kind != fits::HduKind::Image) break;
  const auto info = f.info();
  if (info.kind == fits::HduKind::Image) throw Error(path + ": no table HDU");
  std::vector<fits::TableColumn> cols;
  for (const auto& c : info.columns) {
    if (c.is_string()) {
      cols.push_back(fits::TableColumn::strings(c.name, f.read_string_column(c.name)));
    } else if (c.repeat != 1) {
      const auto m = f.read_vector_column(c.name);
      cols.push_back(fits::TableColumn::doubles(c.name, std::vector<double>(m.data(), m.data() + m.size()), m.cols()));
    } else if (c.tform.find_first_of("BIJK") != std::string::npos) {
      const auto v = f.read_int_column(c.name);
      cols.push_back(fits::TableColumn::int64s(c.name, std::vector<std::int64_t>(v.begin(), v.end())));
    } else {
      cols.push_back(fits::TableColumn::doubles(c.name, f.read_column(c.name)));
    }
  }
  return table_dict(cols);
}

pyb::tuple compose_shears(std::complex<double> a, std::complex<double> b) {
  double theta = 0;
  const auto g = lens::compose_shears(a, b, &theta);
  return pyb::make_tuple(g, theta);
}

}  // namespace

void bind_tools(pyb::module_& m) {
  m.def("noise_kernel", &noise_kernel, pyb::arg("image"), pyb::arg("mask"), pyb::arg("step"), pyb::arg("threads"));
  m.def("adaptive_moments", &adaptive_moments, pyb::arg("image"), pyb::arg("sigma_guess"), pyb::arg("x_guess"),
        pyb::arg("y_guess"));
  m.def("distortion_from_shear", &lens::distortion_from_shear, pyb::arg("g"));
  m.def("shear_from_distortion", &lens::shear_from_distortion, pyb::arg("e"));
  m.def("compose_shears", &compose_shears, pyb::arg("g_a"), pyb::arg("g_b"));
  m.def("rotate_shear", &lens::rotate_shear, pyb::arg("g"), pyb::arg("theta"));
  m.def("lensing_jacobian", [](std::complex<double> g, double mu) {
    const Eigen::Matrix2d a = lens::lensing_jacobian(g, mu);
    pyb::array_t<double> out({2, 2});
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j) out.mutable_at(i, j) = a(i, j);
    return out;
  }, pyb::arg("g"), pyb::arg("mu"));
  m.def("read_table", &read_table, pyb::arg("path"), pyb::arg("extname"));
  m.def("set_threads", &set_threads, pyb::arg("n"));
  m.def("threads", &threads);
  m.def("data_path", &data_path, pyb::arg("name"));
  m.def("build_info", [] { return build_info_json(build_info()); });
}

}  // namespace ds::py
