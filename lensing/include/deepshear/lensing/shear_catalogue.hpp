// The shear-catalogue schema, owned here: which columns a table of per-source
// shears carries for each estimator, their units and flag bits, and what a
// failed measurement holds. `estimate` and `cluster` write through it; `maps`
// reads through it.
//
// Per estimator EST (upper case in column names):
//   G1_<EST>, G2_<EST>   reduced shear (dimensionless), in the frame the table's
//                        SHEARFRM key names (PIXEL: x, y of the stamp; SKY: x
//                        east, y north);
//   FLAGS_<EST>          the EstimateFlag bits (estimate.hpp); 0 = measured;
//   <COL>_<EST>          any extra column the estimator measures.
// A flagged row holds NaN in G1, G2 and the extra columns; readers drop it by
// its flags. The flag bits are described in the table's header (FLAGBITn
// cards, write_flag_cards) and in the README.
#pragma once
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "deepshear/engine/fits.hpp"
#include "deepshear/lensing/estimators/estimator.hpp"

namespace ds::lens::catalogue {

// What a failed (flagged) measurement holds in G1_/G2_ and extra columns.
constexpr double kFailedShear = std::numeric_limits<double>::quiet_NaN();

std::string g1_column(const std::string& estimator);     // "G1_CNN"
std::string g2_column(const std::string& estimator);     // "G2_CNN"
std::string flags_column(const std::string& estimator);  // "FLAGS_CNN"

// Appends the columns of one estimator for a table of n_rows rows: row
// rows[j] gets batch entry j (rows empty: row j gets entry j, n_rows =
// batch size); other rows are failed with `missing_flags` (e.g. kFlagCut).
void append_columns(std::vector<fits::TableColumn>& cols, const std::string& estimator, const EstimateBatch& batch,
                    const std::vector<long>& rows = {}, long n_rows = -1, std::uint32_t missing_flags = kFlagCut);

// The table of `deepshear estimate` (and of deepshear.estimate in Python):
// INDEX (0-based stamp number), G1, G2 and FLAGS of the first estimator, then
// every estimator's columns as append_columns gives them, one row per stamp.
std::vector<fits::TableColumn> estimate_table(const std::vector<std::string>& names,
                                              const std::map<std::string, EstimateBatch>& results);

// Describes the EstimateFlag bits on the current HDU: FLAGBIT0 .. FLAGBIT7 =
// the bit's name, with what it means as the comment, and a COMMENT that
// failed rows hold NaN.
void write_flag_cards(fits::FitsWriter& w);

// The estimators (lower case) whose G1_ and G2_ columns the open HDU holds,
// in column order.
std::vector<std::string> estimators_in(const fits::FitsFile& f);

// One estimator's columns as read back; flags are all 0 when the table has
// no FLAGS_ column.
struct EstimatorColumns {
  std::vector<double> g1, g2;
  std::vector<long long> flags;
};
EstimatorColumns read_columns(const fits::FitsFile& f, const std::string& estimator);

}  // namespace ds::lens::catalogue
