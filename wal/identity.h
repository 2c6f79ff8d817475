// The storage identity of a data directory (format: FORMAT.md, "Storage identity"): a random
// 128-bit id created at the directory's first start, and whether the node must be repaired from
// the leader before it may vote or acknowledge again because its storage may have lost what it
// had fsynced (issue 12; the amnesia rule of docs/architecture.md).
//
// wal::Log::open() loads or creates it (log->identity()): it must see the directory's other files
// to tell a first start from a lost identity, and it marks the identity as needing repair, durably,
// before it repairs anything that showed the loss. The node then calls:
//   mark_needs_repair(kReplacedStorage, why, id_the_peers_knew)  when a peer knew it differently;
//   mark_repaired()                                              once the leader repaired it.
//
// Every change is written atomically (tmp file, fdatasync, rename, directory fsync): a crash
// leaves the old or the new contents, never a mix. Errors: kResourceExhausted when the disk is
// full (nothing changed); a failed fsync, or any other failed write, is FATAL (env.h must_io).
// Not thread-safe; must not outlive its Env.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "base/bytes.h"
#include "base/rng.h"
#include "base/status.h"
#include "wal/env.h"
#include "wal/format.h"

namespace wal {

struct StorageId {
  std::array<uint8_t, format::kStorageIdBytes> bytes{};

  bool is_zero() const;
  std::string to_string() const;  // 32 lowercase hex digits
  // Never all zeros (zero means "none" in the file).
  static StorageId random(base::Rng& random);
  bool operator==(const StorageId&) const = default;
};

// Why a node's storage may have lost state it had fsynced. Stored in the identity file as a u8:
// append new values, never renumber.
enum class StorageLoss : uint8_t {
  kNone = 0,
  kCorruptSyncedRecord = 1,  // a record that was (or may have been) fsynced fails its checksum
  kTruncatedSegment = 2,     // a segment file is shorter than the size it was created with
  kMissingSegment = 3,       // a segment (or the snapshot the log starts after) is gone
  kMissingHardState = 4,     // the identity exists but no segment (so no hard state) does
  kCorruptSnapshot = 5,      // the newest snapshot fails verification (set aside, log discarded)
  kLostIdentity = 6,         // the identity file is corrupt, or missing in a directory with data
  kReplacedStorage = 7,      // the cluster knew this node by another identity (set by the node)
};
inline constexpr StorageLoss kLastStorageLoss = StorageLoss::kReplacedStorage;
const char* storage_loss_name(StorageLoss loss);

class StorageIdentity {
 public:
  // Reads <dir>/identity: kNotFound when the file does not exist, kCorruption (naming the file
  // and what is wrong) when it is damaged, kIoError when it cannot be read.
  static base::Result<StorageIdentity> load(Env& env, std::string dir);
  // Writes a new identity with a fresh id from `random`; it needs repair iff reason != kNone.
  static base::Result<StorageIdentity> create(Env& env, std::string dir, base::Rng& random,
                                              StorageLoss reason = StorageLoss::kNone,
                                              std::string message = {});

  const StorageId& id() const { return id_; }
  bool needs_repair() const { return reason_ != StorageLoss::kNone; }
  StorageLoss reason() const { return reason_; }
  // Why repair is needed (names the file and offset that showed the loss); empty when not.
  const std::string& message() const { return message_; }
  // The identity the cluster knew this node by when it learned its storage was replaced.
  const std::optional<StorageId>& predecessor() const { return predecessor_; }

  // Durable on return. reason must not be kNone; a message longer than
  // format::kIdentityMessageMaxBytes is cut. Without `predecessor` the stored one is kept.
  base::Status mark_needs_repair(StorageLoss reason, std::string message,
                                 std::optional<StorageId> predecessor = std::nullopt);
  // Durable on return: no repair needed, no predecessor.
  base::Status mark_repaired();

 private:
  StorageIdentity(Env& env, std::string dir) : env_(&env), dir_(std::move(dir)) {}
  base::Bytes encode() const;
  base::Status decode(std::string_view bytes);
  base::Status store();

  Env* env_;
  std::string dir_;
  StorageId id_;
  StorageLoss reason_ = StorageLoss::kNone;
  std::string message_;
  std::optional<StorageId> predecessor_;
};

}  // namespace wal
