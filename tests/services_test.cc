// Integration tests of the leader's services with real kvd processes (issue 6): watch and queue
// listeners across kill -9 of the leader, delayed delivery, dead letters after the backoff
// schedule, enqueues inside failed atomic writes, expiry seen by a watcher, and membership
// changes while a client writes. Every wait is on a condition with a generous deadline.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "cli/client.h"
#include "cli/watch.h"
#include "kvmodel/key.h"
#include "tests/client_helpers.h"
#include "tests/process_cluster.h"

using namespace std::chrono_literals;
using cli::split_endpoints;
using testing_support::bytes_value;
using testing_support::key;
using testing_support::patient;
using testing_support::ProcessCluster;
using Clock = std::chrono::steady_clock;

namespace {

bool wait_until(const std::function<bool()>& done, std::chrono::seconds deadline = 30s) {
  auto end = Clock::now() + deadline;
  while (Clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

std::optional<std::string> read_on(ProcessCluster& c, int id, const base::Bytes& k) {
  cli::Client one({c.client_addr(id)});
  auto r = one.get(k, kvmodel::Consistency::kEventual);
  if (!r.is_ok() || !r->has_value()) return std::nullopt;
  return (*r)->value.data;
}

kvmodel::Enqueue message(const std::string& payload, uint64_t delay_ms = 0) {
  kvmodel::Enqueue e;
  e.payload = payload;
  e.delay_ms = delay_ms;
  return e;
}

// A queue listener on its own thread and its own client, recording every delivery.
class Listener {
 public:
  using Handler = std::function<bool(const net::QueueDelivery&)>;
  Listener(const std::string& endpoints, Handler handler = nullptr)
      : client_(split_endpoints(endpoints), patient()), handler_(std::move(handler)) {
    thread_ = std::thread([this] {
      cli::QueueListenOptions options;
      options.visibility_ms = 3000;
      options.should_stop = [this] { return stop_.load(); };
      while (!stop_) {
        base::Status s = client_.listen_queue(
            [this](const net::QueueDelivery& d) {
              {
                std::lock_guard lock(mu_);
                deliveries_.push_back(Seen{d.payload, d.attempt, Clock::now()});
              }
              return handler_ ? handler_(d) : true;
            },
            options);
        if (!s.is_ok()) std::this_thread::sleep_for(100ms);  // no leader yet: keep listening
      }
    });
  }
  ~Listener() {
    stop_ = true;
    thread_.join();
  }

  struct Seen {
    std::string payload;
    uint32_t attempt;
    Clock::time_point at;
  };
  std::vector<Seen> deliveries() {
    std::lock_guard lock(mu_);
    return deliveries_;
  }
  std::map<std::string, int> counts() {
    std::map<std::string, int> out;
    for (const auto& d : deliveries()) out[d.payload]++;
    return out;
  }
  bool seen(const std::string& payload) { return counts().count(payload) > 0; }

 private:
  cli::Client client_;
  Handler handler_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<Seen> deliveries_;
  std::thread thread_;
};

// Writes key("w", i) = i continuously, remembering every acknowledged i.
class Writer {
 public:
  explicit Writer(const std::string& endpoints)
      : client_(split_endpoints(endpoints), patient()), thread_([this] { run(); }) {}
  ~Writer() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  size_t acknowledged() {
    std::lock_guard lock(mu_);
    return acked_.size();
  }
  std::vector<int> acked() {
    std::lock_guard lock(mu_);
    return acked_;
  }
  // Strong reads of every acknowledged write through `reader`.
  void check_all_readable(cli::Client& reader) {
    for (int i : acked()) {
      auto r = reader.get(key("w", std::to_string(i)));
      REQUIRE(r.is_ok());
      REQUIRE_MESSAGE(r->has_value(), "acknowledged write w/" << i << " is missing");
      CHECK((*r)->value.data == std::to_string(i));
    }
  }

 private:
  void run() {
    for (int i = 0; !stop_; ++i) {
      auto r = client_.set(key("w", std::to_string(i)), bytes_value(std::to_string(i)));
      if (r.is_ok() && r->ok) {
        std::lock_guard lock(mu_);
        acked_.push_back(i);
      }
    }
  }

  cli::Client client_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<int> acked_;
  std::thread thread_;
};

}  // namespace

TEST_CASE(
    "services: a watch and a queue listener stay alive across kill -9 of the leader; no message "
    "is lost and the watcher never goes back in versionstamps") {
  ProcessCluster c;
  c.start_all();
  int leader = c.wait_leader();
  REQUIRE(leader != 0);
  const std::string endpoints = c.endpoints();
  cli::Client client(split_endpoints(endpoints), patient());
  REQUIRE(client.set(key("counter"), bytes_value("0"))->ok);

  // The watcher: versionstamps never go back; it ends on the final value.
  cli::Client watch_client(split_endpoints(endpoints), patient());
  std::atomic<bool> watcher_saw_final{false};
  std::atomic<int> snapshots{0}, went_back{0}, watch_errors{0};
  std::thread watcher([&] {
    auto watch = watch_client.watch({key("counter")});
    if (!watch.is_ok()) {
      watch_errors++;
      return;
    }
    kvmodel::Versionstamp newest{};
    auto end = Clock::now() + 120s;
    while (Clock::now() < end) {
      auto snapshot = watch->next(1s);
      if (!snapshot.is_ok()) {
        if (snapshot.status().code() != base::Code::kTimeout) watch_errors++;
        continue;
      }
      snapshots++;
      const auto& entry = snapshot->at(0);
      if (!entry) continue;
      if (entry->versionstamp < newest) went_back++;
      newest = std::max(newest, entry->versionstamp);
      if (entry->value.data == "final") {
        watcher_saw_final = true;
        return;
      }
    }
  });

  // A client writing all along.
  std::atomic<bool> stop_writing{false};
  std::atomic<int> writes_acked{0};
  std::thread counter_writer([&] {
    cli::Client w(split_endpoints(endpoints), patient());
    for (int i = 1; !stop_writing; ++i) {
      auto r = w.set(key("counter"), bytes_value(std::to_string(i)));
      if (r.is_ok() && r->ok) writes_acked++;
      std::this_thread::sleep_for(5ms);
    }
  });

  // A handler that takes a while (simulated work), so messages are still queued or leased
  // when the leader dies.
  Listener listener(endpoints, [](const net::QueueDelivery&) {
    std::this_thread::sleep_for(20ms);
    return true;
  });
  std::vector<std::string> enqueued;
  auto enqueue_batch = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      std::string id = "m" + std::to_string(i);
      auto r = client.enqueue(message(id));
      REQUIRE_MESSAGE(r.is_ok(), "enqueue " << id << ": " << r.status().to_string());
      REQUIRE(r->ok);
      enqueued.push_back(id);
    }
  };
  enqueue_batch(0, 30);  // before
  REQUIRE(wait_until([&] { return listener.seen("m10"); }));
  REQUIRE(wait_until([&] { return writes_acked >= 10 && snapshots >= 2; }));
  size_t delivered_at_kill = listener.counts().size();
  c.kill9(leader);
  enqueue_batch(30, 60);  // during (the client retries until the new leader answers)
  int new_leader = c.wait_leader();
  REQUIRE(new_leader != 0);
  CHECK(new_leader != leader);
  int acked_at_new_leader = writes_acked;
  enqueue_batch(60, 90);  // after
  REQUIRE(wait_until([&] { return writes_acked >= acked_at_new_leader + 10; }));
  stop_writing = true;
  counter_writer.join();
  REQUIRE(client.set(key("counter"), bytes_value("final"))->ok);

