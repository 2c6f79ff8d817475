#include "cli/bench_command.h"

#include <sys/resource.h>
#include <unistd.h>

#include <asio.hpp>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/flags.h"
#include "base/histogram.h"
#include "base/json.h"
#include "base/rng.h"
#include "cli/client.h"
#include "kvmodel/key.h"
#include "net/client_connection.h"

namespace cli {

const char* const kBenchCommandHelp =
    "  kv bench WORKLOAD [flags]       load generator: set, cas, get, get-eventual, list,\n"
    "                                  enqueue, mixed (kv bench --help for flags)\n"
    "  kv bench leader                 print the leader's client address\n"
    "  kv bench probe --duration S     write continuously, print each write's start/end\n";

namespace {

using Clock = std::chrono::steady_clock;

enum class Op { kSet, kCas, kGet, kGetEventual, kList, kEnqueue };
enum class Workload { kSet, kCas, kGet, kGetEventual, kList, kEnqueue, kMixed };

struct WorkloadName {
  std::string_view name;
  Workload workload;
};
constexpr WorkloadName kWorkloads[] = {
    {"set", Workload::kSet},     {"cas", Workload::kCas},
    {"get", Workload::kGet},     {"get-eventual", Workload::kGetEventual},
    {"list", Workload::kList},   {"enqueue", Workload::kEnqueue},
    {"mixed", Workload::kMixed},
};

constexpr uint32_t kListLimit = 100;  // entries per `list` scan

struct BenchOptions {
  std::string workload_name;
  Workload workload = Workload::kSet;
  std::vector<std::string> endpoints;
  uint64_t concurrency = 16;
  uint64_t connections = 4;
  uint64_t keys = 10000;
  uint64_t value_size = 100;
  double duration_s = 10;
  double warmup_s = 1;
  uint64_t count = 0;  // > 0: run exactly this many operations instead of a duration
  uint64_t rate = 0;   // target ops/s; 0 = as fast as the slots go
  uint64_t seed = 1;
  bool json = false;
  bool quiet = false;
  bool preload = true;
  std::string label = "raftkv";
};

struct SecondRow {
  double t_s = 0;
  uint64_t ops = 0;
  uint64_t errors = 0;
  uint64_t p50_us = 0, p99_us = 0, max_us = 0;
};

struct Report {
  uint64_t ops = 0, errors = 0, failed_checks = 0;
  double window_s = 0;
  double cpu_user_s = 0, cpu_sys_s = 0;
  base::Histogram latency_us;
  std::vector<SecondRow> seconds;
  std::string first_error;
};

double cpu_seconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; }

base::Bytes key_bytes(std::vector<kvmodel::KeyPart> parts) {
  auto key = kvmodel::encode_key(parts);
  ENSURE(key.is_ok());
  return std::move(*key);
}

// ["bench", "k00000042"]: zero-padded so key order is index order (list scans rely on it).
base::Bytes bench_key(uint64_t i) {
  return key_bytes(
      {kvmodel::KeyPart::string("bench"), kvmodel::KeyPart::string(fmt::format("k{:08}", i))});
}

// A V8-serialized one-byte string of `size` letters: what Deno's enqueue() would send.
base::Bytes v8_string(size_t size) {
  base::Bytes out = {'\xff', '\x0f', '"'};
  for (size_t n = size;; n >>= 7) {
    out.push_back(static_cast<char>((n & 0x7f) | (n >= 0x80 ? 0x80 : 0)));
    if (n < 0x80) break;
  }
  out.append(size, 'x');
  return out;
}

// Everything a request is built from, made once so the hot path only copies bytes.
struct Corpus {
  std::vector<base::Bytes> keys;  // bench_key(i)
  base::Bytes list_end;           // just past every ["bench", ...] key
  base::Bytes value;
  base::Bytes enqueue_payload;
  std::string cas_tag;  // fresh per run: cas keys start absent
};

Corpus make_corpus(const BenchOptions& o) {
  Corpus c;
  c.keys.reserve(o.keys);
  for (uint64_t i = 0; i < o.keys; ++i) c.keys.push_back(bench_key(i));
  c.list_end = key_bytes({kvmodel::KeyPart::string("bench")});
  c.list_end.push_back('\xff');
  base::Rng rng(o.seed);
  for (uint64_t i = 0; i < o.value_size; ++i) c.value.push_back(static_cast<char>(rng.next()));
  c.enqueue_payload = v8_string(o.value_size);
  c.cas_tag = fmt::format(
      "{:016x}",
      base::Rng(o.seed ^ static_cast<uint64_t>(Clock::now().time_since_epoch().count())).next());
  return c;
}

struct LeaderInfo {
  std::string address;
  uint64_t term = 0;
};

base::Result<LeaderInfo> find_leader(const std::vector<std::string>& endpoints,
                                     std::chrono::milliseconds patience) {
  auto deadline = Clock::now() + patience;
  std::string last_error = "no endpoint answered";
  do {
    for (const auto& endpoint : endpoints) {
      net::BlockingClient client;
      if (auto s = client.connect(endpoint); !s.is_ok()) {
        last_error = fmt::format("{}: {}", endpoint, s.message());
        continue;
      }
      auto r = client.call(net::StatusRequest{true}, std::chrono::milliseconds(1000));
      if (!r.is_ok()) continue;
      const auto* st = std::get_if<net::StatusResult>(&r->body);
      if (st != nullptr && !st->nodes.empty() && st->nodes[0].role == raft::Role::kLeader)
        return LeaderInfo{endpoint, st->nodes[0].term};
      last_error = "no node reports itself leader";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (Clock::now() < deadline);
  return base::Status(base::Code::kUnavailable, last_error);
}

// Runs one workload phase on its own io_context, driven from the calling thread. Every
// member is touched only by that thread (callbacks run inside io_.run()).
class Runner {
 public:
  // targets[i % targets.size()] is connection i's node. sequential: operation n uses key n
  // (the preload: every key written once, in order) instead of a random key.
  Runner(const BenchOptions& o, const Corpus& corpus, std::vector<std::string> targets,
         bool sequential)
      : o_(o),
        corpus_(corpus),
        targets_(std::move(targets)),
        sequential_(sequential),
        rng_(o.seed * 7919 + (sequential ? 1 : 2)),
        second_timer_(io_),
        window_timer_(io_) {}

  base::Result<Report> run(std::ostream& err);

 private:
  struct Slot {
    size_t conn = 0;
    Clock::time_point start;
    std::unique_ptr<asio::steady_timer> pacing;                      // only with a target rate
    std::vector<std::optional<kvmodel::Versionstamp>> cas_versions;  // this slot's cas keys
    uint64_t cas_next = 0;
  };
  struct Conn {
    std::shared_ptr<net::ClientConnection> connection;
    uint64_t client_id = 0;
    uint64_t sequence = 0;
  };

  void connect_all();
  void begin();
  void issue(size_t slot);
  void send(size_t slot, Clock::time_point start);
  Op pick_op();
  net::RequestBody build(size_t slot, Op op);
  void on_answer(size_t slot, Op op, Clock::time_point start, base::Result<net::Response> r);
  bool done_issuing(Clock::time_point now) const;
  void on_second();
  void on_window_start();
  void on_window_deadline();
  void mark_window_end(Clock::time_point now);
  void maybe_finish();
  void finish();
  void note_error(std::string message);

  const BenchOptions& o_;
  const Corpus& corpus_;
  std::vector<std::string> targets_;
  bool sequential_;
  base::Rng rng_;
  asio::io_context io_;
  asio::steady_timer second_timer_, window_timer_;
  std::vector<Conn> conns_;
  std::vector<Slot> slots_;
  size_t connected_ = 0;
  base::Status setup_error_;

  Clock::time_point t0_, measure_from_, measure_until_;
  uint64_t issued_ = 0, in_flight_ = 0, completed_ = 0;
  uint64_t paced_ = 0, waiting_ = 0;  // with a target rate: schedule position, slots waiting
  bool window_closed_ = false, finished_ = false;
  rusage usage_start_{}, usage_end_{};
  Report report_;
  base::Histogram second_;  // the current second's latencies
  uint64_t second_errors_ = 0;
  std::ostream* err_ = nullptr;
};

base::Result<Report> Runner::run(std::ostream& err) {
  err_ = &err;
  conns_.resize(o_.connections);
  slots_.resize(o_.concurrency);
  for (size_t i = 0; i < slots_.size(); ++i) {
    slots_[i].conn = i % conns_.size();
    if (o_.rate > 0) slots_[i].pacing = std::make_unique<asio::steady_timer>(io_);
    slots_[i].cas_versions.resize(std::max<uint64_t>(1, o_.keys / o_.concurrency));
  }
  asio::post(io_, [this] { connect_all(); });
  io_.run();
  if (!setup_error_.is_ok()) return setup_error_;
  return std::move(report_);
}

void Runner::connect_all() {
  // Client ids must be fresh per run: a reused id would continue an old session whose
  // sequence numbers are ahead of ours ("too old" answers).
  base::Rng ids(std::random_device{}() ^
                static_cast<uint64_t>(Clock::now().time_since_epoch().count()));
  for (size_t i = 0; i < conns_.size(); ++i) {
    conns_[i].client_id = ids.next() | 1;
    conns_[i].connection = net::ClientConnection::create(io_);
    conns_[i].connection->connect(targets_[i % targets_.size()], [this](base::Status s) {
      if (!s.is_ok() && setup_error_.is_ok()) {
        setup_error_ = s;
        for (auto& c : conns_) c.connection->close();
        io_.stop();
        return;
      }
      if (++connected_ == conns_.size()) begin();
    });
  }
}

void Runner::begin() {
  t0_ = Clock::now();
  const bool timed = o_.count == 0;
  measure_from_ = t0_ + std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>(timed ? o_.warmup_s : 0));
  measure_until_ = measure_from_ + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(o_.duration_s));
  if (timed) {
    window_timer_.expires_at(measure_from_);
    window_timer_.async_wait([this](std::error_code ec) {
      if (!ec) on_window_start();
    });
  } else {
    getrusage(RUSAGE_SELF, &usage_start_);
  }
  second_timer_.expires_at(t0_ + std::chrono::seconds(1));
  second_timer_.async_wait([this](std::error_code ec) {
    if (!ec) on_second();
  });
  for (size_t i = 0; i < slots_.size(); ++i) issue(i);
}

void Runner::on_window_start() {
  getrusage(RUSAGE_SELF, &usage_start_);
  window_timer_.expires_at(measure_until_);
  window_timer_.async_wait([this](std::error_code ec) {
    if (!ec) on_window_deadline();
  });
}

// The window closes on time even if no answer comes; requests still out get 10 s to answer
// before the connections are closed.
void Runner::on_window_deadline() {
  if (!window_closed_) mark_window_end(Clock::now());
  window_timer_.expires_at(Clock::now() + std::chrono::seconds(10));
  window_timer_.async_wait([this](std::error_code ec) {
    if (!ec && !finished_) {
      note_error("requests still unanswered 10 s after the end; closed the connections");
      finish();
    }
  });
}

bool Runner::done_issuing(Clock::time_point now) const {
  if (o_.count > 0) return issued_ >= o_.count;
  return now >= measure_until_;
}

void Runner::issue(size_t slot) {
  auto now = Clock::now();
  if (finished_ || done_issuing(now) || !conns_[slots_[slot].conn].connection->is_open()) {
    maybe_finish();
    return;
  }
  if (o_.rate == 0) {
    send(slot, now);
    return;
  }
  // Open-loop pacing: operation n is due at t0 + n / rate, whichever slot sends it.
  auto due = t0_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                       static_cast<double>(paced_++) / static_cast<double>(o_.rate)));
  if (due <= now) {
    send(slot, due);
    return;
  }
  ++waiting_;
  slots_[slot].pacing->expires_at(due);
  slots_[slot].pacing->async_wait([this, slot, due](std::error_code) {
    --waiting_;
    if (finished_ || done_issuing(Clock::now())) {
      maybe_finish();
      return;
    }
    send(slot, due);
  });
}

