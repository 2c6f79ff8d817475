// A watch of up to 10 keys (Deno's kv.watch): the first snapshot is the current state of every
// key, then a fresh snapshot whenever any of them changes. Intermediate states may be skipped,
// never reordered.
//
// Across a leader change: when the stream breaks or the node stops leading, the stream reopens
// on the (new) leader with min_versionstamp = the newest versionstamp already yielded, so the
// node answers from a state at least that new. On top of that, next() drops any snapshot in
// which a key's versionstamp is older than one already yielded for that key, and (like Deno's
// default raw: false) any snapshot identical to the last one yielded. Not thread-safe: one
// consumer thread.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "base/status.h"
#include "cli/client.h"
#include "cli/stream_frames.h"

namespace cli {

class WatchStream {
 public:
  using Snapshot = std::vector<std::optional<kvmodel::KvEntry>>;  // in key order; nullopt: missing

  WatchStream(WatchStream&& other) noexcept;
  WatchStream& operator=(WatchStream&&) = delete;
  ~WatchStream();

  // Waits for the next snapshot. kTimeout after `timeout` (the stream stays usable); an error
  // when the stream cannot be reopened within the client's deadline or the node refuses it.
  base::Result<Snapshot> next(std::chrono::milliseconds timeout = std::chrono::hours(24 * 365));
  void cancel();

 private:
  friend class Client;
  WatchStream(Client* client, std::vector<base::Bytes> keys)
      : client_(client), keys_(std::move(keys)) {}

  base::Status reopen();
  // nullopt: not worth yielding (stale or unchanged).
  base::Result<std::optional<Snapshot>> accept(net::WatchEvent event);

  Client* client_;
  std::vector<base::Bytes> keys_;
  std::shared_ptr<StreamFrames> frames_;
  Client::OpenStream open_;
  bool is_open_ = false;
  int failures_ = 0;  // consecutive reopen attempts without a snapshot
  std::optional<Snapshot> last_;
};

}  // namespace cli
