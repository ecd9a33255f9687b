// Killed runs: after a kill -9 (or the state one leaves) and a rerun, the
// outputs equal an uninterrupted run's and no temporary or staging folder
// remains.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include "deepshear/engine/fits.hpp"
#include "deepshear/lensing/cluster/sextractor_run.hpp"
#include "deepshear/nn/model_file.hpp"
#include "test_support.hpp"

using ds::test::run_cli;
using ds::test::TempDir;
namespace fs = std::filesystem;

namespace {

// Hidden entries (temporaries, staging folders) anywhere under dir.
long hidden_entries(const std::string& dir) {
  long n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) n += e.path().filename().string()[0] == '.';
  return n;
}

// The columns of a FITS table, as doubles, for comparing two runs' catalogues.
std::vector<std::vector<double>> table_values(const std::string& path) {
  ds::fits::FitsFile f(path);
  f.hdu("SHEAR");
  std::vector<std::vector<double>> v;
  for (const auto& c : f.columns())
    if (!c.is_string()) v.push_back(f.read_column(c.name));
  return v;
}

bool same_values(const std::vector<std::vector<double>>& a, const std::vector<std::vector<double>>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].size() != b[i].size()) return false;
    for (std::size_t j = 0; j < a[i].size(); ++j)
      if (!(a[i][j] == b[i][j] || (std::isnan(a[i][j]) && std::isnan(b[i][j])))) return false;
  }
  return true;
}

// Starts the deepshear command in the background; returns its pid.
pid_t start_cli(const std::string& args) {
  const pid_t pid = fork();
  if (pid == 0) {
    const std::string cmd = std::string("exec '") + DEEPSHEAR_CLI + "' " + args + " >/dev/null 2>&1 </dev/null";
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

// Waits (up to 60 s) until a path matching `pred` exists under dir.
template <class P>
bool wait_for(const std::string& dir, P pred) {
  for (int i = 0; i < 6000; ++i) {
    try {  // the folder changes while it is read
      if (fs::is_directory(dir))
        for (const auto& e : fs::recursive_directory_iterator(dir))
          if (pred(e.path().string())) return true;
    } catch (const fs::filesystem_error&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace

TEST_CASE("cluster killed during SExtractor: the rerun's catalogue equals an uninterrupted run's, nothing hidden left") {
  if (ds::lens::find_sextractor().empty()) {
    MESSAGE("skipped: SExtractor (Debian package source-extractor) is not installed");
    return;
  }
  TempDir d;
  REQUIRE(run_cli("mock-cluster -o " + d / "mock" + " --size 90 --seed 4 --quiet").exit_code == 0);
  const std::string field = " --image " + d / "mock/mock_sci.fits" + " --weight " + d / "mock/mock_wht.fits" +
                            " --estimators rrg --quiet --out ";
  REQUIRE(run_cli("cluster" + field + d / "whole").exit_code == 0);
  const pid_t pid = start_cli("cluster" + field + d / "killed");
  // SExtractor's work folder inside the field's staging folder: SExtractor is running (or about to).
  const bool seen = wait_for(d / "killed", [](const std::string& p) { return p.find(".sextractor") != std::string::npos; });
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  CHECK(seen);
  CHECK(!fs::exists(d / "killed/mock_shear.fits"));  // nothing that looks finished
  CHECK(!fs::exists(d / "killed/cluster_summary.json"));
  REQUIRE(run_cli("cluster" + field + d / "killed").exit_code == 0);
  CHECK(hidden_entries(d / "killed") == 0);
  CHECK(same_values(table_values(d / "killed/mock_shear.fits"), table_values(d / "whole/mock_shear.fits")));
}

TEST_CASE("a catalogue write killed half-way: the rerun removes the temporary and writes the same catalogue") {
  TempDir d;
  const std::string in = d / "s.fits";
  REQUIRE(run_cli("simulate --quiet --n 30 --seed 8 -o '" + in + "'").exit_code == 0);
  const std::string args = "estimate --quiet '" + in + "' --estimators rrg,ksb -o '";
  REQUIRE(run_cli(args + d / "whole.fits'").exit_code == 0);
  // What a kill -9 inside FitsWriter leaves: a partial temporary of a process that is gone.
  const std::string half = d / ".e.fits.tmp.2147483000.0";
  {
    const std::string whole = ds::read_text_file(d / "whole.fits");
    std::ofstream(half, std::ios::binary) << whole.substr(0, whole.size() / 2);
  }
  REQUIRE(run_cli(args + d / "e.fits'").exit_code == 0);
  CHECK(!fs::exists(half));
  CHECK(hidden_entries(d.path.string()) == 0);
  CHECK(same_values(table_values(d / "e.fits"), table_values(d / "whole.fits")));
}

TEST_CASE("training killed during a checkpoint write resumes to the uninterrupted run's model") {
  TempDir d;
  const std::string common = "train --quiet --arch 'input 32 32 1; conv 2 5 3 relu; affine 2 none 0' --train.n 200 "
                             "--val-n 20 --refit-n 300 --calibration-n 50 --evaluate-n 0 --checkpoint-every 1 ";
  REQUIRE(run_cli(common + "--epochs 2 --out " + d / "whole/m.dsm").exit_code == 0);
  // The interrupted run: one epoch (its checkpoint), then what a kill during the next
  // checkpoint write leaves, a partial temporary of a dead process.
  REQUIRE(run_cli(common + "--epochs 1 --out " + d / "cut/m.dsm").exit_code == 0);
  const std::string ckpt = d / "cut/m.dsm.ckpt", half = d / "cut/.m.dsm.ckpt.tmp.2147483000.3";
  {
    const std::string bytes = ds::read_text_file(ckpt);
    std::ofstream(half, std::ios::binary) << bytes.substr(0, bytes.size() / 3);
  }
  fs::remove(d / "cut/m.dsm");
  REQUIRE(run_cli(common + "--epochs 2 --out " + d / "cut/m.dsm").exit_code == 0);
  CHECK(!fs::exists(half));
  // The weights are bit-identical to the uninterrupted run's.
  const auto a = ds::nn::load_model(d / "cut/m.dsm"), b = ds::nn::load_model(d / "whole/m.dsm");
  REQUIRE(a.net.num_params() == b.net.num_params());
  CHECK(std::equal(a.net.params(), a.net.params() + a.net.num_params(), b.net.params()));
}