void Runner::send(size_t slot, Clock::time_point start) {
  Op op = pick_op();
  ++issued_;
  ++in_flight_;
  Conn& conn = conns_[slots_[slot].conn];
  conn.connection->send(build(slot, op), [this, slot, op, start](base::Result<net::Response> r) {
    on_answer(slot, op, start, std::move(r));
  });
}

Op Runner::pick_op() {
  switch (o_.workload) {
    case Workload::kSet:
      return Op::kSet;
    case Workload::kCas:
      return Op::kCas;
    case Workload::kGet:
      return Op::kGet;
    case Workload::kGetEventual:
      return Op::kGetEventual;
    case Workload::kList:
      return Op::kList;
    case Workload::kEnqueue:
      return Op::kEnqueue;
    case Workload::kMixed:
      break;
  }
  // mixed: 60% strong gets, 30% sets, 10% list scans.
  uint64_t dice = rng_.uniform(10);
  return dice < 6 ? Op::kGet : dice < 9 ? Op::kSet : Op::kList;
}

net::RequestBody Runner::build(size_t slot, Op op) {
  uint64_t key_index = sequential_ ? issued_ - 1 : rng_.uniform(corpus_.keys.size());
  const base::Bytes& key = corpus_.keys[key_index % corpus_.keys.size()];
  if (op == Op::kGet || op == Op::kGetEventual || op == Op::kList) {
    kvmodel::ReadRange range;
    if (op == Op::kList) {
      uint64_t span = corpus_.keys.size() > kListLimit ? corpus_.keys.size() - kListLimit : 1;
      range = {corpus_.keys[rng_.uniform(span)], corpus_.list_end, kListLimit, false};
    } else {
      range = {key, key + '\0', 1, false};
    }
    return kvmodel::SnapshotRead{
        {std::move(range)},
        op == Op::kGetEventual ? kvmodel::Consistency::kEventual : kvmodel::Consistency::kStrong};
  }
  Conn& conn = conns_[slots_[slot].conn];
  kvmodel::AtomicWrite w;
  w.client_id = conn.client_id;
  w.sequence = ++conn.sequence;
  if (op == Op::kEnqueue) {
    w.enqueues.push_back(kvmodel::Enqueue{corpus_.enqueue_payload, 0, {}, {}});
    return w;
  }
  kvmodel::Mutation m{kvmodel::MutationKind::kSet,
                      key,
                      kvmodel::Value{kvmodel::ValueEncoding::kBytes, corpus_.value},
                      0,
                      {},
                      {},
                      false};
  if (op == Op::kCas) {
    // Each slot owns its cas keys, so a check fails only if the store lost or reordered a write.
    Slot& s = slots_[slot];
    uint64_t j = s.cas_next++ % s.cas_versions.size();
    m.key =
        key_bytes({kvmodel::KeyPart::string("bench-cas"), kvmodel::KeyPart::string(corpus_.cas_tag),
                   kvmodel::KeyPart::string(fmt::format("s{:05}k{:08}", slot, j))});
    w.checks.push_back(kvmodel::Check{m.key, s.cas_versions[j]});
  }
  w.mutations.push_back(std::move(m));
  return w;
}

