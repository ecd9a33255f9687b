#include "deepshear/engine/config.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "deepshear/engine/atomic_file.hpp"
#include "deepshear/engine/error.hpp"

namespace ds {

std::vector<std::string> split_list(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep))
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string trim(const std::string& s) {
  std::size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

std::string to_upper(std::string s) {
  for (auto& c : s) c = char(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string to_lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string json_number(double v, int digits) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

static bool parse_long(const std::string& s, long& v) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  v = std::strtol(s.c_str(), &end, 10);
  return errno == 0 && end && *end == '\0';
}

static bool parse_double(const std::string& s, double& v) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  v = std::strtod(s.c_str(), &end);
  return errno == 0 && end && *end == '\0' && std::isfinite(v);
}

static bool parse_bool(const std::string& s, bool& v) {
  if (s == "true" || s == "yes" || s == "on" || s == "1") return v = true, true;
  if (s == "false" || s == "no" || s == "off" || s == "0") return v = false, true;
  return false;
}

// The trimmed items of a number list, empty ones kept (so "1,,2" fails to parse).
static std::vector<std::string> list_items(const std::string& s) {
  std::vector<std::string> out;
  if (trim(s).empty()) return out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(trim(item));
  return out;
}

static const char* type_name(Config::Type t) {
  switch (t) {
    case Config::Type::Int: return "an integer";
    case Config::Type::Double: return "a number";
    case Config::Type::Bool: return "true or false";
    case Config::Type::String: return "text";
    case Config::Type::DoubleList: return "a comma-separated list of numbers";
  }
  return "?";
}

static std::string range_text(double lo, double hi) {
  auto num = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.10g", v);
    return std::string(buf);
  };
  if (hi >= 1e308) return "must be >= " + num(lo);
  if (lo <= -1e308) return "must be <= " + num(hi);
  return "must be in [" + num(lo) + ", " + num(hi) + "]";
}

void Config::validate(const std::string& key, const Entry& e, const std::string& value, const std::string& where) {
  bool ok = true, in_range = true;
  long l = 0;
  double d = 0;
  bool b;
  auto check = [&](double v) { in_range = in_range && v >= e.lo && v <= e.hi; };
  switch (e.type) {
    case Type::Int: ok = parse_long(value, l), check(double(l)); break;
    case Type::Double: ok = parse_double(value, d) && !std::isnan(d), check(d); break;
    case Type::Bool: ok = parse_bool(value, b); break;
    case Type::String: ok = true; break;
    case Type::DoubleList:
      for (const auto& item : list_items(value)) ok = ok && parse_double(item, d) && !std::isnan(d), check(d);
      break;
  }
  if (!ok)
    throw Error(where + ": key '" + key + "': value '" + value + "' is not " + type_name(e.type), Error::Kind::Usage);
  if (!in_range)
    throw Error(where + ": key '" + key + "': value '" + value + "' " + range_text(e.lo, e.hi), Error::Kind::Usage);
}

Config& Config::range(const std::string& key, double lo, double hi) {
  auto it = entries_.find(key);
  require(it != entries_.end(), "internal: range of undeclared config key '" + key + "'");
  it->second.lo = lo, it->second.hi = hi;
  validate(key, it->second, it->second.text, "default");
  return *this;
}

Config& Config::add(const std::string& key, Type type, const std::string& def, const std::string& help) {
  require(!has(key), "config key '" + key + "' declared twice");
  for (char c : key)
    require(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_' ||
                c == '.',
            "config key '" + key + "' has characters other than [a-z0-9_.]");
  entries_[key] = Entry{type, def, help, "default"};
  validate(key, entries_[key], def, "default");
  order_.push_back(key);
  return *this;
}

static std::string num_text(double v) {
  std::ostringstream ss;
  ss.precision(17);
  ss << v;
  double back = std::strtod(ss.str().c_str(), nullptr);
  for (int p = 6; p < 17; ++p) {  // shortest text that reads back exactly
    std::ostringstream s2;
    s2.precision(p);
    s2 << v;
    if (std::strtod(s2.str().c_str(), nullptr) == back) return s2.str();
  }
  return ss.str();
}

Config& Config::add_int(const std::string& k, long v, const std::string& h) {
  return add(k, Type::Int, std::to_string(v), h);
}
Config& Config::add_double(const std::string& k, double v, const std::string& h) {
  return add(k, Type::Double, num_text(v), h);
}
Config& Config::add_bool(const std::string& k, bool v, const std::string& h) {
  return add(k, Type::Bool, v ? "true" : "false", h);
}
Config& Config::add_string(const std::string& k, const std::string& v, const std::string& h) {
  return add(k, Type::String, v, h);
}
Config& Config::add_doubles(const std::string& k, const std::vector<double>& v, const std::string& h) {
  std::string text;
  for (std::size_t i = 0; i < v.size(); ++i) text += (i ? ", " : "") + num_text(v[i]);
  return add(k, Type::DoubleList, text, h);
}

