#include "cli.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "deepshear/engine/error.hpp"
#include "deepshear/engine/log.hpp"
#include "deepshear/engine/parallel.hpp"
#include "deepshear/engine/provenance.hpp"

namespace ds::app {

std::vector<Command>& commands() {
  static std::vector<Command> list;
  return list;
}

Register::Register(std::string name, std::string summary, CommandFn fn) {
  commands().push_back({std::move(name), std::move(summary), std::move(fn)});
}

std::vector<Command>& benchmarks() {
  static std::vector<Command> list;
  return list;
}

RegisterBench::RegisterBench(std::string name, std::string summary, CommandFn fn) {
  benchmarks().push_back({std::move(name), std::move(summary), std::move(fn)});
}

Args::Args(std::string usage, std::string description)
    : usage_(std::move(usage)), description_(std::move(description)) {
  option("--threads", "N", "threads to use (default: all cores)", "0");
  range("--threads", 0, 4096);
  flag("--quiet", "no progress or information messages");
  flag("--help", "show this help");
  alias("-q", "--quiet");
  alias("-h", "--help");
}

// A long option's one spelling: "--psf_fwhm" -> "--psf-fwhm".
static std::string canonical(std::string name) {
  if (name.rfind("--", 0) == 0)
    for (std::size_t i = 2; i < name.size(); ++i)
      if (name[i] == '_') name[i] = '-';
  return name;
}

void Args::flag(const std::string& name_, const std::string& help) {
  const std::string name = canonical(name_);
  opts_[name] = Opt{name, "", help, "", true, false};
  opt_order_.push_back(name);
}

void Args::option(const std::string& name_, const std::string& metavar, const std::string& help,
                  const std::string& def) {
  const std::string name = canonical(name_);
  opts_[name] = Opt{name, metavar, help, def, false, false};
  opt_order_.push_back(name);
}

void Args::range(const std::string& name, double lo, double hi) {
  auto it = opts_.find(canonical(name));
  require(it != opts_.end() && !it->second.is_flag, "internal: range of undeclared option " + name);
  it->second.lo = lo, it->second.hi = hi;
}

// Every option given a range holds a number inside it.
void Args::check_ranges() const {
  for (const auto& [name, o] : opts_) {
    if (o.is_flag || (o.lo <= -1e308 && o.hi >= 1e308)) continue;
    const double v = get_double(name);
    if (std::isnan(v) || v < o.lo || v > o.hi) {
      char buf[160];
      if (o.hi >= 1e308) std::snprintf(buf, sizeof buf, "must be >= %.10g", o.lo);
      else std::snprintf(buf, sizeof buf, "must be in [%.10g, %.10g]", o.lo, o.hi);
      throw Error::usage("option " + name + ": '" + o.value + "' " + buf);
    }
  }
}

// The effective settings (options, then configuration keys) as "key = value"
// lines: what the run's settings hash is computed from.
std::string Args::settings_text() const {
  std::string t;
  for (const auto& n : opt_order_)
    if (n != "--threads" && n != "--quiet" && n != "--help") t += n.substr(2) + " = " + opts_.at(n).value + "\n";
  if (cfg_)
    for (const auto& k : cfg_->keys()) t += k + " = " + cfg_->text(k) + "\n";
  return t;
}

void Args::positional(const std::string& name, const std::string& help, bool required, bool many) {
  pos_.push_back(Pos{name, help, required, many});
}

void Args::alias(const std::string& short_name, const std::string& long_name_) {
  const std::string long_name = canonical(long_name_);
  require(opts_.count(long_name) != 0, "internal: alias " + short_name + " of undeclared option " + long_name);
  aliases_[short_name] = long_name;
  opts_[long_name].help += " (also " + short_name + ")";
}

void Args::config(Config& cfg) {
  cfg_ = &cfg;
  option("--config", "FILE", "read parameters from FILE (key = value lines); flags below override it");
}

static std::string key_of(const std::string& flag) {
  std::string k = flag.substr(2);
  for (auto& c : k)
    if (c == '-') c = '_';
  return k;
}

// The command's output option, "--out" or "--output" (declared or a
// configuration key), or "" when it has none.
std::string Args::output_option() const {
  for (const char* n : {"--out", "--output"})
    if (opts_.count(n) || (cfg_ && cfg_->has(key_of(n)))) return n;
  return "";
}

bool Args::parse(int argc, char** argv) {
  std::vector<std::pair<std::string, std::string>> cfg_sets;
  // Every command that writes something takes -o, --out and --output alike.
  const std::string output = output_option();
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (aliases_.count(a)) a = aliases_[a];
    else if (a == "-o" && !output.empty()) a = output;
    if (a.size() > 2 && a.rfind("--", 0) == 0) {
      std::string name = a, value;
      bool has_value = false;
      auto eq = a.find('=');
      if (eq != std::string::npos) {
        name = a.substr(0, eq);
        value = a.substr(eq + 1);
        has_value = true;
      }
      name = canonical(name);
      if ((name == "--out" || name == "--output") && !output.empty()) name = output;
      auto it = opts_.find(name);
      if (it != opts_.end()) {
        Opt& o = it->second;
        if (o.is_flag) {
          if (has_value) throw Error::usage("option " + name + " takes no value");
        } else if (!has_value) {
          if (i + 1 >= argc) throw Error::usage("option " + name + " needs a value (" + o.metavar + ")");
          value = argv[++i];
        }
        o.set = true;
        o.value = value;
        if (name == "--help") {
          std::fputs(help_text().c_str(), stdout);
          return false;
        }
        continue;
      }
      if (cfg_ && cfg_->has(key_of(name))) {
        if (!has_value) {
          if (i + 1 >= argc) throw Error::usage("option " + name + " needs a value");
          value = argv[++i];
        }
        cfg_sets.emplace_back(key_of(name), value);
        continue;
      }
      throw Error::usage("unknown option " + name + " (see --help)");
    }
    positional_values_.push_back(a);
  }
  // Positional arguments: count check.
  std::size_t min = 0, max = 0;
  bool many = false;
  for (const auto& p : pos_) {
    if (p.required) ++min;
    ++max;
    many = many || p.many;
  }
  if (positional_values_.size() < min) {
    std::string missing;
    for (std::size_t i = positional_values_.size(); i < pos_.size(); ++i)
      if (pos_[i].required) missing += (missing.empty() ? "" : ", ") + pos_[i].name;
    throw Error::usage("missing argument: " + missing + " (usage: " + usage_ + ")");
  }
  if (!many && positional_values_.size() > max)
    throw Error::usage("unexpected argument '" + positional_values_[max] + "' (usage: " + usage_ + ")");
  if (cfg_) {
    if (has("--config")) cfg_->load_file(get("--config"));
    for (const auto& [k, v] : cfg_sets) cfg_->set(k, v, "--" + k);
  }
  check_ranges();
  set_threads(int(get_int("--threads")));
  set_quiet(has("--quiet"));
  set_provenance_settings(settings_text());
  return true;
}