void Runner::on_answer(size_t slot, Op op, Clock::time_point start, base::Result<net::Response> r) {
  --in_flight_;
  ++completed_;
  auto now = Clock::now();
  bool measured = !window_closed_ && now >= measure_from_ && (o_.count > 0 || now < measure_until_);
  bool ok = r.is_ok() && !std::holds_alternative<net::Error>(r->body);
  if (!ok) {
    note_error(r.is_ok() ? std::get<net::Error>(r->body).to_status().to_string()
                         : r.status().to_string());
    if (measured) ++report_.errors, ++second_errors_;
  } else if (measured) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - start).count();
    report_.latency_us.record(static_cast<uint64_t>(us));
    second_.record(static_cast<uint64_t>(us));
    ++report_.ops;
  }
  if (ok && op == Op::kCas) {
    const auto& result = std::get<net::AtomicWriteResult>(r->body);
    Slot& s = slots_[slot];
    if (result.ok)
      s.cas_versions[(s.cas_next - 1) % s.cas_versions.size()] = result.versionstamp;
    else if (measured)
      ++report_.failed_checks;
  }
  if (o_.count > 0 && !window_closed_ && completed_ >= o_.count) mark_window_end(now);
  issue(slot);
}

void Runner::note_error(std::string message) {
  if (report_.first_error.empty()) report_.first_error = std::move(message);
}

