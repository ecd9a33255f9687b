// Progress of long work: items done / total, rate, ETA. On a terminal one line
// is redrawn in place; otherwise (a log file, CI) a line is printed every few
// seconds. Silent under --quiet. tick() is thread-safe and cheap.
//
//   ds::Progress p("render", n_stamps, "stamps");
//   ... p.tick(); ...          // from any thread
//   p.finish();                // final line with the total time
#pragma once
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>

namespace ds {

class Progress {
 public:
  Progress(std::string label, long total, std::string unit = "items");
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void tick(long n = 1);
  // Extra text shown after the counts (e.g. "loss 0.0123").
  void set_note(const std::string& note);
  void finish();
  long done() const { return done_.load(); }

  // The status line as it would be printed now (for tests and logs).
  std::string line() const;
  // Seconds between lines when stderr is not a terminal.
  static void set_log_interval(double seconds);

 private:
  void draw(bool final);
  using Clock = std::chrono::steady_clock;
  std::string label_, unit_, note_;
  long total_;
  std::atomic<long> done_{0};
  Clock::time_point start_, last_draw_;
  std::atomic<long> next_check_{0};
  mutable std::mutex mutex_;  // guards note_
  std::mutex draw_mutex_;     // one thread draws at a time
  bool tty_ = false, finished_ = false;
};

// "1h02m", "3m05s", "12.3s"
std::string format_duration(double seconds);

}  // namespace ds
