// Run configuration: a documented set of typed parameters, read from a plain
// "key = value" file and overridden by command-line flags (--key=value).
//
// File format: one "key = value" per line; '#' starts a comment; blank lines
// are ignored; keys are [a-z0-9_.]+ (dots group them, e.g. train.batch);
// lists are comma separated ("0.5, 0.25"). An unknown key or a malformed value
// is an error naming the file, the line and the key; typos never pass silently.
// dump() writes the full effective configuration in the same format, so a run
// records it beside its outputs and it can be fed back as --config.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace ds {

class Config {
 public:
  enum class Type { Int, Double, Bool, String, DoubleList };

  // Declares a parameter. The default is given as text and must parse.
  Config& add(const std::string& key, Type type, const std::string& default_value, const std::string& help);
  Config& add_int(const std::string& key, long v, const std::string& help);
  Config& add_double(const std::string& key, double v, const std::string& help);
  Config& add_bool(const std::string& key, bool v, const std::string& help);
  Config& add_string(const std::string& key, const std::string& v, const std::string& help);
  Config& add_doubles(const std::string& key, const std::vector<double>& v, const std::string& help);

  // Limits a numeric key (every item of a list) to [lo, hi]: a value outside
  // is a usage error naming the key and where it was set. The current value
  // must lie inside.
  Config& range(const std::string& key, double lo, double hi);

  bool has(const std::string& key) const { return entries_.count(key) != 0; }
  // Sets a value from text; `where` names its origin for errors ("run.cfg:12",
  // "command line").
  void set(const std::string& key, const std::string& value, const std::string& where = "command line");
  // Reads a config file (see the format above).
  void load_file(const std::string& path);
  // Parses text in the file format; `name` is used in errors.
  void load_text(const std::string& text, const std::string& name);

  // One "key = value" line of the file format: key and value trimmed, and
  // "name:line" for messages.
  struct Line {
    std::string key, value, where;
  };
  // The lines of a text in the file format, in order, without checking the
  // keys (e.g. to read one value back from another run's dump()). A line
  // without '=' is a usage error naming name:line.
  static std::vector<Line> parse_lines(const std::string& text, const std::string& name);

  long get_int(const std::string& key) const;
  double get_double(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  const std::string& get_string(const std::string& key) const;
  std::vector<double> get_doubles(const std::string& key) const;

  // All keys in declaration order.
  std::vector<std::string> keys() const { return order_; }
  const std::string& help(const std::string& key) const;
  Type type(const std::string& key) const;
  const std::string& text(const std::string& key) const;
  // Where the value came from: "default", a file:line, or "command line".
  const std::string& source(const std::string& key) const;

  // The effective configuration in the file format, every key, with help
  // and origin as comments.
  std::string dump() const;
  // The effective configuration as a JSON object (numbers, booleans, strings, arrays).
  std::string to_json() const;

 private:
  struct Entry {
    Type type;
    std::string text, help, source;
    double lo = -1e308, hi = 1e308;
  };
  const Entry& entry(const std::string& key) const;
  static void validate(const std::string& key, const Entry& e, const std::string& value, const std::string& where);
  std::map<std::string, Entry> entries_;
  std::vector<std::string> order_;
};

// Helpers shared with the JSON writers.
std::string json_escape(const std::string& s);
// A number as JSON: %.*g, or null when it is not finite (JSON has no NaN).
std::string json_number(double v, int digits = 6);
std::string trim(const std::string& s);
// The non-empty items of a `sep`-separated list, as written ("a,,b" -> a, b).
std::vector<std::string> split_list(const std::string& s, char sep = ',');
// ASCII case conversions ("cnn" <-> "CNN").
std::string to_upper(std::string s);
std::string to_lower(std::string s);

}  // namespace ds
