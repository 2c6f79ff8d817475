// Prints how long the register checker takes on generated valid single-key histories.
#include <chrono>
#include <cstdio>

#include "jepsen_tests/register_checker.h"
#include "jepsen_tests/register_generator.h"

int main() {
  for (const int ops_per_key : {1'000, 10'000, 50'000}) {
    for (const int processes : {5, 10}) {
      jepsen::testing::RegisterGenOptions o;
      o.seed = 7;
      o.ops_per_key = ops_per_key;
      o.processes = processes;
      o.info_per_mille = 20;
      const auto ops =
          jepsen::pair_operations(jepsen::testing::generate_register_history(o)).value();
      const auto start = std::chrono::steady_clock::now();
      const auto result = jepsen::check_register(ops).value();
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count();
      std::printf(
          "register: %6d ops on one key, %2d processes, 2%% info: %8.1f ms, valid=%s, %lld "
          "configurations\n",
          ops_per_key, processes, ms, std::string(jepsen::validity_name(result.valid)).c_str(),
          static_cast<long long>(result.stats.find_i64("configurations").value_or(0)));
    }
  }
}
