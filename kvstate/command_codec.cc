// Binary coding of command batches; the format is kvstate/COMMANDS.md.
#include <type_traits>

#include "kvmodel/kv_limits.h"
#include "kvstate/command.h"

namespace kvstate {

using namespace kvmodel;  // the data model this state machine stores

namespace {

constexpr uint8_t kBatchFormatVersion = 1;

enum class CommandType : uint8_t {
  kAtomicWrite = 1,
  kQueueLease = 2,
  kQueueAck = 3,
  kQueueNack = 4,
  kQueueExtend = 5,
  kExpireLeases = 6,
  kExpirySweep = 7,
  kNoop = 8,
};

void put_value(base::Bytes& out, const Value& v) {
  base::put_u8(out, static_cast<uint8_t>(v.encoding));
  base::put_length_prefixed(out, v.data);
}

void put_mutation(base::Bytes& out, const Mutation& m) {
  base::put_u8(out, static_cast<uint8_t>(m.kind));
  base::put_length_prefixed(out, m.key);
  switch (m.kind) {
    case MutationKind::kDelete:
      break;
    case MutationKind::kSet:
    case MutationKind::kSetSuffixVersionstampedKey:
      put_value(out, m.value);
      base::put_varint(out, m.expire_at_ms);
      break;
    case MutationKind::kSum:
      put_value(out, m.value);
      base::put_length_prefixed(out, m.sum_min_v8);
      base::put_length_prefixed(out, m.sum_max_v8);
      base::put_u8(out, m.sum_clamp ? 1 : 0);
      break;
    case MutationKind::kMin:
    case MutationKind::kMax:
      put_value(out, m.value);
      break;
  }
}

void put_atomic_write(base::Bytes& out, const AtomicWrite& w) {
  base::put_varint(out, w.client_id);
  base::put_varint(out, w.sequence);
  base::put_varint(out, w.now_ms);
  base::put_varint(out, w.checks.size());
  for (const Check& c : w.checks) {
    base::put_length_prefixed(out, c.key);
    base::put_u8(out, c.versionstamp ? 1 : 0);
    if (c.versionstamp) out.append(c.versionstamp->view());
  }
  base::put_varint(out, w.mutations.size());
  for (const Mutation& m : w.mutations) put_mutation(out, m);
  base::put_varint(out, w.enqueues.size());
  for (const Enqueue& e : w.enqueues) {
    base::put_length_prefixed(out, e.payload);
    base::put_varint(out, e.delay_ms);
    base::put_varint(out, e.keys_if_undelivered.size());
    for (const auto& k : e.keys_if_undelivered) base::put_length_prefixed(out, k);
    base::put_varint(out, e.backoff_schedule_ms.size());
    for (uint32_t b : e.backoff_schedule_ms) base::put_varint(out, b);
  }
}

void put_command(base::Bytes& out, const Command& command) {
  std::visit(
      [&](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        auto type = [&](CommandType t) { base::put_u8(out, static_cast<uint8_t>(t)); };
        if constexpr (std::is_same_v<T, AtomicWrite>) {
          type(CommandType::kAtomicWrite);
          put_atomic_write(out, c);
        } else if constexpr (std::is_same_v<T, QueueLease>) {
          type(CommandType::kQueueLease);
          base::put_varint(out, c.now_ms);
          base::put_varint(out, c.consumer_id);
          base::put_varint(out, c.max_messages);
          base::put_varint(out, c.visibility_ms);
        } else if constexpr (std::is_same_v<T, QueueAck>) {
          type(CommandType::kQueueAck);
          base::put_length_prefixed(out, c.message_id);
          out.append(c.lease_token.view());
        } else if constexpr (std::is_same_v<T, QueueNack>) {
          type(CommandType::kQueueNack);
          base::put_length_prefixed(out, c.message_id);
          out.append(c.lease_token.view());
          base::put_varint(out, c.now_ms);
        } else if constexpr (std::is_same_v<T, QueueExtend>) {
          type(CommandType::kQueueExtend);
          base::put_length_prefixed(out, c.message_id);
          out.append(c.lease_token.view());
          base::put_varint(out, c.now_ms);
          base::put_varint(out, c.visibility_ms);
        } else if constexpr (std::is_same_v<T, ExpireLeases>) {
          type(CommandType::kExpireLeases);
          base::put_varint(out, c.now_ms);
        } else if constexpr (std::is_same_v<T, ExpirySweep>) {
          type(CommandType::kExpirySweep);
          base::put_varint(out, c.now_ms);
        } else {
          static_assert(std::is_same_v<T, Noop>);
          type(CommandType::kNoop);
        }
      },
      command);
}

// Reads fields in order; the first problem is remembered with its offset and every later
// read fails, so decoders can read straight through and check once.
class Decoder {
 public:
  explicit Decoder(base::BytesView data) : in_(data) {}

