#include "deepshear/engine/parallel.hpp"

#include <atomic>
#include <thread>

namespace ds {

static std::atomic<int> g_threads{0};

int hardware_threads() {
  int n = omp_get_num_procs();
  return n > 0 ? n : int(std::thread::hardware_concurrency());
}

void set_threads(int n) { g_threads = n > 0 ? n : 0; }

int threads() {
  int n = g_threads.load();
  return n > 0 ? n : hardware_threads();
}

}  // namespace ds
