#include "cli/client.h"

#include <algorithm>
#include <random>
#include <thread>

#include "cli/tcp_transport.h"
#include "cli/watch.h"
#include "kvmodel/kv_limits.h"

namespace cli {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t random_client_id() {
  std::random_device device;
  uint64_t id = 0;
  while (id == 0) id = (uint64_t{device()} << 32) ^ device();
  return id;
}

// Errors a node returns when it may still act on the request later (it was proposed but the
// node lost leadership or quorum): for a write, the outcome is unknown.
bool is_transient(base::Code code) {
  return code == base::Code::kUnavailable || code == base::Code::kTimeout ||
         code == base::Code::kUnknownOutcome;
}

}  // namespace

std::vector<std::string> split_endpoints(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = std::min(text.find(',', start), text.size());
    if (comma > start) out.emplace_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

Client::Client(std::vector<std::string> endpoints, ClientOptions options,
               std::unique_ptr<Connector> connector)
    : options_(options),
      connector_(connector ? std::move(connector) : make_tcp_connector()),
      client_id_(options.client_id != 0 ? options.client_id : random_client_id()),
      endpoints_(std::move(endpoints)),
      rng_(options.seed != 0 ? options.seed : client_id_) {
  ENSURE_MSG(!endpoints_.empty(), "a client needs at least one endpoint");
}

Client::~Client() = default;

// ------------------------------------------------------------------------------ routing

std::string Client::current_target() {
  std::lock_guard lock(mu_);
  return endpoints_[target_];
}

void Client::advance_target(const std::string& failed) {
  std::lock_guard lock(mu_);
  // Only move on if nobody else already did (many threads may fail on the same node).
  if (endpoints_[target_] == failed) target_ = (target_ + 1) % endpoints_.size();
}

void Client::follow_hint(const net::LeaderHint& hint) {
  if (hint.address.empty()) return;
  std::lock_guard lock(mu_);
  auto it = std::find(endpoints_.begin(), endpoints_.end(), hint.address);
  if (it == endpoints_.end()) {
    // A node we were not told about (added by a membership change): remember it.
    endpoints_.push_back(hint.address);
    it = endpoints_.end() - 1;
  }
  target_ = static_cast<size_t>(it - endpoints_.begin());
}

void Client::note_error(const net::Error& error) {
  if (error.leader_hint) follow_hint(*error.leader_hint);
}

base::Result<std::shared_ptr<Channel>> Client::channel_to(const std::string& address) {
  {
    std::lock_guard lock(mu_);
    for (const auto& [addr, channel] : channels_) {
      if (addr == address && channel->is_open()) return channel;
    }
  }
  // Connect outside the lock: it can take up to the connect timeout.
  base::Result<std::shared_ptr<Channel>> connected = connector_->connect(address);
  if (!connected.is_ok()) return connected.status();
  std::lock_guard lock(mu_);
  std::erase_if(channels_, [&](const auto& c) { return c.first == address; });
  channels_.emplace_back(address, *connected);
  return *connected;
}

void Client::drop_channel(const std::string& address, const std::shared_ptr<Channel>& channel) {
  std::lock_guard lock(mu_);
  std::erase_if(channels_,
                [&](const auto& c) { return c.first == address && c.second == channel; });
}

void Client::backoff(int attempt) {
  auto ceiling = options_.backoff_initial * (int64_t{1} << std::min(attempt, 16));
  ceiling = std::min<std::chrono::milliseconds>(ceiling, options_.backoff_max);
  uint64_t jitter_ms;
  {
    std::lock_guard lock(mu_);
    jitter_ms = rng_.uniform(static_cast<uint64_t>(ceiling.count()) / 2 + 1);
  }
  // Half fixed, half random ("equal jitter"): spreads retries without ever retrying at once.
  std::this_thread::sleep_for(ceiling / 2 + std::chrono::milliseconds(jitter_ms));
}

base::Status Client::unreachable(const std::vector<std::string>& failures) const {
  std::string list;
  for (size_t i = 0; i < failures.size() && i < 6; ++i) {
    list += (i ? ", " : "") + failures[i];
  }
  return base::Status(base::Code::kUnavailable,
                      fmt::format("cannot reach a leader through any endpoint ({}); is the "
                                  "cluster running? start one with scripts/cluster.sh",
                                  list));
}

// The one retry loop every request goes through. See the header for the outcome rules.
base::Result<net::ResponseBody> Client::request(const net::RequestBody& body, Kind kind) {
  // A member add is answered only once the new node is a voter (or after the cluster's
  // member_change_timeout_ms, 10 s by default): one attempt may take that long.
  const bool long_call = std::holds_alternative<net::MemberAdd>(body);
  const auto deadline =
      Clock::now() +
      (long_call ? std::max(options_.deadline, options_.member_add_deadline) : options_.deadline);
  bool maybe_applied = false;  // a write reached a node that may have acted on it
  std::vector<std::string> failures;
  base::Status last_error;
  base::Status last_answer;  // the latest attempt's transient error answer, if it was one
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0 && Clock::now() >= deadline) break;
    std::string address = current_target();
    base::Result<std::shared_ptr<Channel>> channel = channel_to(address);
    if (!channel.is_ok()) {
      last_answer = base::Status::ok();
      failures.push_back(fmt::format("{}: {}", address, channel.status().message()));
      advance_target(address);
      backoff(attempt);
      continue;
    }
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    auto timeout = std::clamp(
        remaining, std::chrono::milliseconds(1),
        long_call ? std::max(remaining, std::chrono::milliseconds(1)) : options_.attempt_timeout);
    base::Result<net::ResponseBody> response = (*channel)->call(body, timeout);
    if (!response.is_ok()) {
      // Sent, or perhaps sent: the connection broke or the answer did not come in time.
      maybe_applied = true;
      last_error = response.status();
      last_answer = base::Status::ok();
      failures.push_back(fmt::format("{}: {}", address, response.status().message()));
      drop_channel(address, *channel);
      advance_target(address);
      backoff(attempt);
      continue;
    }
    const auto* error = std::get_if<net::Error>(&*response);
    if (error == nullptr) return response;
    if (error->code == base::Code::kNotLeader) {
      failures.push_back(fmt::format("{}: not the leader", address));
      if (error->leader_hint && !error->leader_hint->address.empty() &&
          error->leader_hint->address != address) {
        follow_hint(*error->leader_hint);        // go straight there: no backoff at first,
        if (attempt >= 3) backoff(attempt - 3);  // but stale hints must not spin
      } else {
        advance_target(address);  // no leader known yet (an election is running)
        backoff(attempt);
      }
      continue;
    }
    // A member add's kTimeout is the leader's final word (the node stays a learner).
    if (is_transient(error->code) && !(long_call && error->code == base::Code::kTimeout)) {
      maybe_applied = true;
      last_error = last_answer = error->to_status();
      failures.push_back(fmt::format("{}: {}", address, error->message));
      advance_target(address);
      backoff(attempt);
      continue;
    }
    // A removal whose earlier attempt may have applied: "not a member" now means it did.
    if (error->code == base::Code::kNotFound && maybe_applied &&
        std::holds_alternative<net::MemberRemove>(body))
      return request(net::MemberList{}, Kind::kAdmin);
    return error->to_status();  // a definite answer: the request was refused
  }
  if (kind == Kind::kWrite && maybe_applied) {
    return base::Status(base::Code::kUnknownOutcome,
                        fmt::format("the write was sent but its outcome could not be learned "
                                    "within {} ms (last error: {}); it may or may not have been "
                                    "applied: read the keys to find out",
                                    options_.deadline.count(), last_error.message()));
  }
  // A leader that kept answering "not yet" (e.g. a member add whose learner has not caught up)
  // says more than "cannot reach a leader".
  if (kind == Kind::kAdmin && !last_answer.is_ok()) return last_answer;
  return unreachable(failures);
}

