// ReadIndex (thesis §6.4): a read may be served at index i once (1) the leader has committed
// an entry of its current term, so i = its commit index covers every acknowledged write, and
// (2) a quorum answered a heartbeat sent after the read arrived, so it was still the leader.
// Batching: reads that arrive between two Readys share one heartbeat round; a quorum's answer
// to round r confirms every read of rounds <= r.
#include <algorithm>

#include "base/bytes.h"
#include "base/check.h"
#include "raft/core.h"
#include "raft/quorum.h"

namespace raft {
namespace {

std::string encode_round(uint64_t round) {
  std::string out;
  base::put_u64_be(out, round);
  return out;
}

std::optional<uint64_t> decode_round(const std::string& context) {
  if (context.size() != 8) return std::nullopt;
  return base::get_u64_be(context.data());
}

}  // namespace

void RawNode::Impl::read_index(std::string context, NodeId requester) {
  if (role != Role::kLeader) {
    // Forward to the leader (term 0); with no leader the read is dropped and the caller
    // retries after its timeout.
    if (leader != kNoNode && requester == id) {
      send(Message{.type = MessageType::kReadIndex, .to = leader, .context = std::move(context)});
    }
    return;
  }
  PendingRead read{.context = std::move(context), .requester = requester};
  if (bug(PlantedBug::kReadIndexWithoutQuorum) ||
      (conf.voters.size() == 1 && committed_in_term())) {
    // A single voter is its own quorum. (Planted bug 4 answers without any quorum round.)
    read.index = log.committed();
    release_read(read);
    return;
  }
  pending_reads.push_back(std::move(read));  // its round starts at the next ready() or tick
}

bool RawNode::Impl::committed_in_term() const { return log.term(log.committed()) == term; }

bool RawNode::Impl::read_round_wanted() const {
  if (role != Role::kLeader || !committed_in_term()) return false;
  return std::any_of(pending_reads.begin(), pending_reads.end(),
                     [](const PendingRead& read) { return read.round == 0; });
}

void RawNode::Impl::start_read_round() {
  ENSURE(read_round_wanted());
  ++read_round;
  for (PendingRead& read : pending_reads) {
    if (read.round != 0) continue;
    read.round = read_round;
    read.index = log.committed();
  }
  read_round_acks[read_round] = {id};
  broadcast_heartbeat(encode_round(read_round));
  ack_read_round(encode_round(read_round), id);  // a single voter confirms at once
}

// The newest round still waiting for answers; heartbeats carry it so that a lost heartbeat
// or response is retried by the next one.
std::string RawNode::Impl::current_read_context() const {
  if (read_round_acks.empty()) return "";
  return encode_round(read_round_acks.rbegin()->first);
}

void RawNode::Impl::ack_read_round(const std::string& context, NodeId from) {
  const auto round = decode_round(context);
  if (!round) return;
  auto it = read_round_acks.find(*round);
  if (it == read_round_acks.end()) return;
  it->second.insert(from);
  if (!has_quorum(conf.voters, std::vector<NodeId>(it->second.begin(), it->second.end()))) return;
  while (!pending_reads.empty() && pending_reads.front().round != 0 &&
         pending_reads.front().round <= *round) {
    release_read(pending_reads.front());
    pending_reads.pop_front();
  }
  read_round_acks.erase(read_round_acks.begin(), std::next(it));
}

void RawNode::Impl::release_read(const PendingRead& read) {
  if (read.requester == id) {
    read_states.push_back(ReadState{.index = read.index, .context = read.context});
  } else {
    send(Message{.type = MessageType::kReadIndexResponse,
                 .to = read.requester,
                 .index = read.index,
                 .context = read.context});
  }
}

void RawNode::Impl::on_read_index_response(const Message& m) {
  if (m.reject) return;
  read_states.push_back(ReadState{.index = m.index, .context = m.context});
}

}  // namespace raft
