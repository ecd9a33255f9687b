// Atomic output: a file is written under a temporary name in the same folder
// and renamed over the target only when complete, so a crash or an error never
// leaves half a file, and an old file survives a failed rewrite.
//
//   ds::AtomicFile out("catalogue.fits");
//   write_everything(out.temp_path());   // any writer, e.g. CFITSIO
//   out.commit();                        // rename; without it the temp is removed
#pragma once
#include <functional>
#include <ostream>
#include <string>

namespace ds {

class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();  // removes the temporary file unless committed
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_; }
  // Flushes the temporary file to disk and renames it to path().
  void commit();

 private:
  std::string path_, temp_;
  bool committed_ = false;
};

// Writes a file atomically through a stream; if write() throws, the old file
// (if any) is left as it was and the exception propagates.
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write,
                       bool binary = false);
void write_text_atomic(const std::string& path, const std::string& text);

// Reads a whole file; an error names the file.
std::string read_text_file(const std::string& path);

}  // namespace ds
