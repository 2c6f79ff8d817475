#include "node/convert.h"

namespace node {
namespace {

kvstate::Versionstamp to_kv(const net::Versionstamp& v) {
  kvstate::Versionstamp out;
  out.bytes = v;
  return out;
}

base::Result<kvstate::Value> to_kv(const net::Value& v) {
  auto e = static_cast<uint8_t>(v.encoding);
  if (!kvstate::is_valid_value_encoding(e))
    return base::invalid_argument("Invalid value encoding {}", static_cast<int>(e));
  return kvstate::Value{static_cast<kvstate::ValueEncoding>(e), v.data};
}

base::Result<kvstate::Mutation> to_kv(const net::Mutation& m) {
  kvstate::Mutation out;
  switch (m.type) {
    case net::MutationType::kSet:
      out.kind = kvstate::MutationKind::kSet;
      break;
    case net::MutationType::kDelete:
      out.kind = kvstate::MutationKind::kDelete;
      break;
    case net::MutationType::kSum:
      out.kind = kvstate::MutationKind::kSum;
      break;
    case net::MutationType::kMax:
      out.kind = kvstate::MutationKind::kMax;
      break;
    case net::MutationType::kMin:
      out.kind = kvstate::MutationKind::kMin;
      break;
    case net::MutationType::kSetSuffixVersionstampedKey:
      out.kind = kvstate::MutationKind::kSetSuffixVersionstampedKey;
      break;
    default:
      return base::invalid_argument("Invalid mutation kind");
  }
  out.key = m.key;
  if (out.kind == kvstate::MutationKind::kDelete) {
    out.value = kvstate::Value{};
  } else {
    if (!m.value) return base::invalid_argument("Invalid mutation: a value is required");
    auto v = to_kv(*m.value);
    if (!v.is_ok()) return v.status();
    out.value = std::move(*v);
  }
  // Wire convention (spec §8): 0 or -1 = never; other negatives are invalid.
  if (m.expire_at_ms < -1) return base::invalid_argument("Invalid mutation expire at.");
  out.expire_at_ms = m.expire_at_ms > 0 ? static_cast<uint64_t>(m.expire_at_ms) : 0;
  out.sum_min_v8 = m.sum_min;
  out.sum_max_v8 = m.sum_max;
  out.sum_clamp = m.sum_clamp;
  return out;
}

}  // namespace

base::Result<kvstate::AtomicWrite> to_command(const net::AtomicWrite& write, uint64_t now_ms) {
  kvstate::AtomicWrite out;
  out.client_id = write.client_id;
  out.sequence = write.sequence;
  out.now_ms = now_ms;
  out.checks.reserve(write.checks.size());
  for (const net::Check& c : write.checks) {
    kvstate::Check check{c.key, std::nullopt};
    if (c.versionstamp) check.versionstamp = to_kv(*c.versionstamp);
    out.checks.push_back(std::move(check));
  }
  out.mutations.reserve(write.mutations.size());
  for (const net::Mutation& m : write.mutations) {
    auto mutation = to_kv(m);
    if (!mutation.is_ok()) return mutation.status();
    out.mutations.push_back(std::move(*mutation));
  }
  for (const net::Enqueue& e : write.enqueues) {
    out.enqueues.push_back(
        kvstate::Enqueue{e.payload, e.delay_ms, e.keys_if_undelivered, e.backoff_schedule_ms});
  }
  return out;
}

std::vector<kvstate::ReadRange> to_ranges(const std::vector<net::ReadRange>& ranges) {
  std::vector<kvstate::ReadRange> out;
  out.reserve(ranges.size());
  for (const net::ReadRange& r : ranges) out.push_back({r.start, r.end, r.limit, r.reverse});
  return out;
}

net::Versionstamp to_net(const kvstate::Versionstamp& versionstamp) { return versionstamp.bytes; }

net::KvEntry to_net(const kvstate::ReadEntry& entry) {
  return net::KvEntry{
      entry.key,
      net::Value{static_cast<net::ValueEncoding>(entry.value.encoding), entry.value.data},
      entry.versionstamp.bytes};
}

net::Error error_of(const base::Status& status) {
  return net::Error{status.code(), status.message(), std::nullopt};
}

net::ResponseBody to_response(const kvstate::WriteOutcome& outcome) {
  using Kind = kvstate::WriteOutcome::Kind;
  switch (outcome.kind) {
    case Kind::kCommitted:
      return net::AtomicWriteResult{true, to_net(outcome.versionstamp), {}};
    case Kind::kCheckFailed:
      return net::AtomicWriteResult{false, std::nullopt, outcome.failed_checks};
    case Kind::kError:
      break;
  }
  return error_of(outcome.error);
}

}  // namespace node
