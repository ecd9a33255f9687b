// Where the shipped defaults in data/ are found: $DEEPSHEAR_DATA if set, else
// the source tree's data/ (a build used in place), else the installed
// share/deepshear/ folder.
#pragma once
#include <string>

namespace ds {

// The full path of a shipped file (e.g. "noise_kernel_default.txt"); throws
// ds::Error naming the places searched when it is in none of them.
std::string data_path(const std::string& name);
// The same, or "" when no place has it.
std::string data_path_or_empty(const std::string& name);

}  // namespace ds
