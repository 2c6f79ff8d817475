// A latency histogram with bounded relative error (log-linear buckets, as in HdrHistogram):
// values below 128 are counted exactly; larger values fall into one of 64 buckets per power of
// two, so a reported percentile is within 1/64 (1.6%) above the true value. Fixed size (about
// 21 KB), no allocation after construction, O(1) record. Units are the caller's (kv bench records
// microseconds). Not thread-safe: give each thread its own and merge().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace base {

class Histogram {
 public:
  void record(uint64_t value);
  void merge(const Histogram& other);
  void reset() { *this = Histogram(); }

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ == 0 ? 0 : static_cast<double>(sum_) / count_; }
  // The smallest bucket bound at or above the value of rank ceil(q * count), clamped to
  // [min(), max()]. q in [0, 1]; 0 for an empty histogram.
  uint64_t percentile(double q) const;

 private:
  static constexpr int kSubBits = 6;                                // 64 buckets per power of two
  static constexpr uint64_t kExactLimit = uint64_t{2} << kSubBits;  // 128: counted exactly
  static constexpr size_t kBuckets = kExactLimit + (64 - kSubBits - 1) * (size_t{1} << kSubBits);

  static size_t bucket_of(uint64_t value);
  static uint64_t bucket_upper_bound(size_t bucket);  // the largest value in the bucket

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace base
