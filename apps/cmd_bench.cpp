// deepshear bench NAME: throughput benchmarks, each printing one JSON line.
// Speed is measured here and by benchmarks/, never by tests.
#include <cstdio>
#include <string>

#include "cli.hpp"
#include "deepshear/engine/error.hpp"

namespace {

std::string names() {
  std::string out;
  for (const auto& b : ds::app::benchmarks()) out += (out.empty() ? "" : ", ") + b.name;
  return out;
}

int run(int argc, char** argv) {
  std::string first = argc > 0 ? argv[0] : "";
  if (argc == 0 || first == "--help") {
    std::printf("usage: deepshear bench NAME [--threads N] [...]\n\nThroughput benchmarks; each prints one JSON line.\n\n");
    for (const auto& b : ds::app::benchmarks()) std::printf("  %-12s %s\n", b.name.c_str(), b.summary.c_str());
    return argc == 0 ? 2 : 0;
  }
  for (const auto& b : ds::app::benchmarks())
    if (b.name == first) return b.run(argc - 1, argv + 1);
  throw ds::Error::usage("bench: unknown benchmark '" + first + "' (known: " + names() + ")");
}

ds::app::Register reg("bench", "throughput benchmarks, one JSON line each (deepshear bench --help)", run);

}  // namespace