base::Result<net::ResponseBody> Client::call_leader(const net::RequestBody& body) {
  return request(body, Kind::kAdmin);
}

base::Result<Client::OpenStream> Client::open_stream(const net::RequestBody& body,
                                                     Channel::StreamCallback on_frame) {
  const auto deadline = Clock::now() + options_.deadline;
  std::vector<std::string> failures;
  for (int attempt = 0; attempt == 0 || Clock::now() < deadline; ++attempt) {
    std::string address = current_target();
    base::Result<std::shared_ptr<Channel>> channel = channel_to(address);
    if (channel.is_ok()) {
      uint64_t id = (*channel)->open_stream(body, on_frame);
      return OpenStream{*channel, id, address};
    }
    failures.push_back(fmt::format("{}: {}", address, channel.status().message()));
    advance_target(address);
    backoff(attempt);
  }
  return unreachable(failures);
}

// ------------------------------------------------------------------------------ reads

base::Result<net::SnapshotReadResult> Client::snapshot_read(const kvmodel::SnapshotRead& read) {
  base::Result<net::ResponseBody> response = request(read, Kind::kRead);
  if (!response.is_ok()) return response.status();
  auto* result = std::get_if<net::SnapshotReadResult>(&*response);
  if (result == nullptr || result->ranges.size() != read.ranges.size()) {
    return base::Status(base::Code::kCorruption, "the node answered a read with the wrong type");
  }
  return std::move(*result);
}

base::Result<std::optional<kvmodel::KvEntry>> Client::get(const base::Bytes& key,
                                                          kvmodel::Consistency consistency) {
  auto many = get_many({key}, consistency);
  if (!many.is_ok()) return many.status();
  return std::move(many->front());
}

