// deepshear's one exception type. Messages name the file, HDU, column, key or
// value at fault; the command line prints "deepshear: error: <message>" and
// exits 2 for usage errors, 1 for everything else.
#pragma once
#include <stdexcept>
#include <string>

namespace ds {

class Error : public std::runtime_error {
 public:
  enum class Kind { Runtime, Usage };
  explicit Error(const std::string& message, Kind kind = Kind::Runtime)
      : std::runtime_error(message), kind_(kind) {}
  // A mistake in how the command was called (bad flag, missing argument).
  static Error usage(const std::string& message) { return Error(message, Kind::Usage); }
  Kind kind() const { return kind_; }
  int exit_code() const { return kind_ == Kind::Usage ? 2 : 1; }

 private:
  Kind kind_;
};

// Throws ds::Error(message) when cond is false.
inline void require(bool cond, const std::string& message) {
  if (!cond) throw Error(message);
}

}  // namespace ds

// Like ds::require(), with the message expression evaluated only on failure
// (for hot paths that build error text from numbers).
#define DS_REQUIRE(cond, msg)            \
  do {                                   \
    if (!(cond)) throw ::ds::Error(msg); \
  } while (0)