  base::Status status() const { return status_; }
  bool ok() const { return status_.is_ok(); }
  bool at_end() const { return in_.empty(); }

  void fail(std::string_view what) {
    if (ok()) {
      status_ = base::corruption("bad command batch: {} at offset {}", what, in_.position());
    }
  }
  uint8_t u8(std::string_view what) {
    uint8_t v = 0;
    if (ok() && !in_.u8(v)) fail(what);
    return v;
  }
  uint64_t varint(std::string_view what) {
    uint64_t v = 0;
    if (ok() && !in_.varint(v)) fail(what);
    return v;
  }
  uint64_t time_ms(std::string_view what) {
    uint64_t v = varint(what);
    if (v > kTimeMaxMs) fail(what);
    return v;
  }
  uint32_t u32(std::string_view what) {
    uint64_t v = varint(what);
    if (v > UINT32_MAX) fail(what);
    return static_cast<uint32_t>(v);
  }
  bool boolean(std::string_view what) {
    uint8_t v = u8(what);
    if (v > 1) fail(what);
    return v == 1;
  }
  base::Bytes bytes(std::string_view what) {
    base::BytesView v;
    if (ok() && !in_.length_prefixed(v)) fail(what);
    return base::Bytes(v);
  }
  Versionstamp versionstamp(std::string_view what) {
    base::BytesView v;
    if (ok() && !in_.bytes(10, v)) fail(what);
    return ok() ? Versionstamp::from_bytes(v) : Versionstamp{};
  }
  // A count of items that take at least one byte each: bounded by what is left.
  size_t count(std::string_view what) {
    uint64_t n = varint(what);
    if (n > in_.remaining()) fail(what);
    return ok() ? static_cast<size_t>(n) : 0;
  }
  Value value() {
    Value v;
    uint8_t encoding = u8("value encoding");
    if (ok() && !is_valid_value_encoding(encoding)) fail("unknown value encoding");
    v.encoding = static_cast<ValueEncoding>(encoding);
    v.data = bytes("value");
    return v;
  }
  base::Bytes message_id() {
    base::Bytes id = bytes("message id");
    if (ok() && id.size() != kMessageIdBytes) fail("message id length");
    return id;
  }

