#include "kvmodel/write_validation.h"

#include "kvmodel/kv_limits.h"

namespace kvmodel {

namespace {

base::Status check_write_key(base::BytesView key) {
  if (key.empty()) return base::invalid_argument("key cannot be empty");
  if (key.size() > kWriteKeyMaxBytes) {
    return base::invalid_argument("Key too large for write (max {} bytes)", kWriteKeyMaxBytes);
  }
  return base::Status::ok();
}

base::Status check_enqueue(const Enqueue& e, size_t& total_bytes) {
  if (e.payload.size() > kValueMaxBytes) {
    return base::invalid_argument("enqueue payload too large (max {} bytes)", kValueMaxBytes);
  }
  total_bytes += e.payload.size();
  if (e.keys_if_undelivered.size() > kUndeliveredKeysMax) {
    return base::invalid_argument("Too many dead letter keys for a single queue message.");
  }
  for (const auto& key : e.keys_if_undelivered) {
    RETURN_IF_ERROR(check_write_key(key));
    total_bytes += key.size();
  }
  if (e.backoff_schedule_ms.size() > kBackoffIntervalsMax) {
    return base::invalid_argument("Too many backoff intervals for a single queue message.");
  }
  for (uint32_t interval : e.backoff_schedule_ms) {
    if (interval > kBackoffIntervalMaxMs) {
      return base::invalid_argument(
          "A backoff interval exceeds the maximum allowed backoff interval.");
    }
    total_bytes += 4;
  }
  if (e.delay_ms > kEnqueueDelayMaxMs) {
    return base::invalid_argument("Invalid mutation enqueue deadline.");
  }
  return base::Status::ok();
}

}  // namespace

base::Status validate_atomic_write(const AtomicWrite& write) {
  if (write.checks.size() > kChecksMax) {
    return base::invalid_argument("Too many checks (max {})", kChecksMax);
  }
  if (write.mutations.size() + write.enqueues.size() > kMutationsMax) {
    return base::invalid_argument("Too many mutations (max {})", kMutationsMax);
  }
  // Size accounting as denokv: check keys + mutation keys + values + payloads + undelivered
  // keys + 4 per backoff interval.
  size_t total_bytes = 0;
  for (const Check& c : write.checks) {
    if (c.key.empty()) return base::invalid_argument("key cannot be empty");
    if (c.key.size() > kReadKeyMaxBytes) {
      return base::invalid_argument("Key too large for read (max {} bytes)", kReadKeyMaxBytes);
    }
    total_bytes += c.key.size();
  }
  for (const Mutation& m : write.mutations) {
    RETURN_IF_ERROR(check_write_key(m.key));
    total_bytes += m.key.size();
    if (m.expire_at_ms > kTimeMaxMs) return base::invalid_argument("Invalid mutation expire at.");
    if (m.kind == MutationKind::kDelete) continue;
    if (m.value.data.size() > kValueMaxBytes) {
      return base::invalid_argument("Value too large (max {} bytes)", kValueMaxBytes);
    }
    RETURN_IF_ERROR(validate_value(m.value));
    total_bytes += m.value.data.size();
  }
  for (const Enqueue& e : write.enqueues) RETURN_IF_ERROR(check_enqueue(e, total_bytes));
  if (total_bytes > kAtomicWriteMaxBytes) {
    return base::invalid_argument("Total mutation size too large (max {} bytes)",
                                  kAtomicWriteMaxBytes);
  }
  return base::Status::ok();
}

base::Status validate_read_ranges(const std::vector<ReadRange>& ranges) {
  if (ranges.size() > kReadRangesMax) {
    return base::invalid_argument("Too many ranges (max {})", kReadRangesMax);
  }
  size_t total_entries = 0;
  for (const ReadRange& r : ranges) {
    if (r.limit == 0) return base::invalid_argument("limit must be greater than 0");
    if (r.start.size() > kReadKeyMaxBytes || r.end.size() > kReadKeyMaxBytes) {
      return base::invalid_argument("Key too large for read (max {} bytes)", kReadKeyMaxBytes);
    }
    total_entries += r.limit;
  }
  if (total_entries > kReadEntriesMax) {
    return base::invalid_argument("Too many entries (max {})", kReadEntriesMax);
  }
  return base::Status::ok();
}

base::Status validate_watch_keys(const std::vector<base::Bytes>& keys) {
  if (keys.empty()) return base::invalid_argument("watch needs at least one key");
  if (keys.size() > kWatchKeysMax) {
    return base::invalid_argument("Too many keys (max {})", kWatchKeysMax);
  }
  for (const base::Bytes& key : keys) {
    if (key.empty()) return base::invalid_argument("key cannot be empty");
    if (key.size() > kReadKeyMaxBytes) {
      return base::invalid_argument("Key too large for read (max {} bytes)", kReadKeyMaxBytes);
    }
  }
  return base::Status::ok();
}

}  // namespace kvmodel