void Runner::mark_window_end(Clock::time_point now) {
  window_closed_ = true;
  getrusage(RUSAGE_SELF, &usage_end_);
  report_.window_s = std::chrono::duration<double>(now - measure_from_).count();
  report_.cpu_user_s = cpu_seconds(usage_end_.ru_utime) - cpu_seconds(usage_start_.ru_utime);
  report_.cpu_sys_s = cpu_seconds(usage_end_.ru_stime) - cpu_seconds(usage_start_.ru_stime);
}

void Runner::on_second() {
  auto now = Clock::now();
  double t = std::chrono::duration<double>(now - t0_).count();
  if (!o_.quiet && !sequential_) {
    *err_ << fmt::format("[{:6.1f}s] {:>8} ops/s  p50 {:>6} us  p99 {:>6} us  errors {}{}", t,
                         second_.count(), second_.percentile(0.5), second_.percentile(0.99),
                         second_errors_, isatty(STDERR_FILENO) ? "\r" : "\n")
          << std::flush;
  }
  if (now > measure_from_ && !window_closed_) {
    report_.seconds.push_back({t, second_.count(), second_errors_, second_.percentile(0.5),
                               second_.percentile(0.99), second_.max()});
  }
  second_.reset();
  second_errors_ = 0;
  if (finished_) return;
  second_timer_.expires_at(second_timer_.expiry() + std::chrono::seconds(1));
  second_timer_.async_wait([this](std::error_code ec) {
    if (!ec) on_second();
  });
}

