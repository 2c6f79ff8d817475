// Loading a snapshot stream (format in snapshot.h): verify every block, parse every record,
// check order and counts, then replace the state in one step.
#include "kvstate/command.h"
#include "kvstate/snapshot.h"
#include "kvstate/snapshot_format.h"
#include "kvstate/state_limits.h"

namespace kvstate {

using namespace kvmodel;  // the data model this state machine stores

namespace {

using namespace snapshot_format;

struct Counts {
  uint64_t entries = 0, messages = 0, sessions = 0;
};

// Parses the records of one verified block payload.
class RecordParser {
 public:
  RecordParser(base::BytesView payload, BTree<Entry>& data, BTree<QueueMessage>& queue,
               BTree<Session>& sessions)
      : in_(payload), data_(data), queue_(queue), sessions_(sessions) {}

  bool ok() const { return in_.ok() && error_.empty(); }
  const std::string& error() const { return error_; }

  // Returns false with error() set, or true once the payload is consumed.
  bool parse_all(bool& have_meta, uint8_t& last_type, Counts& declared, uint64_t& last_index,
                 Versionstamp& last_vs, uint64_t& clock) {
    while (ok() && !in_.empty()) {
      uint8_t byte = 0;
      in_.u8(byte);
      const std::optional<RecordType> type = record_type(byte);
      if (!type) return fail("unknown record type");
      if (!have_meta && *type != RecordType::kMeta)
        return fail("the first record is not the meta record");
      if (byte < last_type || (*type == RecordType::kMeta && have_meta))
        return fail("records out of order");
      if (byte != last_type) last_key_.reset();
      last_type = byte;
      switch (*type) {
        case RecordType::kMeta:
          have_meta = true;
          last_index = varint();
          last_vs = versionstamp();
          clock = varint();
          declared.entries = varint();
          declared.messages = varint();
          declared.sessions = varint();
          break;
        case RecordType::kEntry:
          parse_entry();
          break;
        case RecordType::kMessage:
          parse_message();
          break;
        case RecordType::kSession:
          parse_session();
          break;
      }
    }
    if (!in_.ok()) return fail("truncated record");
    return ok();
  }

 private:
  bool fail(std::string_view what) {
    if (error_.empty()) error_ = std::string(what);
    return false;
  }
  uint64_t varint() {
    uint64_t v = 0;
    in_.varint(v);
    return v;
  }
  uint8_t u8() {
    uint8_t v = 0;
    in_.u8(v);
    return v;
  }
  base::Bytes bytes() {
    base::BytesView v;
    in_.length_prefixed(v);
    return base::Bytes(v);
  }
  Versionstamp versionstamp() {
    base::BytesView v;
    return in_.bytes(10, v) ? Versionstamp::from_bytes(v) : Versionstamp{};
  }
  // Keys of one table must strictly increase.
  bool in_order(const base::Bytes& key) {
    if (last_key_ && !(*last_key_ < key)) return fail("keys out of order");
    last_key_ = key;
    return true;
  }

  void parse_entry() {
    base::Bytes key = bytes();
    Entry e;
    uint8_t encoding = u8();
    e.value.encoding = static_cast<ValueEncoding>(encoding);
    e.value.data = bytes();
    e.versionstamp = versionstamp();
    e.expire_at_ms = varint();
    if (!in_.ok()) return;
    if (!is_valid_value_encoding(encoding) || !validate_value(e.value).is_ok()) {
      fail("invalid value");
      return;
    }
    if (in_order(key)) data_.upsert(key, std::move(e));
  }

  void parse_message() {
    base::Bytes id = bytes();
    QueueMessage m;
    m.payload = bytes();
    m.ready_at_ms = varint();
    for (uint64_t n = varint(); n > 0 && in_.ok(); --n) {
      uint64_t b = varint();
      if (b > UINT32_MAX) fail("backoff interval out of range");
      m.backoff_ms.push_back(static_cast<uint32_t>(b));
    }
    for (uint64_t n = varint(); n > 0 && in_.ok(); --n) m.keys_if_undelivered.push_back(bytes());
    uint64_t deliveries = varint();
    uint8_t leased = u8();
    m.consumer_id = varint();
    m.lease_deadline_ms = varint();
    m.lease_token = versionstamp();
    if (!in_.ok()) return;
    if (id.size() != kMessageIdBytes || leased > 1 || deliveries > UINT32_MAX) {
      fail("invalid queue message");
      return;
    }
    m.leased = leased == 1;
    m.deliveries = static_cast<uint32_t>(deliveries);
    if (in_order(id)) queue_.upsert(id, std::move(m));
  }

