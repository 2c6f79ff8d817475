#include "cli/atomic.h"

#include "cli/client.h"
#include "kvstate/kv_limits.h"

namespace cli {
namespace {

net::Mutation u64_mutation(net::MutationType type, base::Bytes key, uint64_t operand) {
  net::Mutation m;
  m.type = type;
  m.key = std::move(key);
  net::Value value{net::ValueEncoding::kLe64, {}};
  base::put_u64_le(value.data, operand);
  m.value = std::move(value);
  return m;
}

base::Status validate_write_key(const base::Bytes& key) {
  if (key.empty()) return base::invalid_argument("key cannot be empty");
  if (key.size() > kvstate::kWriteKeyMaxBytes) {
    return base::invalid_argument("Key too large for write (max {} bytes)",
                                  kvstate::kWriteKeyMaxBytes);
  }
  return base::Status::ok();
}

base::Status validate_value(const net::Value& value) {
  if (value.encoding == net::ValueEncoding::kUnspecified) {
    return base::invalid_argument("a value needs an encoding");
  }
  if (value.encoding == net::ValueEncoding::kLe64 && value.data.size() != 8) {
    return base::invalid_argument("a KvU64 value must be exactly 8 bytes");
  }
  if (value.data.size() > kvstate::kValueMaxBytes) {
    return base::invalid_argument("Value too large (max {} bytes)", kvstate::kValueMaxBytes);
  }
  return base::Status::ok();
}

base::Status validate_mutation(const net::Mutation& m) {
  RETURN_IF_ERROR(validate_write_key(m.key));
  if (m.type == net::MutationType::kDelete) {
    if (m.value) return base::invalid_argument("a delete mutation takes no value");
    return base::Status::ok();
  }
  if (m.type == net::MutationType::kUnspecified) {
    return base::invalid_argument("a mutation needs a type");
  }
  if (!m.value) return base::invalid_argument("a set, sum, min or max mutation needs a value");
  RETURN_IF_ERROR(validate_value(*m.value));
  bool is_u64_op = m.type == net::MutationType::kMin || m.type == net::MutationType::kMax;
  if (is_u64_op && m.value->encoding != net::ValueEncoding::kLe64) {
    return base::invalid_argument("Failed to perform '{}' mutation on a non-U64 operand",
                                  m.type == net::MutationType::kMin ? "min" : "max");
  }
  if (m.expire_at_ms < 0) return base::invalid_argument("expire_at_ms must not be negative");
  return base::Status::ok();
}

base::Status validate_enqueue(const net::Enqueue& e) {
  if (e.payload.size() > kvstate::kValueMaxBytes) {
    return base::invalid_argument("enqueue payload too large (max {} bytes)",
                                  kvstate::kValueMaxBytes);
  }
  if (e.delay_ms > kvstate::kEnqueueDelayMaxMs) {
    return base::invalid_argument("delay cannot be greater than 30 days");
  }
  if (e.backoff_schedule_ms.size() > kvstate::kBackoffIntervalsMax) {
    return base::invalid_argument("Invalid backoffSchedule, max {} intervals allowed",
                                  kvstate::kBackoffIntervalsMax);
  }
  for (uint32_t interval : e.backoff_schedule_ms) {
    if (interval > kvstate::kBackoffIntervalMaxMs) {
      return base::invalid_argument("Invalid backoffSchedule, interval at most {} ms",
                                    kvstate::kBackoffIntervalMaxMs);
    }
  }
  if (e.keys_if_undelivered.size() > kvstate::kUndeliveredKeysMax) {
    return base::invalid_argument("Too many keys_if_undelivered (max {})",
                                  kvstate::kUndeliveredKeysMax);
  }
  for (const base::Bytes& key : e.keys_if_undelivered) RETURN_IF_ERROR(validate_write_key(key));
  return base::Status::ok();
}

}  // namespace

base::Status validate_atomic_write(const net::AtomicWrite& write) {
  if (write.checks.size() > kvstate::kChecksMax) {
    return base::invalid_argument("Too many checks (max {})", kvstate::kChecksMax);
  }
  if (write.mutations.size() + write.enqueues.size() > kvstate::kMutationsMax) {
    return base::invalid_argument("Too many mutations (max {})", kvstate::kMutationsMax);
  }
  size_t total_bytes = 0;
  for (const net::Check& check : write.checks) {
    if (check.key.empty()) return base::invalid_argument("key cannot be empty");
    if (check.key.size() > kvstate::kReadKeyMaxBytes) {
      return base::invalid_argument("Key too large for read (max {} bytes)",
                                    kvstate::kReadKeyMaxBytes);
    }
    total_bytes += check.key.size();
  }
  for (const net::Mutation& m : write.mutations) {
    RETURN_IF_ERROR(validate_mutation(m));
    total_bytes += m.key.size() + (m.value ? m.value->data.size() : 0);
  }
  for (const net::Enqueue& e : write.enqueues) {
    RETURN_IF_ERROR(validate_enqueue(e));
    total_bytes += e.payload.size() + 4 * e.backoff_schedule_ms.size();
    for (const base::Bytes& key : e.keys_if_undelivered) total_bytes += key.size();
  }
  if (total_bytes > kvstate::kAtomicWriteMaxBytes) {
    return base::invalid_argument("Total mutation size too large (max {} bytes)",
                                  kvstate::kAtomicWriteMaxBytes);
  }
  return base::Status::ok();
}

int64_t expire_at_from_now(std::chrono::milliseconds expire_in) {
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  return std::max<int64_t>(1, (now + expire_in).count());
}

Atomic& Atomic::check(base::Bytes key, std::optional<net::Versionstamp> versionstamp) {
  write_.checks.push_back(net::Check{std::move(key), versionstamp});
  return *this;
}

Atomic& Atomic::set(base::Bytes key, net::Value value,
                    std::optional<std::chrono::milliseconds> expire_in) {
  net::Mutation m;
  m.type = net::MutationType::kSet;
  m.key = std::move(key);
  m.value = std::move(value);
  if (expire_in) m.expire_at_ms = expire_at_from_now(*expire_in);
  return mutate(std::move(m));
}

Atomic& Atomic::remove(base::Bytes key) {
  net::Mutation m;
  m.type = net::MutationType::kDelete;
  m.key = std::move(key);
  return mutate(std::move(m));
}

Atomic& Atomic::sum(base::Bytes key, uint64_t operand) {
  return mutate(u64_mutation(net::MutationType::kSum, std::move(key), operand));
}
Atomic& Atomic::min(base::Bytes key, uint64_t operand) {
  return mutate(u64_mutation(net::MutationType::kMin, std::move(key), operand));
}
Atomic& Atomic::max(base::Bytes key, uint64_t operand) {
  return mutate(u64_mutation(net::MutationType::kMax, std::move(key), operand));
}

Atomic& Atomic::mutate(net::Mutation mutation) {
  write_.mutations.push_back(std::move(mutation));
  return *this;
}

Atomic& Atomic::enqueue(net::Enqueue message) {
  write_.enqueues.push_back(std::move(message));
  return *this;
}

base::Result<net::AtomicWriteResult> Atomic::commit() { return client_->commit(write_); }

}  // namespace cli
