#include "cli/atomic.h"

#include <algorithm>

#include "cli/client.h"
#include "kvmodel/kv_limits.h"
#include "kvmodel/write_validation.h"

namespace cli {
namespace {

kvmodel::Mutation u64_mutation(kvmodel::MutationKind kind, base::Bytes key, uint64_t operand) {
  kvmodel::Mutation m;
  m.kind = kind;
  m.key = std::move(key);
  m.value = kvmodel::Value::le64(operand);
  return m;
}

// What the Deno CLI checks itself before sending, with its own messages; the node would refuse
// these too (with denokv's messages).
base::Status validate_like_deno_cli(const kvmodel::AtomicWrite& write) {
  for (const kvmodel::Mutation& m : write.mutations) {
    const bool is_min = m.kind == kvmodel::MutationKind::kMin;
    if ((is_min || m.kind == kvmodel::MutationKind::kMax) &&
        m.value.encoding != kvmodel::ValueEncoding::kLe64) {
      return base::invalid_argument("Failed to perform '{}' mutation on a non-U64 operand",
                                    is_min ? "min" : "max");
    }
  }
  for (const kvmodel::Enqueue& e : write.enqueues) {
    if (e.delay_ms > kvmodel::kEnqueueDelayMaxMs) {
      return base::invalid_argument("delay cannot be greater than 30 days");
    }
    if (e.backoff_schedule_ms.size() > kvmodel::kBackoffIntervalsMax) {
      return base::invalid_argument("Invalid backoffSchedule, max {} intervals allowed",
                                    kvmodel::kBackoffIntervalsMax);
    }
    for (uint32_t interval : e.backoff_schedule_ms) {
      if (interval > kvmodel::kBackoffIntervalMaxMs) {
        return base::invalid_argument("Invalid backoffSchedule, interval at most {} ms",
                                      kvmodel::kBackoffIntervalMaxMs);
      }
    }
    if (e.keys_if_undelivered.size() > kvmodel::kUndeliveredKeysMax) {
      return base::invalid_argument("Too many keys_if_undelivered (max {})",
                                    kvmodel::kUndeliveredKeysMax);
    }
  }
  return base::Status::ok();
}

}  // namespace

base::Status validate_atomic_write(const kvmodel::AtomicWrite& write) {
  RETURN_IF_ERROR(validate_like_deno_cli(write));
  return kvmodel::validate_atomic_write(write);
}

uint64_t expire_at_from_now(std::chrono::milliseconds expire_in) {
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const int64_t in_ms = expire_in.count();
  // Beyond any representable time: validation refuses it ("Invalid mutation expire at.").
  if (in_ms > 0 && now_ms > INT64_MAX - in_ms) return UINT64_MAX;
  return static_cast<uint64_t>(std::max<int64_t>(1, now_ms + in_ms));
}

Atomic& Atomic::check(base::Bytes key, std::optional<kvmodel::Versionstamp> versionstamp) {
  write_.checks.push_back(kvmodel::Check{std::move(key), versionstamp});
  return *this;
}

Atomic& Atomic::set(base::Bytes key, kvmodel::Value value,
                    std::optional<std::chrono::milliseconds> expire_in) {
  kvmodel::Mutation m;
  m.kind = kvmodel::MutationKind::kSet;
  m.key = std::move(key);
  m.value = std::move(value);
  if (expire_in) m.expire_at_ms = expire_at_from_now(*expire_in);
  return mutate(std::move(m));
}

Atomic& Atomic::remove(base::Bytes key) {
  kvmodel::Mutation m;
  m.kind = kvmodel::MutationKind::kDelete;
  m.key = std::move(key);
  return mutate(std::move(m));
}

Atomic& Atomic::sum(base::Bytes key, uint64_t operand) {
  return mutate(u64_mutation(kvmodel::MutationKind::kSum, std::move(key), operand));
}
Atomic& Atomic::min(base::Bytes key, uint64_t operand) {
  return mutate(u64_mutation(kvmodel::MutationKind::kMin, std::move(key), operand));
}
Atomic& Atomic::max(base::Bytes key, uint64_t operand) {
  return mutate(u64_mutation(kvmodel::MutationKind::kMax, std::move(key), operand));
}

Atomic& Atomic::mutate(kvmodel::Mutation mutation) {
  write_.mutations.push_back(std::move(mutation));
  return *this;
}

Atomic& Atomic::enqueue(kvmodel::Enqueue message) {
  write_.enqueues.push_back(std::move(message));
  return *this;
}

base::Result<net::AtomicWriteResult> Atomic::commit() { return client_->commit(write_); }

}  // namespace cli