// Every running slot has a request in flight or waits for its pacing time, so when neither is
// left, every slot has stopped (done, or its connection closed).
void Runner::maybe_finish() {
  if (!finished_ && in_flight_ == 0 && waiting_ == 0) finish();
}

void Runner::finish() {
  finished_ = true;
  if (!window_closed_) mark_window_end(Clock::now());
  if (!o_.quiet && !sequential_ && isatty(STDERR_FILENO)) *err_ << "\n";
  second_timer_.cancel();
  window_timer_.cancel();
  for (auto& s : slots_)
    if (s.pacing) s.pacing->cancel();
  for (auto& c : conns_) c.connection->close();
}

// ---------------------------------------------------------------- reporting

base::Json latency_json(const base::Histogram& h) {
  return base::Json::object({{"p50", base::Json::number(h.percentile(0.5))},
                             {"p90", base::Json::number(h.percentile(0.9))},
                             {"p99", base::Json::number(h.percentile(0.99))},
                             {"p999", base::Json::number(h.percentile(0.999))},
                             {"max", base::Json::number(h.max())},
                             {"mean", base::Json::number(h.mean())}});
}

double throughput(const Report& r) { return r.window_s > 0 ? r.ops / r.window_s : 0; }
double cpu_percent(const Report& r) {
  return r.window_s > 0 ? 100 * (r.cpu_user_s + r.cpu_sys_s) / r.window_s : 0;
}

void print_json(const BenchOptions& o, const std::string& leader, const Report& r,
                std::ostream& out) {
  base::Json::Array seconds;
  for (const auto& row : r.seconds) {
    seconds.push_back(base::Json::object({{"t_s", base::Json::number(row.t_s)},
                                          {"ops", base::Json::number(row.ops)},
                                          {"errors", base::Json::number(row.errors)},
                                          {"p50_us", base::Json::number(row.p50_us)},
                                          {"p99_us", base::Json::number(row.p99_us)},
                                          {"max_us", base::Json::number(row.max_us)}}));
  }
  base::Json j = base::Json::object({
      {"system", base::Json::string(o.label)},
      {"workload", base::Json::string(o.workload_name)},
      {"concurrency", base::Json::number(o.concurrency)},
      {"connections", base::Json::number(o.connections)},
      {"keys", base::Json::number(o.keys)},
      {"value_size", base::Json::number(o.value_size)},
      {"leader", base::Json::string(leader)},
      {"ops", base::Json::number(r.ops)},
      {"errors", base::Json::number(r.errors)},
      {"failed_checks", base::Json::number(r.failed_checks)},
      {"window_s", base::Json::number(r.window_s)},
      {"throughput_ops_s", base::Json::number(throughput(r))},
      {"latency_us", latency_json(r.latency_us)},
      {"client_cpu_pct", base::Json::number(cpu_percent(r))},
      {"first_error", base::Json::string(r.first_error)},
      {"per_second", base::Json::array(std::move(seconds))},
  });
  out << j.serialize() << "\n";
}

