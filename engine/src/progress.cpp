#include "deepshear/engine/progress.hpp"

#include <unistd.h>

#include <cmath>

#include "deepshear/engine/log.hpp"

namespace ds {

static std::atomic<double> g_log_interval{5.0};
void Progress::set_log_interval(double s) { g_log_interval = s; }

std::string format_duration(double s) {
  char buf[64];
  if (!std::isfinite(s) || s < 0) return "?";
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%dm%02ds", int(s / 60), int(s) % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%dh%02dm", int(s / 3600), (int(s) / 60) % 60);
  }
  return buf;
}

Progress::Progress(std::string label, long total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), start_(Clock::now()), last_draw_(start_) {
  tty_ = isatty(fileno(stderr));
}

Progress::~Progress() {
  if (!finished_ && done_ > 0) finish();
}

std::string Progress::line() const {
  double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  long done = done_.load();
  double rate = elapsed > 0 ? double(done) / elapsed : 0;
  char buf[256];
  if (total_ > 0) {
    double eta = rate > 0 ? double(total_ - done) / rate : NAN;
    std::snprintf(buf, sizeof buf, "%s: %ld / %ld %s (%.1f%%), %.4g %s/s, elapsed %s, ETA %s", label_.c_str(), done,
                  total_, unit_.c_str(), 100.0 * double(done) / double(total_), rate, unit_.c_str(),
                  format_duration(elapsed).c_str(), format_duration(eta).c_str());
  } else {
    std::snprintf(buf, sizeof buf, "%s: %ld %s, %.4g %s/s, elapsed %s", label_.c_str(), done, unit_.c_str(), rate,
                  unit_.c_str(), format_duration(elapsed).c_str());
  }
  std::lock_guard<std::mutex> lock(mutex_);
  return note_.empty() ? std::string(buf) : std::string(buf) + ", " + note_;
}

void Progress::set_note(const std::string& note) {
  std::lock_guard<std::mutex> lock(mutex_);
  note_ = note;
}

void Progress::tick(long n) {
  long done = done_.fetch_add(n) + n;
  if (quiet() || done < next_check_.load(std::memory_order_relaxed)) return;
  // Look at the clock at most every ~1/200 of the work or every 64 items.
  next_check_ = done + std::max(1L, std::min(64L, total_ / 200));
  draw(false);
}

void Progress::draw(bool final) {
  std::unique_lock<std::mutex> lock(draw_mutex_, std::defer_lock);
  if (final)
    lock.lock();
  else if (!lock.try_lock())
    return;
  auto now = Clock::now();
  double since = std::chrono::duration<double>(now - last_draw_).count();
  if (!final && since < (tty_ ? 0.2 : g_log_interval.load())) return;
  last_draw_ = now;
  std::string text = line();
  if (tty_)
    std::fprintf(stderr, "\r\033[K%s%s", text.c_str(), final ? "\n" : "");
  else
    std::fprintf(stderr, "%s\n", text.c_str());
  std::fflush(stderr);
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (!quiet()) draw(true);
}

}  // namespace ds
