#include "base/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "base/check.h"

namespace base {

// Bucket layout: [0, 128) one bucket per value; then for each exponent e >= 1 the values
// [64 << e, 128 << e) split into 64 buckets of width 1 << e.
size_t Histogram::bucket_of(uint64_t value) {
  if (value < kExactLimit) return static_cast<size_t>(value);
  const int shift = std::bit_width(value) - 1 - kSubBits;             // >= 1 here
  const uint64_t sub = (value >> shift) - (uint64_t{1} << kSubBits);  // in [0, 64)
  return static_cast<size_t>(kExactLimit + (static_cast<uint64_t>(shift) - 1) * 64 + sub);
}

uint64_t Histogram::bucket_upper_bound(size_t bucket) {
  if (bucket < kExactLimit) return bucket;
  const uint64_t rest = bucket - kExactLimit;
  const uint64_t shift = rest / 64 + 1;
  const uint64_t sub = rest % 64 + 64;
  const uint64_t low = sub << shift;
  return low + ((uint64_t{1} << shift) - 1);
}

void Histogram::record(uint64_t value) {
  ++counts_[bucket_of(value)];
  ++count_;
  sum_ += value;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

void Histogram::merge(const Histogram& other) {
  for (size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

uint64_t Histogram::percentile(double q) const {
  if (count_ == 0) return 0;
  ENSURE(q >= 0 && q <= 1);
  const auto rank =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(bucket_upper_bound(i), min_, max_);
  }
  return max_;
}

}  // namespace base
