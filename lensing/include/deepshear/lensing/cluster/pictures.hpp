// Pictures of cluster maps and statistics (SVG or PNG by the file's extension), drawn
// with ds::plot. Map axes are offsets in arcmin on the sky plane; when the sky is known
// east is to the left and north up, with a small N / E compass.
#pragma once
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "deepshear/lensing/cluster/kaiser_squires.hpp"
#include "deepshear/lensing/cluster/maps.hpp"
#include "deepshear/lensing/cluster/maps_fits.hpp"
#include "deepshear/lensing/cluster/nfw.hpp"
#include "deepshear/lensing/cluster/relative_calibration.hpp"
#include "deepshear/lensing/cluster/source_error.hpp"
#include "deepshear/lensing/cluster/tangential_profile.hpp"

namespace ds::lens {

// How a map sits on the sky and what is marked on it: sky.present draws east left (when
// x grows east) with a compass; a finite centre (xc, yc) [arcsec on the plane] gets a +.
struct MapMarks {
  SkyReference sky;
  double xc = NAN, yc = NAN;
};

// Whisker map of estimator e (like Figure 17 of Springer et al. 2018): a stick every
// `spacing` arcsec where the field is valid, of length |g| * spacing / key_shear (so a
// stick of shear key_shear is one spacing long, shown in the corner) at angle arg(g)/2.
void plot_whisker_map(const ShearMaps& maps, int e, const std::string& path, const MapMarks& marks = {},
                      double spacing = 12.0, double key_shear = 0.1);

// g1, g2 and their bootstrap sigma for every estimator (one row each; Figure 13).
void plot_component_maps(const ShearMaps& maps, const std::string& path, const MapMarks& marks = {});

// sigma_field, sigma_field-source and sigma_source (mean of the two components) against
// lambda, one panel per estimator (Figure 16).
void plot_sigma_vs_lambda(const SourceErrors& errors, const std::string& path);

// Sampled field pairs (reference x against estimator y) of one component with the fitted
// line and y = x (Figures 14-15), on equal square axes; a note when m is unconstrained
// (its error above kUnconstrainedM).
void plot_calibration_samples(const PairedSamples& samples, const LineFit& fit, const std::string& path,
                              const std::string& xlabel = "reference g", const std::string& ylabel = "estimator g");

// A relative calibration whose m error (block bootstrap, else curvature) exceeds this says
// nothing about m: the sampled fields span too little shear against their noise.
constexpr double kUnconstrainedM = 0.5;
// The m error a calibration is quoted with: the block-bootstrap one when computed.
double quoted_m_err(const LineFit& fit);

// The E-mode convergence of `estimator` on `grid` (each cell centred on its grid point).
void plot_convergence_map(const ConvergenceMap& kappa, const Grid& grid, const std::string& estimator,
                          const std::string& path, const MapMarks& marks = {});

// Two panels against radius [arcsec]: the tangential shear g_t (with each estimator's NFW
// fit, fits[e] when given, drawn through `lens`) and the cross shear g_x (zero for a
// lens), with their errors; one colour and marker per estimator (profiles[e] named
// names[e]), the estimators' points shifted apart in radius so none hide another.
void plot_tangential_profiles(const std::vector<TangentialProfile>& profiles, const std::vector<std::string>& names,
                              const std::string& path, const std::vector<std::optional<NfwFit>>& fits = {},
                              const std::optional<NfwLens>& lens = std::nullopt);

}  // namespace ds::lens
