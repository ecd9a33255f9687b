#include "deepshear/engine/log.hpp"

#include <atomic>
#include <cstdio>

namespace ds {

static std::atomic<bool> g_quiet{false};

void set_quiet(bool q) { g_quiet = q; }
bool quiet() { return g_quiet.load(); }

void info(const std::string& message) {
  if (!g_quiet) std::fprintf(stderr, "deepshear: %s\n", message.c_str());
}

void warn(const std::string& message) { std::fprintf(stderr, "deepshear: warning: %s\n", message.c_str()); }

}  // namespace ds
