#include "deepshear/engine/data_path.hpp"

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "deepshear/engine/error.hpp"

namespace ds {

std::string data_path(const std::string& name) {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("DEEPSHEAR_DATA")) dirs.push_back(env);
  dirs.push_back(std::string(DEEPSHEAR_SOURCE_DIR) + "/data");
  dirs.push_back(DEEPSHEAR_INSTALL_DATA_DIR);
  std::string tried;
  for (const auto& d : dirs) {
    std::filesystem::path p = std::filesystem::path(d) / name;
    if (std::filesystem::exists(p)) return p.string();
    tried += (tried.empty() ? "" : ", ") + d;
  }
  throw Error("shipped data file '" + name + "' not found (looked in " + tried + "; set DEEPSHEAR_DATA)");
}

std::string data_path_or_empty(const std::string& name) {
  try {
    return data_path(name);
  } catch (const Error&) {
    return "";
  }
}

}  // namespace ds
