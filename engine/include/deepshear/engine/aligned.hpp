// A 64-byte aligned, owning, resizable buffer of trivially copyable T
// (cache-line and AVX-512 aligned; FFTW and Eigen use it without copies).
// borrow() makes instead a view of memory its caller owns (a numpy array, a
// C caller's array; any alignment): never freed, and a resize() gives the
// buffer memory of its own rather than writing into the borrowed memory.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

namespace ds {

constexpr std::size_t kAlignment = 64;

template <class T>
class AlignedBuffer {
  static_assert(std::is_trivially_copyable_v<T>, "AlignedBuffer holds plain data");

 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(std::size_t n) { resize(n); }
  AlignedBuffer(std::size_t n, T value) {
    resize(n);
    for (std::size_t i = 0; i < n; ++i) data_[i] = value;
  }
  AlignedBuffer(const AlignedBuffer& o) {
    resize(o.size_);
    if (size_) std::memcpy(data_, o.data_, size_ * sizeof(T));
  }
  AlignedBuffer(AlignedBuffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)), owned_(std::exchange(o.owned_, true)) {}
  // A view of n elements at p, which the caller keeps alive while the buffer
  // (or anything moved from it) lives. Copies of it own their memory.
  static AlignedBuffer borrow(T* p, std::size_t n) {
    AlignedBuffer b;
    b.data_ = n ? p : nullptr, b.size_ = n, b.owned_ = false;
    return b;
  }
  bool owned() const { return owned_; }
  AlignedBuffer& operator=(const AlignedBuffer& o) {
    if (this != &o) {
      AlignedBuffer tmp(o);
      swap(tmp);
    }
    return *this;
  }
  AlignedBuffer& operator=(AlignedBuffer&& o) noexcept {
    if (this != &o) {
      release();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      owned_ = std::exchange(o.owned_, true);
    }
    return *this;
  }
  ~AlignedBuffer() { release(); }

  // Resizes to n elements; contents are zeroed (old contents are not kept).
  void resize(std::size_t n) {
    if (n == size_ && owned_) {
      if (n) std::memset(static_cast<void*>(data_), 0, n * sizeof(T));
      return;
    }
    release();
    if (n == 0) return;
    std::size_t bytes = (n * sizeof(T) + kAlignment - 1) / kAlignment * kAlignment;
    data_ = static_cast<T*>(std::aligned_alloc(kAlignment, bytes));
    if (!data_) throw std::bad_alloc();
    std::memset(static_cast<void*>(data_), 0, bytes);
    size_ = n;
  }
  void swap(AlignedBuffer& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(owned_, o.owned_);
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](std::size_t i) { return data_[i]; }
  const T& operator[](std::size_t i) const { return data_[i]; }
  T* begin() { return data_; }
  T* end() { return data_ + size_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }

 private:
  void release() {
    if (owned_) std::free(data_);
    data_ = nullptr;
    size_ = 0;
    owned_ = true;
  }
  T* data_ = nullptr;
  std::size_t size_ = 0;
  bool owned_ = true;  // false: borrowed memory, not ours to free
};

}  // namespace ds
