// The stages of one cluster field (run_cluster_field, cluster_run.cpp), each
// a function of what the earlier ones made. Private to lensing/src/cluster.
// Pixels are 0-based (SExtractor's minus 1), sizes in arcsec unless named _px.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "deepshear/engine/image.hpp"
#include "deepshear/engine/tensor.hpp"
#include "deepshear/imaging/mask.hpp"
#include "deepshear/lensing/cluster/cluster_run.hpp"

namespace ds::lens::cluster_stage {

// The n sources of a field as the catalogue gives them.
struct FieldSources {
  std::vector<long long> id;      // NUMBER (else 1..n)
  std::vector<double> x, y;       // px, 0-based
  std::vector<double> mag;        // MAG_AUTO
  std::vector<double> rh_px, rh;  // FLUX_RADIUS in px and arcsec
  std::vector<double> fwhm;       // FWHM_IMAGE in arcsec (NaN without the column)
  std::vector<double> mu;         // MU_MAX, mag arcsec^-2 (else from the peak pixel)
  std::vector<double> flags;      // SExtractor FLAGS (empty without the column)
  ImageF segmentation, background;  // SExtractor's check images, ny x nx (empty from a catalogue)
  long size() const { return long(x.size()); }
};

// Reads the catalogue given, or runs SExtractor on the total image (work
// files under base, removed unless opt.keep_work).
FieldSources find_sources(const FieldInputs& in, const LoadedField& field, const ClusterOptions& opt,
                          const std::string& base, ClusterSummary& S);

// Point sources and cuts of every source; kept = the indices with no cut.
struct SourceSelection {
  PointSourceSelection stars;
  std::vector<std::uint32_t> cuts;  // n, kCut* bits
  std::vector<double> exposure;     // n, mean inverse variance in the exposure box [ADU^-2]
  std::vector<long> kept;
};
// Also draws the point-source planes into base_point_sources.<fmt>.
SourceSelection select_sources(const LoadedField& field, const FieldSources& src, const ClusterOptions& opt,
                               const std::string& base, ClusterSummary& S);

// The source mask of the noise and background steps (ny x nx): the
// segmentation grown by opt.mask_grow px, or discs of radius
// max(5, 4 r_half) px without one; plus the bad pixels.
img::Mask source_mask(const LoadedField& field, const FieldSources& src, long grow);

// The field's noise kernel from source-free 7x7 patches of the image minus
// SExtractor's background, written to base_noise_kernel.txt and compared
// with the model's training noise (a warning beyond opt.noise_tolerance).
void measure_noise(const LoadedField& field, const FieldSources& src, const img::Mask& mask,
                   const ClusterOptions& opt, const nn::Model* model, const std::string& base, ClusterSummary& S);

// What is subtracted from each source's stamp: SExtractor's map, or one
// level per source (opt.background).
struct StampBackground {
  const ImageF* map = nullptr;  // ny x nx, when "sextractor"
  std::vector<double> level;    // n, image units, otherwise
};
StampBackground stamp_background(const LoadedField& field, const FieldSources& src, const img::Mask& mask,
                                 const ClusterOptions& opt, ClusterSummary& S);

// The side x side stamp of source i, background subtracted, into out (side^2).
void cut_source_stamp(const LoadedField& field, const FieldSources& src, const StampBackground& bg, long i,
                      long side, float* out);

// The Gaussian PSF FWHM (arcsec) RRG and KSB use: opt.psf_fwhm, else the
// median adaptive-moment FWHM of the point sources inside the image, else
// opt.psf_fwhm_fallback (with a warning).
double field_psf_fwhm(const LoadedField& field, const FieldSources& src, const SourceSelection& sel,
                      const StampBackground& bg, const ClusterOptions& opt, ClusterSummary& S);

// The stamps of the kept sources: (max(1, kept), side, side).
Tensor kept_stamps(const LoadedField& field, const FieldSources& src, const SourceSelection& sel,
                   const StampBackground& bg, long side);

// Every estimator on the stamps (rows = kept sources), each calibrated with
// its file in opt.calibrations (at the source's MAG_AUTO when binned), then
// rotated into the sky frame.
std::map<std::string, EstimateBatch> estimate_shears(const Tensor& stamps, long kept, ClusterEstimators& est,
                                                     const std::vector<double>& kept_mag, const ClusterOptions& opt,
                                                     const img::TanWcs& wcs);

// With a truth table: matches the kept sources to its lensed galaxies within
// 2 px and records each estimator's RMS of g - g_true in S.
void compare_with_truth(const std::string& truth_path, const FieldSources& src, const std::vector<long>& kept,
                        const std::map<std::string, EstimateBatch>& shears, const img::TanWcs& wcs,
                        ClusterSummary& S);

// base_shear.fits: every source, cut ones flagged (the lens::catalogue
// schema); returns its path.
std::string write_shear_catalogue(const FieldInputs& in, const LoadedField& field, const FieldSources& src,
                                  const SourceSelection& sel, const std::map<std::string, EstimateBatch>& shears,
                                  const ClusterOptions& opt, const ClusterSummary& S, const std::string& base);

}  // namespace ds::lens::cluster_stage
