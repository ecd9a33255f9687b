#include "deepshear/lensing/shear_catalogue.hpp"

#include "deepshear/engine/config.hpp"
#include "deepshear/engine/error.hpp"

namespace ds::lens::catalogue {

std::string g1_column(const std::string& e) { return "G1_" + to_upper(e); }
std::string g2_column(const std::string& e) { return "G2_" + to_upper(e); }
std::string flags_column(const std::string& e) { return "FLAGS_" + to_upper(e); }

void append_columns(std::vector<fits::TableColumn>& cols, const std::string& e, const EstimateBatch& b,
                    const std::vector<long>& rows, long n_rows, std::uint32_t missing_flags) {
  const long m = long(b.estimates.size());
  if (rows.empty()) n_rows = m;
  require(rows.empty() || long(rows.size()) == m, "catalogue: " + std::to_string(m) + " estimates for " +
                                                      std::to_string(rows.size()) + " rows");
  auto row = [&](long j) { return std::size_t(rows.empty() ? j : rows[std::size_t(j)]); };
  const auto n = std::size_t(n_rows);
  std::vector<double> g1(n, kFailedShear), g2(n, kFailedShear);
  std::vector<std::int32_t> fl(n, std::int32_t(missing_flags));
  for (long j = 0; j < m; ++j) {
    const auto& v = b.estimates[std::size_t(j)];
    g1[row(j)] = v.flags ? kFailedShear : v.g1, g2[row(j)] = v.flags ? kFailedShear : v.g2;
    fl[row(j)] = std::int32_t(v.flags);
  }
  cols.push_back(fits::TableColumn::doubles(g1_column(e), g1));
  cols.push_back(fits::TableColumn::doubles(g2_column(e), g2));
  cols.push_back(fits::TableColumn::int32s(flags_column(e), fl));
  for (const auto& [name, values] : b.extra) {
    std::vector<double> v(n, kFailedShear);
    for (long j = 0; j < m; ++j) v[row(j)] = b.estimates[std::size_t(j)].flags ? kFailedShear : values[std::size_t(j)];
    cols.push_back(fits::TableColumn::doubles(to_upper(name) + "_" + to_upper(e), v));
  }
}

std::vector<fits::TableColumn> estimate_table(const std::vector<std::string>& names,
                                              const std::map<std::string, EstimateBatch>& results) {
  require(!names.empty(), "estimate table: no estimators");
  const long n = long(results.at(names.front()).estimates.size());
  std::vector<std::int64_t> index(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) index[std::size_t(i)] = i;
  std::vector<fits::TableColumn> cols = {
      fits::TableColumn::int64s("INDEX", index).described("0-based stamp number in the input")};
  for (const auto& e : names) {
    std::vector<fits::TableColumn> own;
    append_columns(own, e, results.at(e));
    if (e == names.front()) {
      for (int k = 0; k < 3; ++k) cols.push_back(own[std::size_t(k)]);
      cols[1].name = "G1", cols[2].name = "G2", cols[3].name = "FLAGS";
      for (int k = 1; k <= 3; ++k) cols[std::size_t(k)].described("as " + own[std::size_t(k - 1)].name);
    }
    cols.insert(cols.end(), own.begin(), own.end());
  }
  return cols;
}

void write_flag_cards(fits::FitsWriter& w) {
  for (int bit = 0; bit < kFlagBits; ++bit) {
    const auto [name, meaning] = flag_bit(bit);
    w.write_key("FLAGBIT" + std::to_string(bit), name, "FLAGS bit " + std::to_string(bit) + ": " + meaning);
  }
  w.write_comment("FLAGS_<EST> = 0: measured. Rows with FLAGS_<EST> != 0 hold NaN in G1_<EST>, G2_<EST>.");
}

std::vector<std::string> estimators_in(const fits::FitsFile& f) {
  std::vector<std::string> names;
  for (const auto& c : f.columns()) {
    const std::string n = to_lower(c.name);
    if (n.rfind("g1_", 0) == 0 && f.has_column(g2_column(n.substr(3)))) names.push_back(n.substr(3));
  }
  return names;
}

EstimatorColumns read_columns(const fits::FitsFile& f, const std::string& e) {
  EstimatorColumns c;
  c.g1 = f.read_column(g1_column(e));
  c.g2 = f.read_column(g2_column(e));
  c.flags = f.has_column(flags_column(e)) ? f.read_int_column(flags_column(e))
                                          : std::vector<long long>(c.g1.size(), 0);
  return c;
}

}  // namespace ds::lens::catalogue
