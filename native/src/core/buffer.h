// SPDX-License-Identifier: MIT
// Buffer<T>: an owned, uninitialized host array for kernel scratch. Unlike std::vector it does not zero
// its memory, which for tens of megabytes of column workspace would cost a full extra pass per call.
#pragma once
#include <cstddef>
#include <memory>

namespace dcn {

template <typename T>
class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(std::size_t n) : data_(n ? new T[n] : nullptr), size_(n) {}
  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  std::size_t size() const { return size_; }

 private:
  std::unique_ptr<T[]> data_;
  std::size_t size_ = 0;
};

}  // namespace dcn
