// The figures of the training and evaluation reports (engine/plot), drawn
// from the typed reports.
#pragma once
#include <string>
#include <vector>

#include "deepshear/nn/train.hpp"

namespace ds::lens {

struct EvaluationReport;

// Figures 10-12, bias by magnitude (and S/N when the report has it) and the
// background-offset test, each as <folder>/<name>.svg and .png.
void save_evaluation_figures(const EvaluationReport& report, const std::string& folder);

// Training and validation loss per epoch, as an SVG at `path`.
void save_loss_figure(const std::vector<nn::EpochRecord>& history, const std::string& path);

}  // namespace ds::lens
