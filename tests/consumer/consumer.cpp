// Uses the installed library: FFT round trip, a random draw, a FITS write/read.
#include <deepshear/engine/build_info.hpp>
#include <deepshear/engine/fft.hpp>
#include <deepshear/engine/fits.hpp>
#include <deepshear/engine/random.hpp>

#include <cmath>
#include <cstdio>

int main(int argc, char** argv) {
  ds::ImageD a(8, 6), back(8, 6);
  ds::RandomStream r(7, "consumer");
  for (auto& v : a) v = r.normal();
  ds::AlignedBuffer<std::complex<double>> k(8 * 4);
  ds::Fft2dD::get(8, 6).forward(a.data(), k.data());
  ds::Fft2dD::get(8, 6).inverse(k.data(), back.data());
  double err = 0;
  for (long i = 0; i < a.size(); ++i) err = std::max(err, std::abs(back.data()[i] / 48 - a.data()[i]));
  std::string path = argc > 1 ? argv[1] : "consumer.fits";
  {
    ds::fits::FitsWriter w(path);
    w.write_image(a, ds::fits::PixelType::Float64);
    w.commit();
  }
  auto b = ds::fits::FitsFile(path).read_image<double>();
  bool ok = err < 1e-12 && b(7, 5) == a(7, 5);
  std::printf("consumer: deepshear %s, %s\n", ds::build_info().version.c_str(), ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
