#include "deepshear/engine/parallel.hpp"

#include <atomic>
#include <thread>

namespace ds {

static std::atomic<int> g_threads{0};

int hardware_threads() {
  // Asked once: omp_get_num_procs() is a system call, and threads() is asked
  // at the start of every parallel loop.
  static const int n = [] {
    int p = omp_get_num_procs();
    return p > 0 ? p : int(std::thread::hardware_concurrency());
  }();
  return n;
}

void set_threads(int n) { g_threads = n > 0 ? n : 0; }

int threads() {
  int n = g_threads.load();
  return n > 0 ? n : hardware_threads();
}

}  // namespace ds