 private:
  base::Reader in_;
  base::Status status_;
};

Mutation get_mutation(Decoder& d) {
  Mutation m;
  uint8_t kind = d.u8("mutation kind");
  m.kind = static_cast<MutationKind>(kind);
  if (!is_valid_mutation_kind(kind)) d.fail("unknown mutation kind");
  m.key = d.bytes("mutation key");
  switch (m.kind) {
    case MutationKind::kDelete:
      break;
    case MutationKind::kSet:
    case MutationKind::kSetSuffixVersionstampedKey:
      m.value = d.value();
      m.expire_at_ms = d.time_ms("expire_at_ms");
      break;
    case MutationKind::kSum:
      m.value = d.value();
      m.sum_min_v8 = d.bytes("sum min");
      m.sum_max_v8 = d.bytes("sum max");
      m.sum_clamp = d.boolean("sum clamp");
      break;
    case MutationKind::kMin:
    case MutationKind::kMax:
      m.value = d.value();
      break;
  }
  return m;
}

Enqueue get_enqueue(Decoder& d) {
  Enqueue e;
  e.payload = d.bytes("enqueue payload");
  e.delay_ms = d.time_ms("enqueue delay");
  size_t keys = d.count("undelivered key count");
  for (size_t i = 0; i < keys && d.ok(); ++i) e.keys_if_undelivered.push_back(d.bytes("key"));
  size_t intervals = d.count("backoff count");
  for (size_t i = 0; i < intervals && d.ok(); ++i) {
    e.backoff_schedule_ms.push_back(d.u32("backoff interval"));
  }
  return e;
}

AtomicWrite get_atomic_write(Decoder& d) {
  AtomicWrite w;
  w.client_id = d.varint("client id");
  w.sequence = d.varint("sequence");
  w.now_ms = d.time_ms("now_ms");
  size_t checks = d.count("check count");
  for (size_t i = 0; i < checks && d.ok(); ++i) {
    Check c;
    c.key = d.bytes("check key");
    if (d.boolean("check versionstamp flag")) c.versionstamp = d.versionstamp("versionstamp");
    w.checks.push_back(std::move(c));
  }
  size_t mutations = d.count("mutation count");
  for (size_t i = 0; i < mutations && d.ok(); ++i) w.mutations.push_back(get_mutation(d));
  size_t enqueues = d.count("enqueue count");
  for (size_t i = 0; i < enqueues && d.ok(); ++i) w.enqueues.push_back(get_enqueue(d));
  return w;
}

Command get_command(Decoder& d) {
  switch (static_cast<CommandType>(d.u8("command type"))) {
    case CommandType::kAtomicWrite:
      return get_atomic_write(d);
    case CommandType::kQueueLease: {
      QueueLease c;
      c.now_ms = d.time_ms("now_ms");
      c.consumer_id = d.varint("consumer id");
      c.max_messages = d.u32("max messages");
      c.visibility_ms = d.time_ms("visibility_ms");
      return c;
    }
    case CommandType::kQueueAck: {
      QueueAck c;
      c.message_id = d.message_id();
      c.lease_token = d.versionstamp("lease token");
      return c;
    }
    case CommandType::kQueueNack: {
      QueueNack c;
      c.message_id = d.message_id();
      c.lease_token = d.versionstamp("lease token");
      c.now_ms = d.time_ms("now_ms");
      return c;
    }
    case CommandType::kQueueExtend: {
      QueueExtend c;
      c.message_id = d.message_id();
      c.lease_token = d.versionstamp("lease token");
      c.now_ms = d.time_ms("now_ms");
      c.visibility_ms = d.u32("visibility_ms");
      return c;
    }
    case CommandType::kExpireLeases:
      return ExpireLeases{d.time_ms("now_ms")};
    case CommandType::kExpirySweep:
      return ExpirySweep{d.time_ms("now_ms")};
    case CommandType::kNoop:
      return Noop{};
  }
  d.fail("unknown command type");
  return Noop{};
}

}  // namespace

base::Bytes encode_batch(const std::vector<Command>& commands) {
  ENSURE(commands.size() <= kBatchCommandsMax);
  base::Bytes out;
  base::put_u8(out, kBatchFormatVersion);
  base::put_varint(out, commands.size());
  for (const Command& c : commands) put_command(out, c);
  return out;
}

base::Result<std::vector<Command>> decode_batch(base::BytesView data) {
  Decoder d(data);
  if (d.u8("format version") != kBatchFormatVersion && d.ok()) d.fail("unknown format version");
  size_t n = d.count("command count");
  if (n > kBatchCommandsMax) d.fail("too many commands");
  std::vector<Command> commands;
  for (size_t i = 0; i < n && d.ok(); ++i) commands.push_back(get_command(d));
  if (d.ok() && !d.at_end()) d.fail("trailing bytes");
  if (!d.ok()) return d.status();
  return commands;
}

}  // namespace kvstate
