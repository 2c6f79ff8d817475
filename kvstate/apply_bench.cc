// Apply throughput of single-set atomic writes, and the cost of taking a snapshot view of
// 1M keys while applying. Prints numbers; not a test.
//   build/kvstate/apply_bench [keys=1000000]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <thread>
#include <vector>

#include "kvmodel/key.h"
#include "kvstate/snapshot.h"
#include "kvstate/state_machine.h"

using namespace kvmodel;
using namespace kvstate;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kChunk = 10'000;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// CPU time of the calling thread: on a shared, loaded machine wall time mostly measures the
// other processes, so apply throughput is reported per CPU-second of the applying thread.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

AtomicWrite single_set(uint64_t i) {
  AtomicWrite w;
  w.now_ms = 1'700'000'000'000;
  Mutation m;
  m.kind = MutationKind::kSet;
  m.key = encode_key({KeyPart::string("users"), KeyPart::number(static_cast<double>(i))}).value();
  m.value = Value{ValueEncoding::kBytes, std::string(100, static_cast<char>('a' + i % 26))};
  w.mutations.push_back(std::move(m));
  return w;
}

// Applies writes for keys [first, first + count) (key i * stride % count spreads them), one
// command per Raft index. Returns the CPU seconds spent inside apply only.
double apply_range(StateMachine& sm, uint64_t& index, uint64_t first, uint64_t count) {
  double busy = 0;
  std::vector<Command> chunk;
  for (uint64_t done = 0; done < count; done += chunk.size()) {
    chunk.clear();
    for (uint64_t i = done; i < std::min(count, done + kChunk); ++i) {
      chunk.push_back(single_set(first + (i * 7919) % count));
    }
    double start = thread_cpu_seconds();
    for (const Command& c : chunk) {
      CommandResult r = sm.apply(c, Versionstamp::of(++index, 0));
      if (r.outcome.kind != WriteOutcome::Kind::kCommitted) std::abort();
    }
    busy += thread_cpu_seconds() - start;
  }
  return busy;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t keys = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  StateMachine sm;
  uint64_t index = 0;

  double insert_s = apply_range(sm, index, 0, keys);
  std::printf("(throughput per CPU-second of the applying thread)\n");
  std::printf("apply, single-set writes of new keys:      %8.0f writes/s (%llu keys)\n",
              static_cast<double>(keys) / insert_s, static_cast<unsigned long long>(keys));
  double update_s = apply_range(sm, index, 0, keys);
  std::printf("apply, single-set writes of existing keys: %8.0f writes/s\n",
              static_cast<double>(keys) / update_s);

  // Encoded batches of 100 writes per entry, as the node would apply them (includes decoding).
  std::vector<Command> batch;
  for (uint64_t i = 0; i < 100; ++i) batch.push_back(single_set(i * 9973 % keys));
  base::Bytes entry = encode_batch(batch);
  double cpu_start = thread_cpu_seconds();
  uint64_t entries = keys / 100;
  for (uint64_t e = 0; e < entries; ++e) {
    if (!sm.apply_entry(++index, entry).is_ok()) std::abort();
  }
  std::printf("apply_entry, 100 writes per entry:         %8.0f writes/s (decode included)\n",
              static_cast<double>(entries * 100) / (thread_cpu_seconds() - cpu_start));

  // Snapshot while applying: the view itself blocks apply; serializing runs on another thread.
  auto start = Clock::now();
  SnapshotView view = sm.snapshot_view();
  double view_ms = seconds_since(start) * 1e3;
  std::atomic<bool> done{false};
  size_t snapshot_bytes = 0;
  double serialize_s = 0;
  std::thread writer([&] {
    auto t = Clock::now();
    view.write([&](base::BytesView chunk) { snapshot_bytes += chunk.size(); });
    serialize_s = seconds_since(t);
    done = true;
  });
  uint64_t during = 0;
  double during_busy = 0;
  while (!done) {
    during_busy += apply_range(sm, index, during % keys, std::min<uint64_t>(kChunk, keys));
    during += std::min<uint64_t>(kChunk, keys);
  }
  writer.join();
  std::printf("snapshot_view() of %llu keys blocked apply for %.3f ms\n",
              static_cast<unsigned long long>(view.key_count()), view_ms);
  std::printf("snapshot write on another thread: %.2f s, %.1f MB; apply meanwhile: %.0f writes/s\n",
              serialize_s, static_cast<double>(snapshot_bytes) / 1e6,
              static_cast<double>(during) / during_busy);
  return 0;
}