base::Result<std::vector<std::optional<kvmodel::KvEntry>>> Client::get_many(
    const std::vector<base::Bytes>& keys, kvmodel::Consistency consistency) {
  if (keys.size() > kvmodel::kReadRangesMax) {
    return base::invalid_argument("Too many ranges (max {})", kvmodel::kReadRangesMax);
  }
  kvmodel::SnapshotRead read;
  read.consistency = consistency;
  for (const base::Bytes& key : keys) {
    if (key.empty()) return base::invalid_argument("key cannot be empty");
    if (key.size() + 1 > kvmodel::kReadKeyMaxBytes) {
      return base::invalid_argument("Key too large for read (max {} bytes)",
                                    kvmodel::kReadKeyMaxBytes);
    }
    read.ranges.push_back(kvmodel::ReadRange{key, key + std::string(1, '\0'), 1, false});
  }
  base::Result<net::SnapshotReadResult> result = snapshot_read(read);
  if (!result.is_ok()) return result.status();
  std::vector<std::optional<kvmodel::KvEntry>> entries;
  for (size_t i = 0; i < keys.size(); ++i) {
    auto& range = result->ranges[i];
    if (!range.empty() && range.front().key == keys[i]) {
      entries.emplace_back(std::move(range.front()));
    } else {
      entries.emplace_back(std::nullopt);
    }
  }
  return entries;
}

base::Result<ListIterator> Client::list(const Selector& selector, const ListOptions& options,
                                        kvmodel::Consistency consistency) {
  base::Result<ListPager> pager = ListPager::create(selector, options);
  if (!pager.is_ok()) return pager.status();
  return ListIterator(this, std::move(pager).value(), consistency);
}

base::Result<std::optional<kvmodel::KvEntry>> ListIterator::next() {
  while (buffer_.empty()) {
    if (pager_.done()) return std::optional<kvmodel::KvEntry>();
    base::Result<kvmodel::ReadRange> range = pager_.next_range();
    if (!range.is_ok()) return range.status();
    std::vector<kvmodel::KvEntry> batch;
    if (range->start < range->end) {  // an empty range needs no round trip
      kvmodel::SnapshotRead read;
      read.ranges.push_back(*range);
      read.consistency = consistency_;
      base::Result<net::SnapshotReadResult> result = client_->snapshot_read(read);
      if (!result.is_ok()) return result.status();
      batch = std::move(result->ranges.front());
    }
    base::Result<std::vector<kvmodel::KvEntry>> accepted = pager_.accept(std::move(batch));
    if (!accepted.is_ok()) return accepted.status();
    buffer_.assign(std::make_move_iterator(accepted->rbegin()),
                   std::make_move_iterator(accepted->rend()));
  }
  kvmodel::KvEntry entry = std::move(buffer_.back());
  buffer_.pop_back();
  return std::optional<kvmodel::KvEntry>(std::move(entry));
}

// ------------------------------------------------------------------------------ writes

base::Result<net::AtomicWriteResult> Client::commit(kvmodel::AtomicWrite write) {
  RETURN_IF_ERROR(validate_atomic_write(write));
  write.client_id = client_id_;
  write.sequence = next_sequence_.fetch_add(1);
  // Every retry inside request() resends this exact message: same (client_id, sequence).
  base::Result<net::ResponseBody> response = request(write, Kind::kWrite);
  if (!response.is_ok()) return response.status();
  auto* result = std::get_if<net::AtomicWriteResult>(&*response);
  if (result == nullptr || result->ok != result->versionstamp.has_value()) {
    return base::Status(base::Code::kUnknownOutcome,
                        "the node answered a write with a malformed result; its outcome is "
                        "unknown");
  }
  return std::move(*result);
}

base::Result<net::AtomicWriteResult> Client::set(
    base::Bytes key, kvmodel::Value value, std::optional<std::chrono::milliseconds> expire_in) {
  return atomic().set(std::move(key), std::move(value), expire_in).commit();
}

base::Result<net::AtomicWriteResult> Client::remove(base::Bytes key) {
  return atomic().remove(std::move(key)).commit();
}

base::Result<net::AtomicWriteResult> Client::enqueue(kvmodel::Enqueue message) {
  return atomic().enqueue(std::move(message)).commit();
}

// ------------------------------------------------------------------------------ operations

std::vector<net::NodeStatus> Client::status_all(std::chrono::milliseconds timeout) {
  std::vector<std::string> endpoints;
  {
    std::lock_guard lock(mu_);
    endpoints = endpoints_;
  }
  std::vector<net::NodeStatus> rows;
  for (const std::string& address : endpoints) {
    net::NodeStatus row;
    row.address = address;
    base::Result<std::shared_ptr<Channel>> channel = channel_to(address);
    if (!channel.is_ok()) {
      row.error = channel.status().message();
      rows.push_back(row);
      continue;
    }
    base::Result<net::ResponseBody> response = (*channel)->call(net::StatusRequest{true}, timeout);
    if (!response.is_ok()) {
      row.error = response.status().message();
      drop_channel(address, *channel);
    } else if (auto* error = std::get_if<net::Error>(&*response)) {
      row.error = error->message;
    } else if (auto* status = std::get_if<net::StatusResult>(&*response);
               status != nullptr && !status->nodes.empty()) {
      row = status->nodes.front();
      if (row.address.empty()) row.address = address;
    } else {
      row.error = "the node answered with an unexpected message";
    }
    rows.push_back(row);
  }
  return rows;
}

}  // namespace cli
