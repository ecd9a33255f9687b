// Helpers shared by the tests: where the reference data live, temporary
// folders, running the deepshear command.
#pragma once
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <string>

#include "deepshear/engine/error.hpp"

namespace ds::test {

// ../shared/data beside the checkout; empty when absent (a user's machine).
inline std::string shared_data() {
  std::filesystem::path p(DEEPSHEAR_SHARED_DATA);
  return std::filesystem::is_directory(p) ? std::filesystem::canonical(p).string() : std::string();
}
// The path of a file under ../shared/data, or "" when it is absent.
inline std::string shared_file(const std::string& rel) {
  std::string root = shared_data();
  if (root.empty()) return "";
  std::string p = root + "/" + rel;
  return std::filesystem::exists(p) ? p : std::string();
}

// A fresh temporary folder, removed with the object.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           ("deepshear-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

// The message of the ds::Error thrown by f, or "" if none is thrown.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const ds::Error& e) {
    return e.what();
  }
  return "";
}

struct CommandResult {
  int exit_code;
  std::string out, err;
};
// Runs the built deepshear command with arguments (a shell-quoted string).
CommandResult run_cli(const std::string& args);

}  // namespace ds::test

// Skips the rest of a test case (with a message) when a reference file is absent.
#define DS_REQUIRE_SHARED(var, rel)                                        \
  const std::string var = ds::test::shared_file(rel);                      \
  if (var.empty()) {                                                       \
    MESSAGE("skipped: ../shared/data/" << rel << " is not here");          \
    return;                                                                \
  }