  watcher.join();
  CHECK(watcher_saw_final);
  CHECK(went_back == 0);
  CHECK(watch_errors == 0);
  CHECK(wait_until([&] {
    auto counts = listener.counts();
    for (const auto& id : enqueued)
      if (counts.count(id) == 0) return false;
    return true;
  }));
  auto counts = listener.counts();
  int duplicates = 0;
  for (const auto& id : enqueued) {
    CHECK_MESSAGE(counts[id] >= 1, "message " << id << " was lost");
    if (counts[id] > 1) duplicates += counts[id] - 1;
  }
  CHECK(counts.size() == enqueued.size());  // nothing that was never enqueued
  CHECK(delivered_at_kill < 30);            // the kill did land while messages were outstanding
  MESSAGE("90 messages (" << 30 - delivered_at_kill << " of the first 30 outstanding at the kill), "
                          << duplicates << " redelivered after the leader's kill -9; "
                          << snapshots.load() << " watch snapshots, " << writes_acked.load()
                          << " acknowledged writes");
}

TEST_CASE("services: a delayed message is not delivered before its delay, and is after it") {
  ProcessCluster c;
  c.start_all();
  REQUIRE(c.wait_leader() != 0);
  cli::Client client(split_endpoints(c.endpoints()), patient());
  Listener listener(c.endpoints());
  // The listener is live: an immediate message arrives.
  REQUIRE(client.enqueue(message("ping"))->ok);
  REQUIRE(wait_until([&] { return listener.seen("ping"); }));

  // The leader stamps the entry between our send and its answer, so the earliest legal delivery
  // is `sent + delay` (measuring from the acknowledgement could be off by the commit latency).
  auto sent = Clock::now();
  auto r = client.enqueue(message("later", 1500));
  auto acknowledged = Clock::now();
  REQUIRE(r.is_ok());
  REQUIRE(r->ok);
  REQUIRE(wait_until([&] { return listener.seen("later"); }));
  Clock::time_point delivered{};
  for (const auto& d : listener.deliveries())
    if (d.payload == "later") delivered = d.at;
  auto since_sent = std::chrono::duration_cast<std::chrono::milliseconds>(delivered - sent);
  auto since_ack = std::chrono::duration_cast<std::chrono::milliseconds>(delivered - acknowledged);
  MESSAGE("delay 1500 ms: delivered " << since_sent.count() << " ms after the send, "
                                      << since_ack.count() << " ms after the acknowledgement");
  CHECK(since_sent >= 1500ms);
  CHECK(since_ack >= 1400ms);  // the commit took far less than 100 ms
  CHECK(since_sent < 6500ms);  // and it did come, soon after it was due
}

