// An endless stream of freshly rendered training stamps: a background thread
// renders chunks of the set (stamps first, first + 1, ...) into a bounded
// queue, and next() hands them out in order. Memory stays bounded by the
// queue (capacity x chunk stamps) however long training runs, and stamp s is
// the same whatever the thread count, so a resumed run that restarts the
// stream at its position sees the same stamps.
#pragma once
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "deepshear/lensing/training/stamp_set.hpp"

namespace ds::lens {

class StampStream {
 public:
  // Streams stamps [first, ...) of cfg's set, rendered `chunk` at a time, at
  // most `capacity` chunks ahead of the consumer.
  StampStream(const StampSetConfig& cfg, long first, long chunk = 1024, long capacity = 4);
  ~StampStream();
  StampStream(const StampStream&) = delete;
  StampStream& operator=(const StampStream&) = delete;

  // The next n stamps: x[n][ny * nx] normalised network inputs, y[n][2] their
  // (g1, g2). Blocks until they are rendered; rethrows a rendering error.
  void next(long n, float* x, float* y);
  long position() const { return position_; }  // index of the next stamp handed out
  long chunks_ahead() const;                    // rendered chunks waiting (for tests)

 private:
  void produce();
  StampRenderer renderer_;
  const long chunk_, capacity_;
  long position_, next_render_;
  std::deque<StampSet> ready_;
  long offset_ = 0;  // stamps of ready_.front() already handed out
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool stop_ = false;
  std::exception_ptr error_;
  std::thread worker_;
};

}  // namespace ds::lens
