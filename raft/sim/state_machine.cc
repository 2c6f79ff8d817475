#include "raft/sim/state_machine.h"

#include <algorithm>
#include <array>

#include "base/bytes.h"
#include "base/hash.h"
#include "raft/raw_node.h"

namespace raft::sim {
namespace {

constexpr uint32_t kSnapshotMagic = 0x53494d31;  // "SIM1"

void put_ids(base::Bytes& out, const std::vector<NodeId>& ids) {
  base::put_varint(out, ids.size());
  for (NodeId id : ids) base::put_varint(out, id);
}

bool get_ids(base::Reader& in, std::vector<NodeId>& ids) {
  uint64_t n = 0;
  if (!in.varint(n) || n > in.remaining()) return false;
  ids.resize(n);
  for (NodeId& id : ids) {
    if (!in.varint(id)) return false;
  }
  return true;
}

void insert_sorted(std::vector<NodeId>& ids, NodeId id) {
  auto it = std::lower_bound(ids.begin(), ids.end(), id);
  if (it == ids.end() || *it != id) ids.insert(it, id);
}

void erase_id(std::vector<NodeId>& ids, NodeId id) {
  ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
}

}  // namespace

ConfState apply_conf_change(const ConfState& conf, const ConfChange& change) {
  ConfState next = conf;
  switch (change.type) {
    case ConfChange::Type::kAddVoter:
      erase_id(next.learners, change.node);
      insert_sorted(next.voters, change.node);
      break;
    case ConfChange::Type::kAddLearner:
      erase_id(next.voters, change.node);
      insert_sorted(next.learners, change.node);
      break;
    case ConfChange::Type::kRemoveNode:
      erase_id(next.voters, change.node);
      erase_id(next.learners, change.node);
      break;
  }
  return next;
}

uint64_t StateMachine::chain(uint64_t previous, const Entry& entry) {
  std::array<uint64_t, 4> head = {previous, entry.index, entry.term,
                                  static_cast<uint64_t>(entry.type)};
  std::string buffer(reinterpret_cast<const char*>(head.data()), sizeof(head));
  buffer.append(entry.data);
  return base::xxh3(buffer);
}

void StateMachine::apply(const Entry& entry) {
  chain_hash_ = chain(chain_hash_, entry);
  applied_index_ = entry.index;
  applied_term_ = entry.term;
  if (entry.type == EntryType::kNormal) {
    payloads_.push_back(entry.data);
  } else if (entry.type == EntryType::kConfChange) {
    base::Result<ConfChange> change = ConfChange::decode(entry.data);
    if (change.is_ok()) conf_ = apply_conf_change(conf_, *change);
  }
}

std::string StateMachine::serialize() const {
  base::Bytes out;
  base::put_u32_le(out, kSnapshotMagic);
  base::put_u64_le(out, applied_index_);
  base::put_u64_le(out, applied_term_);
  base::put_u64_le(out, chain_hash_);
  put_ids(out, conf_.voters);
  put_ids(out, conf_.learners);
  base::put_varint(out, payloads_.size());
  for (const std::string& p : payloads_) base::put_length_prefixed(out, p);
  return out;
}

base::Result<StateMachine> StateMachine::deserialize(std::string_view bytes) {
  base::Reader in(bytes);
  StateMachine sm;
  uint32_t magic = 0;
  uint64_t count = 0;
  bool ok = in.u32_le(magic) && magic == kSnapshotMagic && in.u64_le(sm.applied_index_) &&
            in.u64_le(sm.applied_term_) && in.u64_le(sm.chain_hash_) &&
            get_ids(in, sm.conf_.voters) && get_ids(in, sm.conf_.learners) && in.varint(count) &&
            count <= in.remaining();
  for (uint64_t i = 0; ok && i < count; ++i) {
    base::BytesView payload;
    ok = in.length_prefixed(payload);
    if (ok) sm.payloads_.emplace_back(payload);
  }
  if (!ok || !in.empty()) return base::corruption("simulator snapshot data does not parse");
  return sm;
}

}  // namespace raft::sim