TEST_CASE(
    "services: a handler that always fails ends in the dead-letter keys after exactly "
    "1 + len(schedule) attempts") {
  ProcessCluster c;
  c.start_all();
  REQUIRE(c.wait_leader() != 0);
  cli::Client client(split_endpoints(c.endpoints()), patient());

  SUBCASE("through the client library") {
    Listener listener(c.endpoints(), [](const net::QueueDelivery&) { return false; });
    kvmodel::Enqueue e = message("doomed");
    e.backoff_schedule_ms = {50, 100, 150};
    e.keys_if_undelivered = {key("dead", "1"), key("dead", "2")};
    REQUIRE(client.enqueue(e)->ok);
    REQUIRE(wait_until([&] {
      auto r = client.get(key("dead", "2"));
      return r.is_ok() && r->has_value();
    }));
    for (const auto& k : {key("dead", "1"), key("dead", "2")}) {
      auto r = client.get(k);
      REQUIRE(r.is_ok());
      REQUIRE(r->has_value());
      CHECK((*r)->value.data == "doomed");
    }
    std::multiset<uint32_t> attempts;
    for (const auto& d : listener.deliveries())
      if (d.payload == "doomed") attempts.insert(d.attempt);
    CHECK(attempts == std::multiset<uint32_t>{1, 2, 3, 4});
  }

  SUBCASE("through kv enqueue and kv listen --exec with a failing command") {
    const std::string kv = testing_support::binary_path("KV") + " --endpoints " + c.endpoints();
    auto enq = testing_support::run_command(
        kv + " enqueue '\"job\"' --backoff 50,100 --keys-if-undelivered '[\"dead\", \"cli\"]'");
    REQUIRE_MESSAGE(enq.exit_code == 0, enq.err);
    // Three failed deliveries (1 + 2 retries), then the payload is in the dead-letter key. The
    // command does not read its stdin, so kv must not die of SIGPIPE writing the message.
    auto listen =
        testing_support::run_command(kv + " --json listen --exec 'sh -c \"exit 1\"' --count 3");
    REQUIRE_MESSAGE(listen.exit_code == 0, listen.err);
    int failed_lines = 0;
    for (size_t at = 0; (at = listen.out.find("\"ok\":false", at)) != std::string::npos; ++at)
      ++failed_lines;
    CHECK(failed_lines == 3);
    for (const char* attempt : {"\"attempt\":1,", "\"attempt\":2,", "\"attempt\":3,"})
      CHECK_MESSAGE(listen.out.find(attempt) != std::string::npos, listen.out);
    CHECK(wait_until([&] {
      auto r = client.get(key("dead", "cli"));
      return r.is_ok() && r->has_value();
    }));
    auto got = testing_support::run_command(kv + " get '[\"dead\", \"cli\"]'");
    CHECK(got.exit_code == 0);
    CHECK(got.out.find("job") != std::string::npos);
  }
}

