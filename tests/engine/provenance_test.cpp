// Provenance: the cards in every FITS file and the sidecars' record.
#include <doctest/doctest.h>

#include <fstream>

#include "deepshear/engine/fits.hpp"
#include "deepshear/engine/provenance.hpp"
#include "test_support.hpp"

TEST_CASE("FNV-1a 64 matches the published test vectors") {
  // Fowler, Noll and Vo's reference values.
  CHECK(ds::fnv1a64_bytes("", 0) == 0xcbf29ce484222325ull);
  CHECK(ds::fnv1a64_bytes("a", 1) == 0xaf63dc4c8601ec8cull);
  CHECK(ds::fnv1a64_bytes("foobar", 6) == 0x85944171f73967e8ull);
  CHECK(ds::hex64(0xaf63dc4c8601ec8cull) == "af63dc4c8601ec8c");
}

TEST_CASE("every FITS file gets the run's provenance on its primary HDU") {
  ds::test::TempDir tmp;
  const std::string model = tmp / "m.dsm";
  std::ofstream(model) << "model bytes";
  std::string long_arg(150, 'x');
  std::vector<std::string> words = {"deepshear", "estimate", "in put.fits", "--note", long_arg};
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  ds::set_provenance_command(int(argv.size()), argv.data());
  ds::set_provenance_settings("n = 5\n");
  ds::add_provenance_model(model, ds::file_checksum(model));
  const std::string path = tmp / "t.fits";
  {
    ds::fits::FitsWriter w(path);
    w.write_table({ds::fits::TableColumn::doubles("G1", {0.1})}, "SHEAR");
    w.commit();
  }
  ds::fits::FitsFile f(path);
  f.hdu(0);
  const std::string date = f.key_string("DATE");
  CHECK(date.size() == 19);
  CHECK(date[4] == '-');
  CHECK(date[10] == 'T');
  CHECK(f.key_string("CREATOR").rfind("deepshear ", 0) == 0);
  CHECK(!f.key_string("DSVERS").empty());
  CHECK(!f.key_string("DSBUILD").empty());
  // The long command line survives the 68-character card limit intact.
  CHECK(f.key_string("DSCMD") == "deepshear estimate 'in put.fits' --note " + long_arg);
  CHECK(f.key_string("DSCFGH") == ds::hex64(ds::fnv1a64_bytes("n = 5\n", 6)));
  CHECK(f.key_string("DSMODEL") == "m.dsm:" + ds::hex64(ds::fnv1a64_bytes("model bytes", 11)));
  // The sidecars carry the same record.
  const std::string cfg = ds::config_text("n = 5\n");
  CHECK(cfg.find("# command: deepshear estimate 'in put.fits' --note") != std::string::npos);
  CHECK(cfg.substr(cfg.size() - 6) == "n = 5\n");
  CHECK(cfg.find("m.dsm:") != std::string::npos);
  const auto j = nlohmann::json::parse(ds::report_text({{"a", 1}}));
  CHECK(j["provenance"]["command"].get<std::string>().find("--note") != std::string::npos);
  CHECK(j["provenance"]["settings_hash"] == f.key_string("DSCFGH"));
  ds::reset_provenance();
}
