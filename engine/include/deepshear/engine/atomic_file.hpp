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

// A folder of outputs that appear together: a run writes into a hidden
// staging folder beside `dir` ("dir/.<name>.staging.<pid>"), and commit()
// moves every entry into `dir` (replacing older ones of the same name). Until
// then nothing in `dir` changes; without commit() the staging folder is
// removed. A staging folder of the same name left by a killed run is removed
// when the next one starts.
class StagingFolder {
 public:
  StagingFolder(std::string dir, const std::string& name);
  ~StagingFolder();
  StagingFolder(const StagingFolder&) = delete;
  StagingFolder& operator=(const StagingFolder&) = delete;

  const std::string& path() const { return stage_; }
  // "dir/<file name of staged>": where a staged file ends up.
  std::string final_path(const std::string& staged) const;
  void commit();

 private:
  std::string dir_, stage_;
  bool committed_ = false;
};

// Checks that a file can be written at `path` before any work is done: its
// folder exists and is writable. `what` names the option ("estimate: -o").
void check_output_file(const std::string& path, const std::string& what);

// Writes a file atomically through a stream; if write() throws, the old file
// (if any) is left as it was and the exception propagates.
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write,
                       bool binary = false);
void write_text_atomic(const std::string& path, const std::string& text);

// Reads a whole file; an error names the file.
std::string read_text_file(const std::string& path);

}  // namespace ds
