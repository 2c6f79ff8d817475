// Snapshots of the whole state machine: data, queues, sessions, last applied index, last
// versionstamp and the replicated clock.
//
// Taking one is O(1): StateMachine::snapshot_view() copies the copy-on-write trees, so apply
// continues on the apply thread while the view is written or read on any other thread:
//
//   SnapshotView view = sm.snapshot_view();                  // apply thread, O(1)
//   std::thread([view] { view.write(sink); });               // any thread
//
// Stream format (version 1), all integers little-endian (constants in snapshot_format.h):
//   header  "RKVSTAT" 0x01                                       (8 bytes)
//   block*  u32 payload_bytes ‖ u64 checksum ‖ payload
//   the last block has payload_bytes == 0 and nothing may follow it.
// checksum = xxh3(u64 block_number ‖ u32 payload_bytes ‖ payload), so a flipped bit, a dropped,
// reordered or repeated block, or a truncation is detected. Payloads are about 64 KiB and hold
// whole records (a record never spans blocks):
//   0x01 meta     varint last_applied_index ‖ 10B last_versionstamp ‖ varint clock_ms ‖
//                 varint entries ‖ varint messages ‖ varint sessions      (first record only)
//   0x02 entry    lp key ‖ u8 encoding ‖ lp value ‖ 10B versionstamp ‖ varint expire_at_ms
//   0x03 message  lp id ‖ lp payload ‖ varint ready_at_ms ‖ varint n ‖ n × varint backoff ‖
//                 varint n ‖ n × lp key ‖ varint deliveries ‖ u8 leased ‖ varint consumer ‖
//                 varint lease_deadline_ms ‖ 10B lease_token
//   0x04 session  varint client_id ‖ varint last_sequence ‖ 10B last_used ‖ varint last_used_ms ‖
//                 varint n ‖ n × (varint sequence ‖ u8 kind ‖ 10B versionstamp ‖ varint m ‖
//                 m × varint failed check ‖ u8 status code ‖ lp status message)
// (lp = varint length ‖ bytes.) Records appear in the order meta, entries by key, messages by
// id, sessions by client id; the loader checks the order, the counts and every field.
#pragma once

#include <functional>

#include "kvmodel/read.h"
#include "kvstate/btree.h"
#include "kvstate/state_machine.h"
#include "kvstate/types.h"

namespace kvstate {

class SnapshotView {
 public:
  uint64_t last_applied_index() const { return last_applied_index_; }
  size_t key_count() const { return data_.size(); }

  // Consistent reads at the snapshot's point; callable from any thread.
  base::Result<std::vector<std::vector<kvmodel::KvEntry>>> read(
      const std::vector<kvmodel::ReadRange>& ranges) const;

  // Serializes to `sink` in consecutive chunks (each one whole block, about 64 KiB).
  void write(const std::function<void(base::BytesView chunk)>& sink) const;
  base::Bytes serialize() const;  // the whole stream in memory (tests, small states)

 private:
  friend class StateMachine;
  BTree<Entry> data_;
  BTree<QueueMessage> queue_;
  BTree<Session> sessions_;
  uint64_t last_applied_index_ = 0;
  kvmodel::Versionstamp last_versionstamp_;
  uint64_t clock_ms_ = 0;
};

}  // namespace kvstate