  void parse_session() {
    base::Bytes key;
    base::put_u64_be(key, varint());
    Session s;
    s.last_sequence = varint();
    s.last_used = versionstamp();
    s.last_used_ms = varint();
    uint64_t n = varint();
    if (n > kSessionResultsKept) {
      fail("too many session results");
      return;
    }
    for (; n > 0 && in_.ok(); --n) {
      uint64_t seq = varint();
      WriteOutcome o;
      uint8_t kind = u8();
      o.kind = static_cast<WriteOutcome::Kind>(kind);
      o.versionstamp = versionstamp();
      for (uint64_t m = varint(); m > 0 && in_.ok(); --m) {
        o.failed_checks.push_back(static_cast<uint32_t>(varint()));
      }
      uint8_t code = u8();
      base::Bytes message = bytes();
      if (kind > 2 || code > static_cast<uint8_t>(base::kLastCode)) {
        fail("invalid session result");
        return;
      }
      if (code != 0) o.error = base::Status(static_cast<base::Code>(code), std::move(message));
      s.recent.emplace_back(seq, std::move(o));
    }
    if (in_.ok() && in_order(key)) sessions_.upsert(key, std::move(s));
  }

  base::Reader in_;
  BTree<Entry>& data_;
  BTree<QueueMessage>& queue_;
  BTree<Session>& sessions_;
  std::optional<base::Bytes> last_key_;
  std::string error_;
};

}  // namespace

base::Status StateMachine::load_snapshot(base::BytesView stream) {
  auto corrupt = [](size_t offset, std::string_view what) {
    return base::corruption("snapshot corrupt at offset {}: {}", offset, what);
  };
  if (stream.substr(0, kMagic.size()) != kMagic) return corrupt(0, "bad magic or version");
  BTree<Entry> data;
  BTree<QueueMessage> queue;
  BTree<Session> sessions;
  bool have_meta = false;
  uint8_t last_type = 0;
  Counts declared;
  uint64_t last_index = 0, clock = 0;
  Versionstamp last_vs;
  size_t pos = kMagic.size();
  for (uint64_t block = 0;; ++block) {
    if (stream.size() - pos < 12) return corrupt(pos, "truncated (no final block)");
    uint32_t length = base::get_u32_le(stream.data() + pos);
    uint64_t checksum = base::get_u64_le(stream.data() + pos + 4);
    if (stream.size() - pos - 12 < length) return corrupt(pos, "truncated block");
    base::BytesView payload = stream.substr(pos + 12, length);
    if (block_checksum(block, payload) != checksum) {
      return corrupt(pos, fmt::format("checksum mismatch in block {}", block));
    }
    if (length == 0) {
      pos += 12;
      break;
    }
    RecordParser parser(payload, data, queue, sessions);
    if (!parser.parse_all(have_meta, last_type, declared, last_index, last_vs, clock)) {
      return corrupt(pos, fmt::format("block {}: {}", block, parser.error()));
    }
    pos += 12 + length;
  }
  if (pos != stream.size()) return corrupt(pos, "data after the final block");
  if (!have_meta) return corrupt(pos, "no meta record");
  if (declared.entries != data.size() || declared.messages != queue.size() ||
      declared.sessions != sessions.size()) {
    return corrupt(pos, "record counts do not match the meta record");
  }
  data_ = std::move(data);
  queue_ = std::move(queue);
  sessions_ = std::move(sessions);
  last_applied_index_ = last_index;
  last_versionstamp_ = last_vs;
  clock_ms_ = clock;
  rebuild_indexes();
  return base::Status::ok();
}

}  // namespace kvstate
