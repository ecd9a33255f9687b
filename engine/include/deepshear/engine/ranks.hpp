// This process's place in an MPI job. Every draw depends only on (seed,
// purpose, item), so a job split over ranks by contiguous item ranges gives
// the same bytes as one process; rank 0 gathers and writes.
//
// Without MPI in the build, or when the program was not started by an MPI
// launcher (mpirun, srun: seen from their environment), there is one rank
// and MPI is never initialised. Under a launcher, MPI is initialised on the
// first call of ranks() and finalised at exit.
#pragma once
#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace ds {

struct Ranks {
  int rank = 0, size = 1;
  bool root() const { return rank == 0; }
};

// This process's rank and the job's size.
const Ranks& ranks();
// Items [first, last) of n for this rank: contiguous, in rank order, sizes
// differing by at most one.
std::pair<long, long> rank_range(long n);
// Every rank's bytes gathered on rank 0, in rank order (other ranks get
// nothing back). Collective: every rank calls it.
std::vector<char> gather_to_root(const void* data, std::size_t bytes);
// Every rank's bytes, in rank order, on every rank. Collective.
std::vector<char> gather_to_all(const void* data, std::size_t bytes);
// Rank `from`'s bytes into `data` on every rank (all give the same size). Collective.
void broadcast(void* data, std::size_t bytes, int from = 0);
// Waits until every rank has come here. Collective.
void barrier();
// Point to point, for reductions in a fixed order (a chain through the ranks).
void send_to(int rank, const void* data, std::size_t bytes);
void receive_from(int rank, void* data, std::size_t bytes);
// Ends the whole job with `code` (MPI_Abort under MPI, else exit), so that a
// rank that fails does not leave the others waiting.
[[noreturn]] void abort_job(int code);

// Gathered bytes as items of a trivially copyable T.
template <class T>
std::vector<T> vector_from_bytes(const std::vector<char>& bytes) {
  std::vector<T> out(bytes.size() / sizeof(T));
  if (!out.empty()) std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(out.data()));
  return out;
}

// The gathered copy of a vector of trivially copyable T (on rank 0: every
// rank's items in rank order; elsewhere: empty).
template <class T>
std::vector<T> gather_vector(const std::vector<T>& mine) {
  return vector_from_bytes<T>(gather_to_root(mine.data(), mine.size() * sizeof(T)));
}

// The same on every rank: every rank's items in rank order.
template <class T>
std::vector<T> gather_vector_to_all(const std::vector<T>& mine) {
  return vector_from_bytes<T>(gather_to_all(mine.data(), mine.size() * sizeof(T)));
}

// Rank `from`'s value of a trivially copyable T on every rank.
template <class T>
T broadcast_value(T value, int from = 0) {
  broadcast(&value, sizeof(T), from);
  return value;
}

// Rank `from`'s string on every rank.
std::string broadcast_string(const std::string& s, int from = 0);

}  // namespace ds