void print_text(const BenchOptions& o, const std::string& leader, const Report& r,
                std::ostream& out) {
  const auto& h = r.latency_us;
  out << fmt::format("{} {}: {} in flight over {} connections to {}, {} keys, {} B values\n",
                     o.label, o.workload_name, o.concurrency, o.connections, leader, o.keys,
                     o.value_size);
  out << fmt::format("  ops         {} ok, {} errors, {} failed checks in {:.2f} s\n", r.ops,
                     r.errors, r.failed_checks, r.window_s);
  out << fmt::format("  throughput  {:.0f} ops/s\n", throughput(r));
  out << fmt::format("  latency us  p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  mean {:.0f}\n",
                     h.percentile(0.5), h.percentile(0.9), h.percentile(0.99), h.percentile(0.999),
                     h.max(), h.mean());
  out << fmt::format("  client cpu  {:.0f}% of one core (user {:.2f} s, sys {:.2f} s)\n",
                     cpu_percent(r), r.cpu_user_s, r.cpu_sys_s);
  if (!r.first_error.empty()) out << "  first error " << r.first_error << "\n";
  out << "  per second  t_s ops p50_us p99_us max_us errors\n";
  for (const auto& row : r.seconds) {
    out << fmt::format("              {:.1f} {} {} {} {} {}\n", row.t_s, row.ops, row.p50_us,
                       row.p99_us, row.max_us, row.errors);
  }
}

// ---------------------------------------------------------------- flags and entry points

base::Result<double> parse_seconds(const std::string& flag, const std::string& text) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !(v >= 0) || v > 86400)
    return base::invalid_argument("--{}: expected seconds, got '{}'", flag, text);
  return v;
}

struct ParsedArgs {
  BenchOptions options;
  bool help = false;
};

base::Result<ParsedArgs> parse_args(std::span<const std::string_view> args) {
  ParsedArgs p;
  BenchOptions& o = p.options;
  const char* env = std::getenv("KV_ENDPOINTS");
  std::string endpoints = env != nullptr ? env : "127.0.0.1:4501";
  std::string duration = "10", warmup = "1";
  bool no_preload = false;
  base::Flags flags(
      "usage: kv bench WORKLOAD [flags]   WORKLOAD: set, cas, get, get-eventual, list (100-entry\n"
      "       prefix scans), enqueue, mixed (60% get, 30% set, 10% list)\n"
      "       kv bench leader               print the leader's client address and term\n"
      "       kv bench probe --duration S   one writer through the client library (retries,\n"
      "                                     leader following); prints 'ok START_US END_US' (Unix\n"
      "                                     microseconds) per acknowledged write");
  flags.add_string("endpoints", &endpoints, "client addresses, comma-separated ($KV_ENDPOINTS)");
  flags.add_uint("concurrency", &o.concurrency, "requests in flight");
  flags.add_uint("connections", &o.connections, "connections (capped at --concurrency)");
  flags.add_uint("keys", &o.keys, "key space size");
  flags.add_uint("value-size", &o.value_size, "value size in bytes");
  flags.add_string("duration", &duration, "measured seconds (after the warmup)");
  flags.add_string("warmup", &warmup, "seconds run before measuring");
  flags.add_uint("count", &o.count, "run exactly this many operations (no warmup) instead");
  flags.add_uint("rate", &o.rate, "target operations per second (0: unlimited)");
  flags.add_uint("seed", &o.seed, "random seed for keys, values and the mix");
  flags.add_bool("json", &o.json, "print one JSON object instead of text");
  flags.add_bool("quiet", &o.quiet, "no progress line");
  flags.add_bool("no-preload", &no_preload, "read workloads: do not write the key space first");
  flags.add_string("label", &o.label, "system name in the report");
  std::vector<std::string> words(args.begin(), args.end());
  RETURN_IF_ERROR(flags.parse(words));
  if (flags.help_requested()) {
    p.help = true;
    std::fputs(flags.usage().c_str(), stdout);
    return p;
  }
  if (flags.positional().size() != 1)
    return base::invalid_argument("expected one workload (see kv bench --help)");
  o.workload_name = flags.positional()[0];
  o.endpoints = split_endpoints(endpoints);
  o.preload = !no_preload;
  auto d = parse_seconds("duration", duration);
  auto w = parse_seconds("warmup", warmup);
  if (!d.is_ok()) return d.status();
  if (!w.is_ok()) return w.status();
  o.duration_s = *d;
  o.warmup_s = *w;
  return p;
}