const Config::Entry& Config::entry(const std::string& key) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) throw Error("config: unknown key '" + key + "'", Error::Kind::Usage);
  return it->second;
}

void Config::set(const std::string& key, const std::string& value, const std::string& where) {
  auto it = entries_.find(key);
  if (it == entries_.end()) throw Error(where + ": unknown key '" + key + "'", Error::Kind::Usage);
  std::string v = trim(value);
  validate(key, it->second, v, where);
  it->second.text = v;
  it->second.source = where;
}

std::vector<Config::Line> Config::parse_lines(const std::string& text, const std::string& name) {
  std::vector<Line> lines;
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    std::string where = name + ":" + std::to_string(lineno);
    auto hash = line.find('#');
    if (hash != std::string::npos) line = line.substr(0, hash);
    line = trim(line);
    if (line.empty()) continue;
    auto eq = line.find('=');
    if (eq == std::string::npos)
      throw Error(where + ": expected 'key = value', found '" + line + "'", Error::Kind::Usage);
    lines.push_back({trim(line.substr(0, eq)), trim(line.substr(eq + 1)), where});
  }
  return lines;
}

void Config::load_text(const std::string& text, const std::string& name) {
  const auto nul = text.find('\0');
  if (nul != std::string::npos)
    throw Error(name + ":" + std::to_string(1 + std::count(text.begin(), text.begin() + long(nul), '\n')) +
                    ": a NUL byte: not a text configuration file",
                Error::Kind::Usage);
  std::map<std::string, std::string> first;  // key -> where it was set in this text
  for (const auto& l : parse_lines(text, name)) {
    auto [it, fresh] = first.emplace(l.key, l.where);
    if (!fresh) throw Error(l.where + ": key '" + l.key + "' is set twice (first at " + it->second + ")", Error::Kind::Usage);
    set(l.key, l.value, l.where);
  }
}

void Config::load_file(const std::string& path) { load_text(read_text_file(path), path); }

long Config::get_int(const std::string& key) const {
  const Entry& e = entry(key);
  require(e.type == Type::Int, "config key '" + key + "' is not an integer");
  return std::strtol(e.text.c_str(), nullptr, 10);
}
double Config::get_double(const std::string& key) const {
  const Entry& e = entry(key);
  require(e.type == Type::Double || e.type == Type::Int, "config key '" + key + "' is not a number");
  return std::strtod(e.text.c_str(), nullptr);
}
bool Config::get_bool(const std::string& key) const {
  const Entry& e = entry(key);
  require(e.type == Type::Bool, "config key '" + key + "' is not a boolean");
  bool b = false;
  parse_bool(e.text, b);
  return b;
}
const std::string& Config::get_string(const std::string& key) const { return entry(key).text; }
std::vector<double> Config::get_doubles(const std::string& key) const {
  const Entry& e = entry(key);
  require(e.type == Type::DoubleList, "config key '" + key + "' is not a list of numbers");
  std::vector<double> out;
  for (const auto& item : list_items(e.text)) out.push_back(std::strtod(item.c_str(), nullptr));
  return out;
}
const std::string& Config::help(const std::string& key) const { return entry(key).help; }
Config::Type Config::type(const std::string& key) const { return entry(key).type; }
const std::string& Config::text(const std::string& key) const { return entry(key).text; }
const std::string& Config::source(const std::string& key) const { return entry(key).source; }

std::string Config::dump() const {
  std::string out;
  for (const auto& k : order_) {
    const Entry& e = entries_.at(k);
    out += "# " + e.help + (e.source == "default" ? "" : " (set at " + e.source + ")") + "\n";
    out += k + " = " + e.text + "\n";
  }
  return out;
}

std::string Config::to_json() const {
  std::string out = "{";
  for (std::size_t i = 0; i < order_.size(); ++i) {
    const Entry& e = entries_.at(order_[i]);
    out += (i ? ", " : "") + std::string("\"") + json_escape(order_[i]) + "\": ";
    switch (e.type) {
      case Type::Int: out += std::to_string(get_int(order_[i])); break;
      case Type::Double: out += num_text(get_double(order_[i])); break;
      case Type::Bool: out += get_bool(order_[i]) ? "true" : "false"; break;
      case Type::String: out += "\"" + json_escape(e.text) + "\""; break;
      case Type::DoubleList: {
        out += "[";
        auto items = list_items(e.text);
        for (std::size_t j = 0; j < items.size(); ++j)
          out += (j ? ", " : "") + num_text(std::strtod(items[j].c_str(), nullptr));
        out += "]";
      }
    }
  }
  return out + "}";
}

}  // namespace ds
