#include "deepshear/engine/provenance.hpp"

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <mutex>

#include "deepshear/engine/build_info.hpp"
#include "deepshear/engine/error.hpp"

namespace ds {

namespace {

struct Record {
  std::mutex mutex;
  std::string command, settings_hash;
  std::vector<std::string> models;
};

Record& record() {
  static Record r;
  return r;
}

// Now, or SOURCE_DATE_EPOCH (seconds since 1970) when set, as reproducible
// builds do: outputs of equal runs are then equal byte for byte.
std::string utc_now() {
  std::time_t t = std::time(nullptr);
  if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH")) t = std::time_t(std::strtoll(epoch, nullptr, 10));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

// A word of a command line as a shell would need it.
std::string shell_word(const std::string& w) {
  if (!w.empty() && w.find_first_of(" \t\"'\\$`") == std::string::npos) return w;
  std::string q = "'";
  for (char c : w) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace

std::uint64_t fnv1a64_bytes(const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  std::uint64_t h = 14695981039346656037ull;
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

std::string hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::uint64_t file_checksum(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open to compute its checksum");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return fnv1a64_bytes(bytes.data(), bytes.size());
}

Provenance provenance() {
  Record& r = record();
  // The build's facts once: build_info() also probes the CPU and the libraries.
  static const BuildInfo b = build_info();
  std::lock_guard<std::mutex> lock(r.mutex);
  Provenance p;
  p.date = utc_now();
  p.version = b.version;
  p.build = b.build_type + (b.git_commit.empty() ? "" : " " + b.git_commit);
  p.command_line = r.command;
  p.settings_hash = r.settings_hash;
  p.models = r.models;
  return p;
}

void set_provenance_command(int argc, char** argv) {
  std::string line;
  for (int i = 0; i < argc; ++i) line += (i ? " " : "") + shell_word(argv[i]);
  Record& r = record();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.command = line;
}

void set_provenance_settings(const std::string& text) {
  Record& r = record();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.settings_hash = hex64(fnv1a64_bytes(text.data(), text.size()));
}

void add_provenance_model(const std::string& path, std::uint64_t checksum) {
  const std::string name = path.substr(path.find_last_of('/') + 1) + ":" + hex64(checksum);
  Record& r = record();
  std::lock_guard<std::mutex> lock(r.mutex);
  if (std::find(r.models.begin(), r.models.end(), name) == r.models.end()) r.models.push_back(name);
}

void reset_provenance() {
  Record& r = record();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.command.clear(), r.settings_hash.clear(), r.models.clear();
}

static std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

std::string provenance_comment(const Provenance& p) {
  std::string s = "# written by deepshear " + p.version + " (" + p.build + ") on " + p.date + " UTC\n";
  if (!p.command_line.empty()) s += "# command: " + p.command_line + "\n";
  if (!p.settings_hash.empty()) s += "# settings hash (FNV-1a 64): " + p.settings_hash + "\n";
  if (!p.models.empty()) s += "# model checksum (FNV-1a 64): " + joined(p.models) + "\n";
  return s;
}

nlohmann::ordered_json provenance_json(const Provenance& p) {
  nlohmann::ordered_json j;
  j["date"] = p.date;
  j["software"] = "deepshear " + p.version;
  j["build"] = p.build;
  j["command"] = p.command_line;
  j["settings_hash"] = p.settings_hash;
  j["models"] = p.models;
  return j;
}

std::string report_text(nlohmann::ordered_json report) {
  report["provenance"] = provenance_json();
  return report.dump(2) + "\n";
}

std::string config_text(const std::string& dump) { return provenance_comment() + dump; }

}  // namespace ds