bool Args::has(const std::string& name) const {
  auto it = opts_.find(canonical(name));
  return it != opts_.end() && it->second.set;
}

std::string Args::get(const std::string& name) const {
  auto it = opts_.find(canonical(name));
  if (it == opts_.end()) throw Error("internal: option " + name + " was not declared");
  return it->second.value;
}

long Args::get_int(const std::string& name) const {
  std::string v = get(name);
  char* end = nullptr;
  long r = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end) throw Error::usage("option " + name + ": '" + v + "' is not an integer");
  return r;
}

double Args::get_double(const std::string& name) const {
  std::string v = get(name);
  char* end = nullptr;
  double r = std::strtod(v.c_str(), &end);
  if (v.empty() || *end) throw Error::usage("option " + name + ": '" + v + "' is not a number");
  return r;
}

std::string Args::help_text() const {
  std::string out = "usage: " + usage_ + "\n\n" + description_ + "\n";
  if (!pos_.empty()) {
    out += "\narguments:\n";
    for (const auto& p : pos_) {
      char buf[512];
      std::snprintf(buf, sizeof buf, "  %-24s %s\n", p.name.c_str(), p.help.c_str());
      out += buf;
    }
  }
  out += "\noptions:\n";
  for (const auto& n : opt_order_) {
    const Opt& o = opts_.at(n);
    std::string left = o.name + (o.metavar.empty() ? "" : " " + o.metavar);
    std::string help = o.help + (!o.is_flag && !o.value.empty() && o.value != "0" ? " [" + o.value + "]" : "");
    char buf[1024];
    std::snprintf(buf, sizeof buf, "  %-24s %s\n", left.c_str(), help.c_str());
    out += buf;
  }
  if (cfg_) {
    const std::string output = output_option();
    if (!output.empty() && !opts_.count(output))
      out += "  -o, --out, --output       the output (the parameter " + output.substr(2) + " below)\n";
    out += "\nparameters (--KEY=VALUE, or KEY = VALUE with '_' for '-' in a --config file):\n";
    for (const auto& k : cfg_->keys()) {
      char buf[1024];
      std::snprintf(buf, sizeof buf, "  %-24s %s [%s]\n", canonical("--" + k).c_str(), cfg_->help(k).c_str(),
                    cfg_->text(k).c_str());
      out += buf;
    }
  }
  return out;
}

}  // namespace ds::app