TEST_CASE("services: an enqueue inside an atomic write whose check fails is never delivered") {
  ProcessCluster c;
  c.start_all();
  REQUIRE(c.wait_leader() != 0);
  cli::Client client(split_endpoints(c.endpoints()), patient());
  Listener listener(c.endpoints());
  REQUIRE(client.set(key("guard"), bytes_value("exists"))->ok);

  auto failed = client.atomic()
                    .check(key("guard"), std::nullopt)  // fails: the key exists
                    .enqueue(message("never"))
                    .commit();
  REQUIRE(failed.is_ok());
  CHECK_FALSE(failed->ok);
  CHECK(failed->failed_checks == std::vector<uint32_t>{0});
  // A committed enqueue after it proves the listener is live (and would have had "never").
  auto committed = client.atomic()
                       .check(key("guard"), client.get(key("guard")).value()->versionstamp)
                       .enqueue(message("live"))
                       .commit();
  REQUIRE(committed.is_ok());
  REQUIRE(committed->ok);
  REQUIRE(wait_until([&] { return listener.seen("live"); }));
  CHECK_FALSE(listener.seen("never"));
  CHECK(listener.counts().size() == 1);
}

TEST_CASE("services: an expired key disappears and its watcher sees it go") {
  ProcessCluster c;
  c.start_all();
  REQUIRE(c.wait_leader() != 0);
  cli::Client client(split_endpoints(c.endpoints()), patient());
  cli::Client watch_client(split_endpoints(c.endpoints()), patient());
  auto watch = watch_client.watch({key("session")});
  REQUIRE(watch.is_ok());
  auto first = watch->next(30s);
  REQUIRE(first.is_ok());
  CHECK_FALSE(first->at(0).has_value());  // not there yet

  auto set_at = Clock::now();
  REQUIRE(client.set(key("session"), bytes_value("token"), 1000ms)->ok);
  bool saw_present = false, saw_gone = false;
  auto end = Clock::now() + 60s;
  while (!saw_gone && Clock::now() < end) {
    auto snapshot = watch->next(1s);
    if (!snapshot.is_ok()) continue;
    const auto& entry = snapshot->at(0);
    if (entry && entry->value.data == "token") saw_present = true;
    if (!entry && saw_present) saw_gone = true;
  }
  auto gone_after = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - set_at);
  CHECK(saw_present);
  CHECK(saw_gone);
  CHECK(gone_after >= 1000ms);  // not before its time
  MESSAGE("the watcher saw the key go " << gone_after.count() << " ms after the set");
  auto r = client.get(key("session"));
  REQUIRE(r.is_ok());
  CHECK_FALSE(r->has_value());
}

