// The key = value configuration: defaults, files, overrides, and errors that
// name the file, line and key (typos must not pass silently).
#include <doctest/doctest.h>

#include <fstream>
#include <functional>

#include "deepshear/engine/config.hpp"
#include "deepshear/engine/error.hpp"
#include "test_support.hpp"

namespace {

using ds::test::error_of;

ds::Config make() {
  ds::Config c;
  c.add_double("train.lr", 3e-4, "learning rate")
      .add_int("train.batch", 100, "minibatch size")
      .add_bool("symmetrise", true, "8-fold symmetrised estimate")
      .add_string("model", "data/model.dsm", "model file")
      .add_doubles("noise.scales", {1, 0.5, 0.25}, "noise levels");
  return c;
}

}  // namespace

TEST_CASE("defaults, a file, then command-line overrides, each recorded with its origin") {
  ds::test::TempDir tmp;
  std::string path = tmp / "run.cfg";
  std::ofstream(path) << "# a comment\n\ntrain.batch = 50   # trailing comment\nmodel = other.dsm\n";
  ds::Config c = make();
  c.load_file(path);
  c.set("train.lr", "1e-3");
  CHECK(c.get_int("train.batch") == 50);
  CHECK(c.get_string("model") == "other.dsm");
  CHECK(c.get_double("train.lr") == 1e-3);
  CHECK(c.get_bool("symmetrise"));
  CHECK(c.get_doubles("noise.scales") == std::vector<double>{1, 0.5, 0.25});
  CHECK(c.source("train.batch") == path + ":3");
  CHECK(c.source("train.lr") == "command line");
  CHECK(c.source("symmetrise") == "default");
}

TEST_CASE("dump() writes the effective configuration, which reads back to the same values") {
  ds::Config a = make();
  a.set("noise.scales", "0.5,2");
  a.set("symmetrise", "off");
  ds::Config b = make();
  b.load_text(a.dump(), "dump");
  for (const auto& k : a.keys()) CHECK(a.text(k) == b.text(k));
  CHECK(a.to_json() ==
        "{\"train.lr\": 0.0003, \"train.batch\": 100, \"symmetrise\": false, \"model\": \"data/model.dsm\", "
        "\"noise.scales\": [0.5, 2]}");
}

TEST_CASE("an unknown key or a malformed value is an error naming file, line and key") {
  ds::Config c = make();
  std::string e = error_of([&] { c.load_text("train.batch = 10\ntrain.lrr = 0.1\n", "my.cfg"); });
  CHECK(e == "my.cfg:2: unknown key 'train.lrr'");
  e = error_of([&] { c.load_text("train.batch = ten\n", "my.cfg"); });
  CHECK(e == "my.cfg:1: key 'train.batch': value 'ten' is not an integer");
  e = error_of([&] { c.load_text("symmetrise = maybe\n", "my.cfg"); });
  CHECK(e.find("not true or false") != std::string::npos);
  e = error_of([&] { c.load_text("noise.scales = 1, x\n", "my.cfg"); });
  CHECK(e.find("comma-separated list of numbers") != std::string::npos);
  e = error_of([&] { c.load_text("just words\n", "my.cfg"); });
  CHECK(e.find("my.cfg:1: expected 'key = value'") == 0);
  e = error_of([&] { c.set("train.lr", "nan"); });
  CHECK(e.find("not a number") != std::string::npos);
  e = error_of([&] { c.load_file("/nonexistent/run.cfg"); });
  CHECK(e.find("/nonexistent/run.cfg") != std::string::npos);
}

TEST_CASE("parse_lines reads another run's dump() back line by line without knowing its keys") {
  ds::Config c;
  c.add_string("train.noise_kernel", "k.txt", "kernel").add_double("train.noise_scale", 0.5, "scale");
  const auto lines = ds::Config::parse_lines(c.dump() + "  other.key =  7  # trailing comment\n", "dump");
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].key == "train.noise_kernel");
  CHECK(lines[0].value == "k.txt");
  CHECK(lines[1].value == "0.5");
  CHECK(lines[2].key == "other.key");
  CHECK(lines[2].value == "7");
  CHECK(lines[2].where == "dump:5");
  CHECK_THROWS_WITH_AS(ds::Config::parse_lines("a = 1\nno equals sign\n", "f.cfg"),
                       doctest::Contains("f.cfg:2"), ds::Error);
}

TEST_CASE("configuration ranges refuse values outside them as usage errors") {
  ds::Config c;
  c.add_int("n", 10, "stamps").range("n", 1, 100);
  c.add_doubles("f", {0.5}, "fractions").range("f", 0, 1);
  c.set("n", "100");
  CHECK(c.get_int("n") == 100);
  for (const auto& [key, value] : {std::pair{"n", "0"}, {"n", "101"}, {"f", "0.5, 1.5"}, {"f", "nan"}}) {
    try {
      c.set(key, value, "--" + std::string(key));
      FAIL("accepted " << key << " = " << value);
    } catch (const ds::Error& e) {
      CHECK(e.exit_code() == 2);
      CHECK(std::string(e.what()).find("--" + std::string(key)) == 0);
    }
  }
  CHECK(c.get_int("n") == 100);  // a refused value leaves the old one
  CHECK_THROWS(c.range("n", 200, 300));  // the current value must lie inside
}

TEST_CASE("a configuration file with a NUL byte or a key set twice is refused, naming the lines") {
  ds::Config c;
  c.add_int("n", 10, "stamps");
  c.add_double("lr", 0.1, "rate");
  const std::string nul = std::string("lr = 0.2\nn = 5") + '\0' + "\n";
  auto e = ds::test::error_of([&] { c.load_text(nul, "run.cfg"); });
  CHECK(e.find("run.cfg:2: a NUL byte") == 0);
  e = ds::test::error_of([&] { c.load_text("n = 5\nlr = 0.2\nn = 6\n", "run.cfg"); });
  CHECK(e.find("run.cfg:3: key 'n' is set twice (first at run.cfg:1)") == 0);
}
