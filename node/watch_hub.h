// WatchHub: the leader's watch streams (spec §7, DESIGN.md "Watch").
//
// Served by the leader only: a follower answers NotLeader (with a hint when it knows the
// leader) and the client library reconnects there. A subscription first receives the current
// entries of its keys, then a fresh array whenever any of them changes. Arrays are read from
// the applied state between two applies, so each is a consistent snapshot; changes applied in
// one loop iteration are coalesced into one array; an array identical to the previous one is
// not sent.
//
// Never older: nothing is sent before (a) this node serves as leader (it applied the first
// entry of its term, so its state holds every entry an earlier leader could have served from),
// (b) a ReadIndex round started after the subscription confirmed that it still leads and it
// applied up to that round's index (so the first array holds every write acknowledged before
// the watch was opened, even on a deposed leader that has not noticed yet), and (c) it applied
// the entry of the subscription's min_versionstamp. Together with the client's own filter, a
// watcher never sees a versionstamp older than one it already saw, also across leader changes.
//
// Streams end with NotLeader when this node stops leading, with StreamEnd on Cancel, and
// silently when their connection closes. Single-threaded: the node thread calls everything.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "kvmodel/versionstamp.h"
#include "kvstate/types.h"
#include "net/client_types.h"
#include "node/service_host.h"
#include "node/stream.h"

namespace node {

class WatchHub {
 public:
  static constexpr size_t kStreamsMax = 100'000;  // per node: bounds memory against bad clients

  explicit WatchHub(ServiceHost& host) : host_(host) {}

  void subscribe(Origin origin, net::Watch watch, Reply reply);
  // Ends the stream named by `stream` with StreamEnd; false when there is none.
  bool cancel(Origin stream);
  void close_connection(uint64_t connection);

  // After each applied command: remembers which watched keys changed.
  void on_applied(const kvstate::CommandResult& result);
  // After a round of applies: sends every due array (new subscriptions, changed keys).
  void flush();
  // This node stopped leading (or is stopping): every stream ends with `error`.
  void end_all(const net::Error& error);
  size_t stream_count() const { return streams_.size(); }

#ifdef RAFTKV_TEST_HOOKS
  // Planted bug stale-watch (kvd --plant-bug): serve on any node, ignore min_versionstamp.
  bool planted_stale_watch = false;
#endif

 private:
  struct Stream {
    Origin origin;
    std::vector<base::Bytes> keys;
    std::optional<kvmodel::Versionstamp> min_versionstamp;
    Reply reply;
    bool confirmed = false;  // its read barrier passed: the first array may go out
    bool sent_initial = false;
    // Per key, the versionstamp of the last array sent (nullopt: absent).
    std::vector<std::optional<kvmodel::Versionstamp>> last_sent;
  };

  void on_confirmed(uint64_t stream_id);
  void fail(uint64_t stream_id, net::Error error);
  void remove(uint64_t stream_id);
  bool may_send(const Stream& stream) const;
  void send(Stream& stream);

  ServiceHost& host_;
  uint64_t next_stream_id_ = 1;
  std::map<uint64_t, Stream> streams_;
  std::map<Origin, uint64_t> by_origin_;
  std::map<base::Bytes, std::set<uint64_t>> by_key_;  // watched key -> stream ids
  std::set<uint64_t> due_;                            // streams with something to send
};

}  // namespace node
