// The deepshear command's plumbing: subcommands register themselves, and a
// small argument parser gives every subcommand --help (-h), --threads N and
// --quiet (-q), and, for commands with a Config, --config FILE plus
// --KEY=VALUE for every key. Every long option may be spelled with dashes or
// underscores (--psf-fwhm, --psf_fwhm); help shows the dashes. A value that
// is malformed or out of its range is a usage error (exit 2) naming the flag.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "deepshear/engine/config.hpp"

namespace ds::app {

using CommandFn = std::function<int(int argc, char** argv)>;

struct Command {
  std::string name, summary;
  CommandFn run;
};
std::vector<Command>& commands();

// Registers a subcommand at start-up: static ds::app::Register r("info", "...", fn);
struct Register {
  Register(std::string name, std::string summary, CommandFn fn);
};

// Benchmarks run as `deepshear bench NAME [ARGS]`; each registers itself:
// static ds::app::RegisterBench r("nn", "...", fn); fn gets the arguments after NAME.
std::vector<Command>& benchmarks();
struct RegisterBench {
  RegisterBench(std::string name, std::string summary, CommandFn fn);
};

class Args {
 public:
  // usage: e.g. "deepshear inspect FILE.fits [--header]"
  Args(std::string usage, std::string description);

  void flag(const std::string& name, const std::string& help);
  void option(const std::string& name, const std::string& metavar, const std::string& help,
              const std::string& default_value = "");
  void positional(const std::string& name, const std::string& help, bool required = true, bool many = false);
  // A short form of a declared option, e.g. alias("-o", "--output").
  void alias(const std::string& short_name, const std::string& long_name);
  // Limits a numeric option to [lo, hi], checked when parsing.
  void range(const std::string& name, double lo, double hi);
  // Exposes every key of cfg as --key=value (dots may be written as dashes or
  // dots) and adds --config FILE; values land in cfg in that order: defaults,
  // file, flags.
  void config(Config& cfg);

  // Parses; returns false when --help was asked for (help already printed).
  // Throws a usage Error on anything malformed.
  bool parse(int argc, char** argv);

  bool has(const std::string& name) const;
  std::string get(const std::string& name) const;
  long get_int(const std::string& name) const;
  double get_double(const std::string& name) const;
  const std::vector<std::string>& positionals() const { return positional_values_; }

  std::string help_text() const;

 private:
  std::string output_option() const;
  struct Opt {
    std::string name, metavar, help, value;
    bool is_flag = false, set = false;
    double lo = -1e308, hi = 1e308;
  };
  void check_ranges() const;
  std::string settings_text() const;
  struct Pos {
    std::string name, help;
    bool required, many;
  };
  std::string usage_, description_;
  std::map<std::string, Opt> opts_;
  std::vector<std::string> opt_order_;
  std::vector<Pos> pos_;
  std::vector<std::string> positional_values_;
  std::map<std::string, std::string> aliases_;
  Config* cfg_ = nullptr;
};

}  // namespace ds::app
