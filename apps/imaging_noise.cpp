// deepshear noise-kernel IMAGE.fits -o kernel.{fits,txt}: the 7x7 correlated-noise
// kernel of a background image (paper sec. 2.1.4): 7x7 patches free of sources
// -> 49x49 covariance -> symmetric square root -> central row.
#include <cstdio>
#include <string>
#include <vector>

#include "cli.hpp"
#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/fits.hpp"
#include "deepshear/imaging/mask.hpp"
#include "deepshear/imaging/noise.hpp"

namespace {

int run(int argc, char** argv) {
  ds::app::Args args("deepshear noise-kernel IMAGE.fits [--mask MASK.fits] -o KERNEL.{fits,txt}",
                     "Estimates the 7x7 correlated-noise kernel of a background-subtracted image (paper\n"
                     "sec. 2.1.4): the covariance of 7x7 patches free of sources and bad pixels, its\n"
                     "symmetric square root, and that root's central row. Sources are the non-zero pixels of\n"
                     "--mask, or else pixels above median + CLIP x robust sigma grown by GROW pixels.\n"
                     "The kernel is written as FITS (.fits) or text (anything else).");
  args.positional("IMAGE", "a FITS image of background (sources are masked)");
  args.option("--output", "FILE", "output kernel file (.fits or .txt); -o FILE also works");
  args.option("--hdu", "N", "image HDU (0-based)", "0");
  args.option("--mask", "FILE", "FITS source mask, same shape: non-zero = source or bad pixel");
  args.option("--mask-hdu", "N", "mask HDU (0-based)", "0");
  args.option("--clip", "K", "without --mask: mask pixels above median + K robust sigma", "3");
  args.option("--grow", "R", "without --mask: grow the masked pixels by R pixels", "3");
  args.option("--step", "S", "patch grid step in pixels (1: every position)", "1");
  args.range("--hdu", 0, 99999), args.range("--mask-hdu", 0, 99999), args.range("--clip", 0, 1e6);
  args.range("--grow", 0, 1024), args.range("--step", 1, 4096);
  args.alias("-o", "--output");
  if (!args.parse(argc, argv)) return 0;
  if (!args.has("--output")) throw ds::Error::usage("noise-kernel: -o KERNEL.{fits,txt} is required");
  ds::check_output_file(args.get("--output"), "noise-kernel: -o");
  const std::string path = args.positionals()[0];
  ds::fits::FitsFile f(path);
  f.hdu(int(args.get_int("--hdu")));
  ds::ImageF im = f.read_image<float>();
  ds::Image<unsigned char> mask;
  std::string mask_how;
  if (args.has("--mask")) {
    ds::fits::FitsFile mf(args.get("--mask"));
    mf.hdu(int(args.get_int("--mask-hdu")));
    ds::ImageD m = mf.read_image<double>();
    if (m.ny() != im.ny() || m.nx() != im.nx())
      throw ds::Error(mf.where() + ": mask is " + std::to_string(m.ny()) + "x" + std::to_string(m.nx()) +
                      " but the image " + f.where() + " is " + std::to_string(im.ny()) + "x" + std::to_string(im.nx()));
    mask = ds::Image<unsigned char>(m.ny(), m.nx(), 0);
    for (long i = 0; i < m.size(); ++i) mask.data()[i] = m.data()[i] != 0;
    mask_how = "mask " + args.get("--mask");
  } else {
    mask = ds::img::threshold_mask(im, args.get_double("--clip"), args.get_int("--grow"));
    mask_how = "threshold median + " + args.get("--clip") + " sigma, grown " + args.get("--grow") + " px";
  }
  long masked = 0;
  for (unsigned char v : mask) masked += v != 0;
  ds::img::PatchCovariance pc = ds::img::background_covariance(im.view(), mask.view(), args.get_int("--step"));
  ds::img::NoiseKernel k = ds::img::kernel_from_covariance(pc.sigma);
  const std::string out = args.get("--output");
  if (out.size() > 5 && (out.compare(out.size() - 5, 5, ".fits") == 0 || out.compare(out.size() - 4, 4, ".fit") == 0))
    k.save_fits(out);
  else
    k.save_text(out, "estimated by deepshear noise-kernel from " + path + " (" + mask_how + "), " +
                         std::to_string(pc.patches) + " patches");
  if (!args.has("--quiet")) {
    std::printf("%s: %ldx%ld, %ld pixels masked (%s)\n", path.c_str(), im.ny(), im.nx(), masked, mask_how.c_str());
    std::printf("patches %ld, background mean %.6g\n", pc.patches, pc.mean);
    std::printf("kernel: centre %.6g, x-neighbours %.4g %.4g, y-neighbours %.4g %.4g (of centre)\n", k(3, 3),
                k(3, 2) / k(3, 3), k(3, 4) / k(3, 3), k(2, 3) / k(3, 3), k(4, 3) / k(3, 3));
    std::printf("noise RMS sqrt(sum K^2) = %.6g; written to %s\n", k.rms(), out.c_str());
  }
  return 0;
}

ds::app::Register reg("noise-kernel", "estimate the 7x7 correlated-noise kernel of a background image", run);

}  // namespace
