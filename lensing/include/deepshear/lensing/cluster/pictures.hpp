// Pictures of cluster maps and statistics (SVG or PNG by the file's extension), drawn
// with ds::plot. Axes are in arcmin on the sky plane.
#pragma once
#include <string>
#include <vector>

#include "deepshear/lensing/cluster/kaiser_squires.hpp"
#include "deepshear/lensing/cluster/maps.hpp"
#include "deepshear/lensing/cluster/relative_calibration.hpp"
#include "deepshear/lensing/cluster/source_error.hpp"
#include "deepshear/lensing/cluster/tangential_profile.hpp"

namespace ds::lens {

// Whisker map of estimator e (like Figure 17 of Springer et al. 2018): a stick every
// `spacing` arcsec where the field is valid, of length |g| * spacing / key_shear (so a
// stick of shear key_shear is one spacing long, shown in the corner) at angle arg(g)/2.
void plot_whisker_map(const ShearMaps& maps, int e, const std::string& path, double spacing = 12.0,
                      double key_shear = 0.1);

// g1, g2 and their bootstrap sigma for every estimator (one row each; Figure 13).
void plot_component_maps(const ShearMaps& maps, const std::string& path);

// sigma_field, sigma_field-source and sigma_source (mean of the two components) against
// lambda, one panel per estimator (Figure 16).
void plot_sigma_vs_lambda(const SourceErrors& errors, const std::string& path);

// Sampled field pairs (reference x against estimator y) of one component with the fitted
// line and y = x (Figures 14-15).
void plot_calibration_samples(const PairedSamples& samples, const LineFit& fit, const std::string& path,
                              const std::string& xlabel = "reference g", const std::string& ylabel = "estimator g");

// The E-mode convergence of `estimator` on `grid` (axes in arcsec, each cell centred on
// its grid point).
void plot_convergence_map(const ConvergenceMap& kappa, const Grid& grid, const std::string& estimator,
                          const std::string& path);

// Tangential (g_t) and cross (g_x) shear against radius with their errors, one colour
// pair per estimator (profiles[e] named names[e]).
void plot_tangential_profiles(const std::vector<TangentialProfile>& profiles, const std::vector<std::string>& names,
                              const std::string& path);

}  // namespace ds::lens
