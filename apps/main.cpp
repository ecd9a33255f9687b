// deepshear: the command. Each subcommand lives in its own file (cmd_*.cpp) and
// registers itself; this file dispatches and turns errors into one line on
// stderr: "deepshear: error: <message>", exit 2 for usage errors, 1 otherwise.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "cli.hpp"
#include "deepshear/engine/error.hpp"
#include "deepshear/engine/log.hpp"
#include "deepshear/engine/provenance.hpp"
#include "deepshear/engine/ranks.hpp"

static void print_overview() {
  std::printf("usage: deepshear COMMAND [ARGS] [--help]\n\n"
              "Weak-lensing shear estimation: a galaxy renderer, a CNN shear estimator and the RRG\n"
              "moment estimator side by side, and a cluster pipeline.\n\ncommands:\n");
  for (const auto& c : ds::app::commands()) std::printf("  %-14s %s\n", c.name.c_str(), c.summary.c_str());
  std::printf("\n'deepshear COMMAND --help' describes one command.\n");
}

// An error message as one printable line: control characters (a newline in
// a quoted key or file name, say) written as \n, \t or \xNN.
static std::string one_line(const char* message) {
  std::string out;
  for (const char* p = message; *p; ++p) {
    const unsigned char c = static_cast<unsigned char>(*p);
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7f) {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else out += char(c);
  }
  return out;
}

// Commands that split their work over the ranks of an MPI job (the others
// refuse to run on more than one rank rather than repeat the work).
static bool splits_over_ranks(const std::string& command) {
  for (const char* c : {"simulate", "evaluate", "estimate", "train", "cluster"})
    if (command == c) return true;
  return false;
}

// Runs the command; errors become one line on stderr and the exit code.
static int run_command(const std::string& name, int argc, char** argv) {
  const std::string rank = ds::ranks().size > 1 ? "rank " + std::to_string(ds::ranks().rank) + ": " : "";
  try {
    if (ds::ranks().size > 1 && !splits_over_ranks(name))
      throw ds::Error::usage(name + " does not split over MPI ranks yet (" + std::to_string(ds::ranks().size) +
                             " ranks): run it as one process");
    if (!ds::ranks().root()) ds::set_quiet(true);
    for (const auto& c : ds::app::commands())
      if (c.name == name) return c.run(argc - 2, argv + 2);
    throw ds::Error::usage("unknown command '" + name + "' (see deepshear --help)");
  } catch (const ds::Error& e) {
    std::fprintf(stderr, "deepshear: error: %s%s\n", rank.c_str(), one_line(e.what()).c_str());
    return e.exit_code();
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "deepshear: error: %sout of memory\n", rank.c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "deepshear: error: %s%s\n", rank.c_str(), one_line(e.what()).c_str());
    return 1;
  }
}

int main(int argc, char** argv) {
  if (argc < 2) {
    print_overview();
    return 2;
  }
  std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_overview();
    return 0;
  }
  if (name == "--version") name = "version";
  ds::set_provenance_command(argc, argv);
  const int code = run_command(name, argc, argv);
  // A failing rank of an MPI job ends the whole job, so no rank waits for it.
  if (code != 0 && ds::ranks().size > 1) ds::abort_job(code);
  return code;
}
