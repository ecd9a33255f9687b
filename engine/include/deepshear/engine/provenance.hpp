// What made an output: the run's record, written into every FITS file
// (FitsWriter::commit puts it in the primary header) and into the sidecar
// files (configuration dumps and JSON reports), so a product can be traced to
// the software, the command and the inputs that made it.
//
// The record is process-wide: the command sets the command line once, the
// argument parser the effective settings, and each model that is loaded adds
// its checksum. A library caller may set the same, or leave them empty.
//
// FITS cards (primary HDU):
//   DATE     'yyyy-mm-ddThh:mm:ss'  UTC time the file was written (FITS standard)
//   CREATOR  'deepshear 0.1.0'      software that wrote the file
//   DSVERS   version                DSBUILD  build type and commit
//   DSCMD    the command line       (long-string convention: CONTINUE cards)
//   DSCFGH   FNV-1a 64 hash (16 hex digits) of the effective settings
//   DSMODEL  FNV-1a 64 checksum of the model file(s) used (',' separated)
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ds {

struct Provenance {
  std::string date;            // UTC, ISO 8601 to the second (now, when asked)
  std::string version, build;  // "0.1.0", "Release abc1234"
  std::string command_line;    // "deepshear estimate in.fits -o out.fits"
  std::string settings_hash;   // "" when no settings were recorded
  std::vector<std::string> models;  // "name.dsm:0123456789abcdef"
};

// The record of this process, with `date` = now.
Provenance provenance();

// Sets the command line (argv joined by spaces; words with spaces quoted).
void set_provenance_command(int argc, char** argv);
// Records the effective settings (any stable text, e.g. "key = value" lines);
// their hash becomes DSCFGH.
void set_provenance_settings(const std::string& settings_text);
// Records a model file read by this run: its name and the FNV-1a 64 checksum
// of its bytes. The same file twice is recorded once.
void add_provenance_model(const std::string& path, std::uint64_t checksum);
// Clears the command, settings and models (tests, or a library running many jobs).
void reset_provenance();

// FNV-1a 64 of n bytes, and as 16 hex digits.
std::uint64_t fnv1a64_bytes(const void* data, std::size_t n);
std::string hex64(std::uint64_t v);
// FNV-1a 64 of a whole file; an error names the file.
std::uint64_t file_checksum(const std::string& path);

// The record as "# key: value" lines, for text sidecars (configuration dumps).
std::string provenance_comment(const Provenance& p = provenance());
// The record as a JSON object, for JSON reports ("provenance": {...}).
nlohmann::ordered_json provenance_json(const Provenance& p = provenance());
// A JSON report as written to a file: the object with "provenance" added,
// indented by 2, with a final newline.
std::string report_text(nlohmann::ordered_json report);
// A configuration dump as written to a file: the provenance comment first.
std::string config_text(const std::string& dump);

}  // namespace ds
