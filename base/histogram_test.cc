#include "base/histogram.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/rng.h"

TEST_CASE("histogram: small values are exact, percentiles follow ranks") {
  base::Histogram h;
  for (uint64_t v = 1; v <= 100; ++v) h.record(v);
  CHECK(h.count() == 100);
  CHECK(h.min() == 1);
  CHECK(h.max() == 100);
  CHECK(h.mean() == doctest::Approx(50.5));
  CHECK(h.percentile(0.5) == 50);
  CHECK(h.percentile(0.99) == 99);
  CHECK(h.percentile(1.0) == 100);
  CHECK(h.percentile(0.0) == 1);
}

TEST_CASE("histogram: an empty histogram reports zeros") {
  base::Histogram h;
  CHECK(h.count() == 0);
  CHECK(h.percentile(0.99) == 0);
  CHECK(h.min() == 0);
  CHECK(h.max() == 0);
}

TEST_CASE("histogram: large values stay within 1/64 above the exact percentile") {
  base::Rng rng(7);
  std::vector<uint64_t> values;
  base::Histogram h;
  for (int i = 0; i < 100000; ++i) {
    // Spread over many powers of two, up to about 2^40.
    uint64_t v = rng.next() >> rng.range(24, 63);
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.1, 0.5, 0.9, 0.99, 0.999}) {
    auto rank = static_cast<size_t>(std::ceil(q * values.size()));
    uint64_t exact = values[rank - 1];
    uint64_t got = h.percentile(q);
    CHECK(got >= exact);
    CHECK(static_cast<double>(got) <= static_cast<double>(exact) * (1.0 + 1.0 / 64) + 1);
  }
  CHECK(h.percentile(1.0) == values.back());
}

TEST_CASE("histogram: merge equals recording everything in one") {
  base::Histogram a, b, all;
  for (uint64_t v = 0; v < 5000; v += 3) {
    (v % 2 ? a : b).record(v * 17);
    all.record(v * 17);
  }
  a.merge(b);
  CHECK(a.count() == all.count());
  CHECK(a.min() == all.min());
  CHECK(a.max() == all.max());
  for (double q : {0.25, 0.5, 0.75, 0.999}) CHECK(a.percentile(q) == all.percentile(q));
  a.reset();
  CHECK(a.count() == 0);
}

TEST_CASE("histogram: the largest values do not overflow the bucket table") {
  base::Histogram h;
  h.record(UINT64_MAX);
  h.record(uint64_t{1} << 63);
  CHECK(h.count() == 2);
  CHECK(h.percentile(1.0) == UINT64_MAX);
  CHECK(h.percentile(0.5) >= uint64_t{1} << 63);
}
