// Messages to stderr: info (silenced by --quiet), warnings (always shown).
#pragma once
#include <string>

namespace ds {

void set_quiet(bool quiet);
bool quiet();
// "deepshear: <message>" on stderr unless quiet.
void info(const std::string& message);
// "deepshear: warning: <message>" on stderr.
void warn(const std::string& message);

}  // namespace ds
