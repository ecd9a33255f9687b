#include "deepshear/engine/atomic_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "deepshear/engine/error.hpp"

namespace ds {

namespace fs = std::filesystem;

static std::string temp_name_for(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  fs::path p(path);
  fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  std::string name = "." + p.filename().string() + ".tmp." + std::to_string(getpid()) + "." +
                     std::to_string(counter.fetch_add(1));
  return (dir / name).string();
}

// Removes the temporaries of `path` left by processes that no longer run
// (".<name>.tmp.<pid>.<n>" of a killed run); a live writer's are kept.
static void remove_stale_temporaries(const fs::path& path) {
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const std::string prefix = "." + path.filename().string() + ".tmp.";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid > 0 && ::kill(pid_t(pid), 0) != 0 && errno == ESRCH) fs::remove(e.path(), ec);
  }
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)), temp_(temp_name_for(path_)) {
  require(!path_.empty(), "output file name is empty");
  fs::path dir = fs::path(path_).parent_path();
  if (!dir.empty() && !fs::is_directory(dir))
    throw Error(path_ + ": cannot write: folder '" + dir.string() + "' does not exist");
  remove_stale_temporaries(path_);
  std::remove(temp_.c_str());
}

AtomicFile::~AtomicFile() {
  if (!committed_) std::remove(temp_.c_str());
}

void AtomicFile::commit() {
  require(!committed_, path_ + ": committed twice");
  int fd = ::open(temp_.c_str(), O_RDONLY);
  if (fd < 0) throw Error(path_ + ": nothing was written (temporary file " + temp_ + " is missing)");
  ::fsync(fd);
  ::close(fd);
  if (std::rename(temp_.c_str(), path_.c_str()) != 0)
    throw Error(path_ + ": cannot rename temporary file into place: " + std::strerror(errno));
  committed_ = true;
}

StagingFolder::StagingFolder(std::string dir, const std::string& name) : dir_(std::move(dir)) {
  require(!name.empty() && name.find('/') == std::string::npos, "staging folder: bad name '" + name + "'");
  fs::create_directories(dir_);
  const std::string prefix = "." + name + ".staging.";
  for (const auto& e : fs::directory_iterator(dir_))
    if (e.path().filename().string().rfind(prefix, 0) == 0) fs::remove_all(e.path());
  stage_ = (fs::path(dir_) / (prefix + std::to_string(getpid()))).string();
  fs::create_directories(stage_);
}

StagingFolder::~StagingFolder() {
  std::error_code ec;
  if (!committed_) fs::remove_all(stage_, ec);
}

std::string StagingFolder::final_path(const std::string& staged) const {
  return (fs::path(dir_) / fs::path(staged).filename()).string();
}

void StagingFolder::commit() {
  require(!committed_, stage_ + ": committed twice");
  for (const auto& e : fs::directory_iterator(stage_)) {
    const fs::path target = fs::path(dir_) / e.path().filename();
    if (fs::is_directory(target) && !fs::is_symlink(target)) fs::remove_all(target);
    fs::rename(e.path(), target);
  }
  fs::remove(stage_);
  committed_ = true;
}

void check_output_file(const std::string& path, const std::string& what) {
  if (path.empty()) throw Error::usage(what + ": the output file name is empty");
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  if (!fs::is_directory(dir))
    throw Error::usage(what + " " + path + ": folder '" + dir.string() + "' does not exist");
  if (::access(dir.c_str(), W_OK) != 0) throw Error::usage(what + " " + path + ": folder '" + dir.string() + "' is not writable");
  if (fs::is_directory(path)) throw Error::usage(what + " " + path + ": is a folder, not a file");
}

void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write, bool binary) {
  AtomicFile file(path);
  {
    std::ofstream out(file.temp_path(), binary ? std::ios::binary : std::ios::out);
    if (!out) throw Error(path + ": cannot open for writing: " + std::strerror(errno));
    write(out);
    out.flush();
    if (!out) throw Error(path + ": write failed (disk full?)");
  }
  file.commit();
}

void write_text_atomic(const std::string& path, const std::string& text) {
  write_file_atomic(path, [&](std::ostream& out) { out << text; });
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace ds
