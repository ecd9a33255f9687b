// The deepshear command: exit codes, one-line errors, info and inspect.
#include <doctest/doctest.h>

#include <fstream>

#include "deepshear/engine/fits.hpp"
#include "test_support.hpp"

using ds::test::run_cli;

namespace {
int lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}
}  // namespace

TEST_CASE("usage errors exit 2 with one line on stderr") {
  auto r = run_cli("no-such-command");
  CHECK(r.exit_code == 2);
  CHECK(r.err == "deepshear: error: unknown command 'no-such-command' (see deepshear --help)\n");
  r = run_cli("info --bogus");
  CHECK(r.exit_code == 2);
  CHECK(lines(r.err) == 1);
  r = run_cli("inspect");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("missing argument: FILE") != std::string::npos);
}

TEST_CASE("an error quoting input with control characters stays one line") {
  // A render JSON whose key holds a newline and a tab (fuzz inputs did; the
  // message quoted them raw and spread over lines).
  ds::test::TempDir tmp;
  const std::string path = tmp / "bad.json";
  std::ofstream(path) << "{\"gal\\naxy\\tx\": 1,";  // JSON escapes: the key holds a newline and a tab
  const auto r = run_cli("render --json " + path + " -o " + (tmp / "r.fits"));
  CHECK(r.exit_code != 0);
  CHECK(lines(r.err) == 1);
  CHECK(r.err.find("gal\\naxy\\tx") != std::string::npos);
}

TEST_CASE("every command has --help") {
  auto r = run_cli("--help");
  CHECK(r.exit_code == 0);
  for (const char* cmd : {"info", "inspect", "selfcheck"}) {
    CHECK(r.out.find(cmd) != std::string::npos);
    auto h = run_cli(std::string(cmd) + " --help");
    CHECK(h.exit_code == 0);
    CHECK(h.out.find("usage: deepshear " + std::string(cmd)) == 0);
  }
}

TEST_CASE("info --json reports versions and instruction sets") {
  auto r = run_cli("info --json --threads 1");
  REQUIRE(r.exit_code == 0);
  for (const char* key : {"\"version\"", "\"compiled_isa\"", "\"cpu_isa\"", "\"eigen\": \"3.4", "\"fftw\"",
                          "\"cfitsio\"", "\"threads\": 1"})
    CHECK_MESSAGE(r.out.find(key) != std::string::npos, key);
}

TEST_CASE("inspect lists HDUs, shapes, types and columns") {
  ds::test::TempDir tmp;
  std::string path = tmp / "x.fits";
  ds::fits::FitsWriter w(path);
  ds::ImageF img(20, 30);
  w.write_image(img, ds::fits::PixelType::Float32, "SCI");
  w.write_table({ds::fits::TableColumn::doubles("MAG_AUTO", {20.5})}, "CAT");
  w.commit();
  auto r = run_cli("inspect '" + path + "'");
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("2 HDUs") != std::string::npos);
  CHECK(r.out.find("SCI          IMAGE     20 x 30  float32") != std::string::npos);
  CHECK(r.out.find("BINTABLE  1 rows x 1 columns") != std::string::npos);
  CHECK(r.out.find("MAG_AUTO") != std::string::npos);
}

TEST_CASE("inspect on bad files exits 1 with one line naming the file") {
  ds::test::TempDir tmp;
  std::string empty = tmp / "empty.fits", text = tmp / "text.fits";
  std::ofstream(empty).close();
  std::ofstream(text) << "not fits\n";
  for (const std::string& p : {empty, text, tmp / "missing.fits"}) {
    auto r = run_cli("inspect '" + p + "'");
    CHECK(r.exit_code == 1);
    CHECK(lines(r.err) == 1);
    CHECK(r.err.find("deepshear: error: " + p) == 0);
    CHECK(r.out.empty());
  }
}

TEST_CASE("selfcheck passes") {
  auto r = run_cli("selfcheck");
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("3 passed, 0 failed") != std::string::npos);
}

TEST_CASE("-o, --out and --output name the output of every command that writes one") {
  ds::test::TempDir dir;
  // A command with a declared output option: each spelling writes the file.
  int k = 0;
  for (const char* spelling : {"-o ", "--out ", "--output ", "--out=", "--output="}) {
    const std::string file = (dir.path / ("stamp" + std::to_string(k++) + ".fits")).string();
    auto r = run_cli("render --quiet " + std::string(spelling) + "'" + file + "'");
    CHECK_MESSAGE(r.exit_code == 0, spelling << ": " << r.err);
    CHECK(std::filesystem::exists(file));
  }
  // Commands whose output is a configuration parameter (cluster, maps, evaluate):
  // every spelling is accepted, so the run goes on to the missing input file.
  for (const char* spelling : {"-o", "--out", "--output"}) {
    auto r = run_cli("maps '" + (dir.path / "none.fits").string() + "' " + spelling + " '" +
                     (dir.path / "maps").string() + "'");
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(r.err.find("none.fits") != std::string::npos, spelling << ": " << r.err);
  }
  auto h = run_cli("maps --help");
  CHECK(h.out.find("-o, --out, --output") != std::string::npos);
}
