// OpenMP helpers. One process-wide thread count (set by --threads N, default
// all cores) is honoured by every parallel loop in deepshear.
//
//   ds::parallel_for(n, [&](long i, int thread) { ... });
//   ds::parallel_for_scratch<Scratch>(n, [&] { return Scratch(...); },
//       [&](long i, Scratch& s) { ... });   // one Scratch per thread, made once
#pragma once
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <vector>

namespace ds {

// Sets the number of threads for all later parallel work (n <= 0: all cores).
void set_threads(int n);
// The number of threads parallel work will use.
int threads();
// The number of cores the machine offers.
int hardware_threads();

// Runs body(i, thread) for i in [0, n) on threads() threads, dynamically
// scheduled in chunks of `chunk`. The first exception thrown by any body is
// rethrown on the calling thread once the loop has stopped.
template <class Body>
void parallel_for(long n, Body&& body, long chunk = 1) {
  std::exception_ptr error;
  std::mutex error_mutex;
  std::atomic<bool> failed{false};
  const int nt = int(std::min<long>(threads(), std::max<long>(n, 1)));
#pragma omp parallel for schedule(dynamic, chunk) num_threads(nt)
  for (long i = 0; i < n; ++i) {
    // Once something has failed, the remaining items are skipped.
    if (failed.load(std::memory_order_relaxed)) continue;
    try {
      body(i, omp_get_thread_num());
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      failed = true;
    }
  }
  if (error) std::rethrow_exception(error);
}

// Like parallel_for, with per-thread scratch made by make() once per thread.
template <class Scratch, class Make, class Body>
void parallel_for_scratch(long n, Make&& make, Body&& body, long chunk = 1) {
  std::vector<Scratch> scratch;
  scratch.reserve(std::size_t(threads()));
  for (int t = 0; t < threads(); ++t) scratch.push_back(make());
  parallel_for(n, [&](long i, int t) { body(i, scratch[std::size_t(t)]); }, chunk);
}

}  // namespace ds
