#include "deepshear/engine/ranks.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>

#include "deepshear/engine/error.hpp"

#if DEEPSHEAR_HAVE_MPI
#include <mpi.h>
#endif

namespace ds {

namespace {

#if DEEPSHEAR_HAVE_MPI
// Calls f(offset, count) over [0, bytes) in pieces MPI's int counts can hold.
template <class F>
void in_pieces(std::size_t bytes, F f) {
  constexpr std::size_t kPiece = std::numeric_limits<int>::max();
  for (std::size_t done = 0; done < bytes; done += kPiece) f(done, int(std::min(bytes - done, kPiece)));
}
#endif

// Started by an MPI launcher? (Open MPI, PMIx, MPICH/Hydra, Slurm's srun with PMI.)
bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK"})
    if (std::getenv(v)) return true;
  return false;
}

#if DEEPSHEAR_HAVE_MPI
void finalize() {
  int done = 0;
  MPI_Finalized(&done);
  if (!done) MPI_Finalize();
}
#endif

Ranks make_ranks() {
  Ranks r;
#if DEEPSHEAR_HAVE_MPI
  if (!launched_by_mpi()) return r;
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  std::atexit(finalize);
  MPI_Comm_rank(MPI_COMM_WORLD, &r.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &r.size);
#else
  (void)launched_by_mpi;
#endif
  return r;
}

}  // namespace

const Ranks& ranks() {
  static const Ranks r = make_ranks();
  return r;
}

std::pair<long, long> rank_range(long n) {
  const Ranks& r = ranks();
  const long base = n / r.size, extra = n % r.size;
  const long first = r.rank * base + std::min<long>(r.rank, extra);
  return {first, first + base + (r.rank < extra ? 1 : 0)};
}

std::vector<char> gather_to_root(const void* data, std::size_t bytes) {
  const Ranks& r = ranks();
  if (r.size == 1) {
    const char* p = static_cast<const char*>(data);
    return std::vector<char>(p, p + bytes);
  }
#if DEEPSHEAR_HAVE_MPI
  // Sizes first (as 64-bit counts), then the bytes.
  long long mine = static_cast<long long>(bytes);
  std::vector<long long> sizes(r.root() ? std::size_t(r.size) : 0);
  MPI_Gather(&mine, 1, MPI_LONG_LONG, sizes.data(), 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
  std::vector<char> out;
  if (r.root()) {
    long long total = 0;
    for (long long s : sizes) total += s;
    out.resize(std::size_t(total));
    if (bytes) std::memcpy(out.data(), data, bytes);
    long long at = mine;
    for (int k = 1; k < r.size; ++k) {
      receive_from(k, out.data() + at, std::size_t(sizes[std::size_t(k)]));
      at += sizes[std::size_t(k)];
    }
  } else {
    send_to(0, data, bytes);
  }
  return out;
#else
  throw Error("gather_to_root: several ranks without MPI");
#endif
}

std::vector<char> gather_to_all(const void* data, std::size_t bytes) {
  std::vector<char> all = gather_to_root(data, bytes);
  if (ranks().size == 1) return all;
  const auto total = broadcast_value<unsigned long long>(all.size());
  all.resize(std::size_t(total));
  broadcast(all.data(), all.size());
  return all;
}

void broadcast(void* data, std::size_t bytes, int from) {
  if (ranks().size == 1) return;
#if DEEPSHEAR_HAVE_MPI
  char* p = static_cast<char*>(data);
  in_pieces(bytes, [&](std::size_t at, int count) { MPI_Bcast(p + at, count, MPI_BYTE, from, MPI_COMM_WORLD); });
#else
  (void)data, (void)bytes, (void)from;
  throw Error("broadcast: several ranks without MPI");
#endif
}

void barrier() {
#if DEEPSHEAR_HAVE_MPI
  if (ranks().size > 1) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

void send_to(int rank, const void* data, std::size_t bytes) {
#if DEEPSHEAR_HAVE_MPI
  const char* p = static_cast<const char*>(data);
  in_pieces(bytes, [&](std::size_t at, int count) { MPI_Send(p + at, count, MPI_BYTE, rank, 1, MPI_COMM_WORLD); });
#else
  (void)rank, (void)data, (void)bytes;
  throw Error("send_to: several ranks without MPI");
#endif
}

void receive_from(int rank, void* data, std::size_t bytes) {
#if DEEPSHEAR_HAVE_MPI
  char* p = static_cast<char*>(data);
  in_pieces(bytes, [&](std::size_t at, int count) {
    MPI_Recv(p + at, count, MPI_BYTE, rank, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  });
#else
  (void)rank, (void)data, (void)bytes;
  throw Error("receive_from: several ranks without MPI");
#endif
}

std::string broadcast_string(const std::string& s, int from) {
  std::string out = ranks().rank == from ? s : std::string();
  out.resize(std::size_t(broadcast_value<unsigned long long>(out.size(), from)));
  broadcast(out.data(), out.size(), from);
  return out;
}

[[noreturn]] void abort_job(int code) {
#if DEEPSHEAR_HAVE_MPI
  if (ranks().size > 1) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::exit(code);
}

}  // namespace ds
