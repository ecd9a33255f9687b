#include "deepshear/lensing/training/stamp_stream.hpp"

#include "deepshear/engine/error.hpp"

namespace ds::lens {

StampStream::StampStream(const StampSetConfig& cfg, long first, long chunk, long capacity)
    : renderer_(cfg), chunk_(chunk), capacity_(capacity), position_(first), next_render_(first) {
  require(chunk > 0 && capacity > 0, "stamp stream: chunk and capacity must be positive");
  worker_ = std::thread([this] { produce(); });
}

StampStream::~StampStream() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  worker_.join();
}

void StampStream::produce() {
  for (;;) {
    long first;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return stop_ || long(ready_.size()) < capacity_; });
      if (stop_) return;
      first = next_render_;
      next_render_ += chunk_;
    }
    try {
      StampSet s = renderer_.render(first, chunk_);
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.push_back(std::move(s));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      error_ = std::current_exception();
      stop_ = true;
    }
    changed_.notify_all();
  }
}

void StampStream::next(long n, float* x, float* y) {
  long done = 0;
  while (done < n) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return !ready_.empty() || error_; });
    if (ready_.empty() && error_) std::rethrow_exception(error_);
    StampSet& s = ready_.front();
    const long m = s.stamps.dim(1) * s.stamps.dim(2);
    const long take = std::min(n - done, chunk_ - offset_);
    network_inputs(s, offset_, take, x + done * m, y + 2 * done);
    done += take, offset_ += take, position_ += take;
    if (offset_ == chunk_) {
      ready_.pop_front();
      offset_ = 0;
      lock.unlock();
      changed_.notify_all();
    }
  }
}

long StampStream::chunks_ahead() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return long(ready_.size());
}

}  // namespace ds::lens