namespace {

std::optional<net::MemberListResult> member_list(cli::Client& client) {
  auto r = client.call_leader(net::MemberList{});
  if (!r.is_ok()) return std::nullopt;
  auto* list = std::get_if<net::MemberListResult>(&*r);
  if (list == nullptr) return std::nullopt;
  return *list;
}

std::optional<net::MemberRole> role_of(cli::Client& client, uint64_t id) {
  auto list = member_list(client);
  if (!list) return std::nullopt;
  for (const auto& m : list->members)
    if (m.id == id) return m.role;
  return std::nullopt;
}

// For a failure's message: the end of every started node's log.
std::string log_tails(ProcessCluster& c) {
  std::string out;
  for (int id = 1; id <= 9; ++id) {
    auto tail = testing_support::run_command("tail -n 6 " + c.log_path(id) + " 2>/dev/null");
    if (!tail.out.empty()) out += "--- node " + std::to_string(id) + "\n" + tail.out;
  }
  return out;
}

}  // namespace

TEST_CASE(
    "services: add a fourth node, remove a follower, remove the leader and transfer leadership, "
    "all while a client writes") {
  ProcessCluster c;
  c.start_all();
  int leader = c.wait_leader();
  REQUIRE(leader != 0);
  const std::string all_endpoints = c.endpoints() + "," + c.client_addr(4);
  cli::Client admin(split_endpoints(all_endpoints), patient());
  Writer writer(all_endpoints);
  REQUIRE(wait_until([&] { return writer.acknowledged() >= 20; }));

  // 1. A fourth node joins empty; MemberAdd answers once it is a voter.
  c.start_joining(4);
  auto added = admin.call_leader(net::MemberAdd{4, c.peer_addr(4), c.client_addr(4)});
  // On a loaded machine the learner may not catch up within the leader's 10 s: the answer is
  // then a kTimeout saying so, and the same add (idempotent) waits for the promotion again.
  for (int retry = 0; retry < 3 && !added.is_ok() && added.status().code() == base::Code::kTimeout;
       ++retry) {
    auto st4 = c.status(4);
    MESSAGE("the logs end:\n" << log_tails(c));
    auto st_leader = c.status(c.wait_leader());
    MESSAGE("member add: " << added.status().to_string() << " (node 4 applied "
                           << (st4 ? st4->applied : 0) << ", leader last index "
                           << (st_leader ? st_leader->last_index : 0) << "); retrying");
    added = admin.call_leader(net::MemberAdd{4, c.peer_addr(4), c.client_addr(4)});
  }
  REQUIRE_MESSAGE(added.is_ok(), added.status().to_string());
  auto* list = std::get_if<net::MemberListResult>(&*added);
  REQUIRE(list != nullptr);
  CHECK(list->members.size() == 4);
  CHECK(role_of(admin, 4) == net::MemberRole::kVoter);
  size_t acked = writer.acknowledged();
  REQUIRE(wait_until([&] { return writer.acknowledged() >= acked + 20; }));
  int last = writer.acked().back();
  CHECK(wait_until([&] { return read_on(c, 4, key("w", std::to_string(last))).has_value(); }));
  CHECK(read_on(c, 4, key("w", "0")) == "0");  // written before it joined
  writer.check_all_readable(admin);

  // 2. Remove a follower (not the new node).
  leader = c.wait_leader();
  REQUIRE(leader != 0);
  int follower = leader % 3 + 1;
  auto removed = admin.call_leader(net::MemberRemove{static_cast<uint64_t>(follower)});
  REQUIRE_MESSAGE(removed.is_ok(), removed.status().to_string());
  c.forget(follower);
  c.kill9(follower);
  acked = writer.acknowledged();
  REQUIRE(wait_until([&] { return writer.acknowledged() >= acked + 20; }));
  writer.check_all_readable(admin);

  // 3. Remove the leader: a new leader is elected among the other two; writes go on.
  leader = c.wait_leader();
  REQUIRE(leader != 0);
  auto removed_leader = admin.call_leader(net::MemberRemove{static_cast<uint64_t>(leader)});
  REQUIRE_MESSAGE(removed_leader.is_ok(), removed_leader.status().to_string());
  c.forget(leader);
  int new_leader = c.wait_leader();
  REQUIRE_MESSAGE(new_leader != 0, "no leader after removing the leader; the logs end:\n"
                                       << log_tails(c));
  CHECK(new_leader != leader);
  c.kill9(leader);
  acked = writer.acknowledged();
  REQUIRE(wait_until([&] { return writer.acknowledged() >= acked + 20; }));
  writer.check_all_readable(admin);
  auto members = member_list(admin);
  REQUIRE(members.has_value());
  CHECK(members->members.size() == 2);

  // 4. Transfer leadership to the other voter, by name, through the kv binary.
  int other = 0;
  for (int id : c.members())
    if (id != new_leader) other = id;
  REQUIRE(other != 0);
  const std::string kv = testing_support::binary_path("KV") + " --endpoints " + c.endpoints();
  auto transfer = testing_support::run_command(kv + " leader transfer " + std::to_string(other));
  CHECK_MESSAGE(transfer.exit_code == 0, transfer.err);
  CHECK(wait_until([&] { return c.wait_leader(5s) == other; }));
  acked = writer.acknowledged();
  REQUIRE(wait_until([&] { return writer.acknowledged() >= acked + 20; }));
  writer.stop();
  writer.check_all_readable(admin);
  auto listed = testing_support::run_command(kv + " --json member list");
  CHECK(listed.exit_code == 0);
  CHECK(listed.out.find("\"id\":" + std::to_string(other)) != std::string::npos);
  CHECK(listed.out.find("\"role\":\"voter\"") != std::string::npos);
  CHECK(listed.out.find("\"role\":\"learner\"") == std::string::npos);
  MESSAGE(writer.acknowledged() << " acknowledged writes, all readable after every step");
}

