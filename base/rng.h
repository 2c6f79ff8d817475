// A small, fast, seeded pseudo-random generator (xoshiro256**, seeded through splitmix64).
// Everything random in raft/ and the simulators draws from one of these, so a seed reproduces
// a run exactly. Not for cryptography.
#pragma once

#include <cstdint>

#include "base/check.h"

namespace base {

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& s : state_) s = splitmix64(seed);
  }

  uint64_t next() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, bound). bound must be > 0. Lemire's multiply-shift; the tiny bias is
  // irrelevant for simulation and jitter.
  uint64_t uniform(uint64_t bound) {
    ENSURE(bound > 0);
    __extension__ using u128 = unsigned __int128;
    return static_cast<uint64_t>((static_cast<u128>(next()) * bound) >> 64);
  }
  // Uniform in [lo, hi], inclusive.
  uint64_t range(uint64_t lo, uint64_t hi) {
    ENSURE(lo <= hi);
    return lo + uniform(hi - lo + 1);
  }
  // True with probability numerator/denominator.
  bool chance(uint64_t numerator, uint64_t denominator) { return uniform(denominator) < numerator; }
  // Uniform double in [0, 1).
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  }
  uint64_t state_[4];
};

}  // namespace base
