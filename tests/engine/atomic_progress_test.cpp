// Atomic output, the parallel loop and the progress line.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/parallel.hpp"
#include "deepshear/engine/progress.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;

TEST_CASE("a writer that fails midway leaves the old file intact and no temporary behind") {
  ds::test::TempDir tmp;
  std::string path = tmp / "catalogue.txt";
  ds::write_text_atomic(path, "old contents\n");
  CHECK_THROWS_AS(ds::write_file_atomic(path,
                                        [](std::ostream& out) {
                                          out << "half of the new ";
                                          throw std::runtime_error("disk on fire");
                                        }),
                  std::runtime_error);
  CHECK(ds::read_text_file(path) == "old contents\n");
  long files = std::distance(fs::directory_iterator(tmp.path), fs::directory_iterator());
  CHECK(files == 1);
  ds::write_text_atomic(path, "new contents\n");
  CHECK(ds::read_text_file(path) == "new contents\n");
}

TEST_CASE("nothing appears at the target until commit()") {
  ds::test::TempDir tmp;
  std::string path = tmp / "out.bin";
  ds::AtomicFile f(path);
  std::ofstream(f.temp_path()) << "data";
  CHECK_FALSE(fs::exists(path));
  CHECK(fs::path(f.temp_path()).parent_path() == fs::path(path).parent_path());  // same folder: rename is atomic
  f.commit();
  CHECK(ds::read_text_file(path) == "data");
  CHECK_THROWS_AS(ds::AtomicFile(tmp / "no/such/folder/x"), ds::Error);
}

TEST_CASE("parallel_for visits every item once and rethrows the first error") {
  ds::set_threads(2);
  std::vector<std::atomic<int>> seen(1000);
  ds::parallel_for(1000, [&](long i, int t) {
    CHECK(t < 2);
    seen[std::size_t(i)]++;
  });
  bool once = true;
  for (auto& s : seen) once = once && s.load() == 1;
  CHECK(once);
  CHECK_THROWS_WITH_AS(ds::parallel_for(100, [&](long i, int) {
                         if (i == 37) throw ds::Error("item 37 is bad");
                       }),
                       "item 37 is bad", ds::Error);
  ds::set_threads(0);
  CHECK(ds::threads() == ds::hardware_threads());
}

TEST_CASE("the progress line shows done / total, rate and ETA") {
  ds::Progress p("render", 1000, "stamps");
  p.tick(250);
  std::string line = p.line();
  CHECK(line.find("render: 250 / 1000 stamps (25.0%)") == 0);
  CHECK(line.find("stamps/s") != std::string::npos);
  CHECK(line.find("ETA") != std::string::npos);
  p.set_note("loss 0.01");
  CHECK(p.line().find(", loss 0.01") != std::string::npos);
  CHECK(ds::format_duration(75) == "1m15s");
  CHECK(ds::format_duration(3 * 3600 + 120) == "3h02m");
}

TEST_CASE("a staging folder shows nothing until commit, and nothing after a failure") {
  ds::test::TempDir tmp;
  const std::string out = tmp / "out";
  {
    ds::StagingFolder s(out, "field");
    std::ofstream(s.path() + "/field_shear.fits") << "x";
    CHECK(s.final_path(s.path() + "/field_shear.fits") == out + "/field_shear.fits");
    CHECK(!fs::exists(out + "/field_shear.fits"));
  }  // not committed: removed
  CHECK(fs::is_empty(out));
  fs::create_directories(out + "/.field.staging.999999");  // a killed run's
  {
    ds::StagingFolder s(out, "field");
    CHECK(!fs::exists(out + "/.field.staging.999999"));
    std::ofstream(s.path() + "/field_shear.fits") << "new";
    fs::create_directories(s.path() + "/field_work");
    s.commit();
  }
  CHECK(ds::read_text_file(out + "/field_shear.fits") == "new");
  CHECK(fs::is_directory(out + "/field_work"));
  int entries = 0;
  for (const auto& e : fs::directory_iterator(out)) entries += e.path().filename().string()[0] == '.';
  CHECK(entries == 0);
  CHECK(!ds::test::error_of([&] { ds::StagingFolder bad(out, "../escape"); }).empty());
}

TEST_CASE("output files are checked before any work") {
  ds::test::TempDir tmp;
  CHECK_NOTHROW(ds::check_output_file(tmp / "x.fits", "estimate: -o"));
  const std::string e = ds::test::error_of([&] { ds::check_output_file(tmp / "no/x.fits", "estimate: -o"); });
  CHECK(e.find("estimate: -o") == 0);
  CHECK(e.find("does not exist") != std::string::npos);
  try {
    ds::check_output_file(tmp.path.string(), "estimate: -o");
    FAIL("a folder passed as an output file");
  } catch (const ds::Error& err) {
    CHECK(err.exit_code() == 2);
  }
}

TEST_CASE("a killed run's temporaries of an output are removed when it is next written") {
  ds::test::TempDir tmp;
  const std::string dead = tmp / ".x.fits.tmp.2147483000.0";  // no such process
  const std::string live = tmp / (".x.fits.tmp." + std::to_string(::getpid()) + ".99");  // this one: kept
  const std::string other = tmp / ".y.fits.tmp.2147483000.0";  // another output's: kept
  for (const auto& p : {dead, live, other}) std::ofstream(p) << "half";
  ds::write_text_atomic(tmp / "x.fits", "whole");
  CHECK(!std::filesystem::exists(dead));
  CHECK(std::filesystem::exists(live));
  CHECK(std::filesystem::exists(other));
  CHECK(ds::read_text_file(tmp / "x.fits") == "whole");
}