base::Status validate(BenchOptions& o) {
  bool known = false;
  for (const auto& w : kWorkloads) {
    if (w.name == o.workload_name) o.workload = w.workload, known = true;
  }
  if (!known && o.workload_name != "leader" && o.workload_name != "probe")
    return base::invalid_argument("unknown workload '{}' (see kv bench --help)", o.workload_name);
  if (o.endpoints.empty()) return base::invalid_argument("--endpoints: no address given");
  if (o.concurrency == 0 || o.concurrency > 100000)
    return base::invalid_argument("--concurrency must be in 1..100000");
  if (o.connections == 0) return base::invalid_argument("--connections must be positive");
  o.connections = std::min(o.connections, o.concurrency);
  if (o.keys == 0 || o.keys > 100000000) return base::invalid_argument("--keys must be in 1..1e8");
  if (o.workload == Workload::kList && o.keys <= kListLimit)
    return base::invalid_argument("list needs more than {} keys", kListLimit);
  if (o.value_size > 60000) return base::invalid_argument("--value-size must be <= 60000");
  if (o.count == 0 && o.duration_s <= 0)
    return base::invalid_argument("--duration must be positive (or give --count)");
  return base::Status();
}

// One writer through cli::Client with short timeouts, so the time from a leader's death to the
// next acknowledged write is dominated by the cluster, not by client backoff.
int run_probe(const BenchOptions& o, std::ostream& out) {
  ClientOptions co;
  co.attempt_timeout = std::chrono::milliseconds(150);
  co.deadline = std::chrono::milliseconds(1000);
  co.backoff_initial = std::chrono::milliseconds(2);
  co.backoff_max = std::chrono::milliseconds(20);
  Client client(o.endpoints, co);
  base::Bytes key = key_bytes({kvmodel::KeyPart::string("bench-probe")});
  auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(o.duration_s));
  auto unix_us = [] {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  while (Clock::now() < end) {
    auto start_us = unix_us();
    auto r = client.set(key, kvmodel::Value{kvmodel::ValueEncoding::kBytes, "x"});
    if (r.is_ok()) {
      out << "ok " << start_us << " " << unix_us() << std::endl;
    } else {
      out << "err " << start_us << " " << unix_us() << " " << r.status().to_string() << std::endl;
    }
  }
  return 0;
}

int run_workload(const BenchOptions& o, std::ostream& out, std::ostream& err) {
  auto leader = find_leader(o.endpoints, std::chrono::milliseconds(10000));
  if (!leader.is_ok()) {
    err << "kv bench: " << leader.status().message() << "\n";
    return 1;
  }
  Corpus corpus = make_corpus(o);
  std::vector<std::string> to_leader{leader->address};
  bool reads = o.workload == Workload::kGet || o.workload == Workload::kGetEventual ||
               o.workload == Workload::kList || o.workload == Workload::kMixed;
  if (reads && o.preload) {
    BenchOptions p = o;
    p.workload = Workload::kSet;
    p.count = o.keys;
    p.rate = 0;
    p.concurrency = std::max<uint64_t>(o.concurrency, 64);  // a fast preload at any concurrency
    p.connections = std::max<uint64_t>(o.connections, 4);
    auto pre = Runner(p, corpus, to_leader, /*sequential=*/true).run(err);
    if (!pre.is_ok() || pre->errors > 0) {
      err << "kv bench: preload failed: "
          << (pre.is_ok() ? pre->first_error : pre.status().message()) << "\n";
      return 1;
    }
  }
  auto targets = o.workload == Workload::kGetEventual ? o.endpoints : to_leader;
  auto report = Runner(o, corpus, targets, /*sequential=*/false).run(err);
  if (!report.is_ok()) {
    err << "kv bench: " << report.status().message() << "\n";
    return 1;
  }
  if (o.json)
    print_json(o, leader->address, *report, out);
  else
    print_text(o, leader->address, *report, out);
  return report->ops > 0 ? 0 : 1;
}

}  // namespace

int run_bench_command(std::span<const std::string_view> args, std::ostream& out,
                      std::ostream& err) {
  auto parsed = parse_args(args);
  if (!parsed.is_ok()) {
    err << "kv bench: " << parsed.status().message() << "\n";
    return 2;
  }
  if (parsed->help) return 0;
  BenchOptions& o = parsed->options;
  if (auto s = validate(o); !s.is_ok()) {
    err << "kv bench: " << s.message() << "\n";
    return 2;
  }
  if (o.workload_name == "probe") return run_probe(o, out);
  if (o.workload_name == "leader") {
    auto leader = find_leader(o.endpoints, std::chrono::milliseconds(10000));
    if (!leader.is_ok()) {
      err << "kv bench: " << leader.status().message() << "\n";
      return 1;
    }
    out << leader->address << " " << leader->term << "\n";
    return 0;
  }
  return run_workload(o, out, err);
}

}  // namespace cli