TEST_CASE(
    "services: kv member add of a node that never catches up fails with a clear message after "
    "10 s; kv member list shows it as a learner until kv member remove takes it out") {
  ProcessCluster c;
  c.start_all();
  REQUIRE(c.wait_leader() != 0);
  const std::string kv = testing_support::binary_path("KV") + " --endpoints " + c.endpoints();
  auto started = Clock::now();
  auto add = testing_support::run_command(kv + " member add 5 " + c.peer_addr(5) + " " +
                                          c.client_addr(5));  // node 5 is never started
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  CHECK(add.exit_code == 1);
  CHECK_MESSAGE(
      add.err.find("node 5 was added as a learner but has not caught up in 10 s; it "
                   "stays a learner and will be promoted when it catches up") != std::string::npos,
      add.err);
  CHECK(took >= 10s);
  auto listed = testing_support::run_command(kv + " --json member list");
  REQUIRE(listed.exit_code == 0);
  CHECK_MESSAGE(listed.out.find("{\"id\":5,\"role\":\"learner\"") != std::string::npos, listed.out);
  auto text = testing_support::run_command(kv + " member list");
  CHECK(text.out.find("5  learner") != std::string::npos);
  auto removed = testing_support::run_command(kv + " member remove 5");
  CHECK_MESSAGE(removed.exit_code == 0, removed.err);
  auto after = testing_support::run_command(kv + " --json member list");
  CHECK(after.out.find("\"id\":5") == std::string::npos);
  CHECK(after.out.find("\"id\":3,\"role\":\"voter\"") != std::string::npos);
}
