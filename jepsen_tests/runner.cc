#include "jepsen_tests/runner.h"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "jepsen_tests/checkers.h"
#include "jepsen_tests/cluster.h"
#include "jepsen_tests/nemesis.h"
#include "jepsen_tests/report.h"
#include "jepsen_tests/workload.h"

namespace jepsen {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::atomic<bool> g_interrupted{false};
extern "C" void on_signal(int) { g_interrupted = true; }

milliseconds ms(double seconds) { return milliseconds(static_cast<int64_t>(seconds * 1000)); }

Json config_json(const RunConfig& c) {
  Json env = Json::object();
  for (const auto& [k, v] : c.kvd_env) env.set(k, Json::string(v));
  Json args = Json::array();
  for (const auto& a : c.kvd_args) args.push_back(Json::string(a));
  Json bugs = Json::array();
  for (const auto& b : c.plant_kvd_bugs) bugs.push_back(Json::string(b));
  return Json::object({{"workload", Json::string(c.workload)},
                       {"nemesis", Json::string(c.nemesis)},
                       {"plant", Json::string(c.plant)},
                       {"plant_kvd_bugs", bugs},
                       {"nodes", Json::number(c.nodes)},
                       {"time_limit_s", Json::number(c.time_limit_s)},
                       {"rate", Json::number(c.rate)},
                       {"concurrency", Json::number(c.concurrency)},
                       {"seed", Json::number(c.seed)},
                       {"quiet_s", Json::number(c.quiet_s)},
                       {"recovery_s", Json::number(c.recovery_s)},
                       {"fault_interval_s", Json::number(c.fault_interval_s)},
                       {"tick_ms", Json::number(c.tick_ms)},
                       {"snapshot_entries", Json::number(c.snapshot_entries)},
                       {"watch_reopen_s", Json::number(c.watch_reopen_s)},
                       {"reads_any_node", Json::boolean(c.reads_any_node)},
                       {"kvd", Json::string(c.kvd)},
                       {"kvd_env", env},
                       {"kvd_args", args},
                       {"ports", Json::string(fmt::format("{}-{}", c.ports.first, c.ports.last))},
                       {"keep", Json::boolean(c.keep)}});
}

// Everything one run owns; members are destroyed in reverse order (workers, cluster, proxy).
class Run {
 public:
  explicit Run(const RunConfig& config) : config_(config), rng_(config.seed) {}
  // Also the interrupted and failed paths: no thread may outlive the run, no node the harness.
  ~Run() {
    stop_workers();
    if (workload_) workload_->stop_background();
    if (cluster_) cluster_->stop_all();
    if (faults_file_ != nullptr) std::fclose(faults_file_);
  }

  base::Status prepare();
  base::Status start_cluster();
  void start_workers();
  bool run_phase(const std::string& phase, double seconds, bool faults);
  void stop_workers();
  base::Status finish();
  int report();

 private:
  base::Status enable_kvd_hooks(ClusterOptions& co, const std::vector<FaultKind>& kinds) const;
  void worker_loop(Worker& w);
  CheckResult check(const std::vector<Operation>& ops, std::vector<std::string>& errors);
  std::vector<std::string> run_files() const;
  std::string remove_data_dirs();
  void progress(const std::string& phase, Clock::time_point phase_start);

  const RunConfig& config_;
  base::Rng rng_;
  std::unique_ptr<Recorder> recorder_;
  std::FILE* faults_file_ = nullptr;
  PeerProxy proxy_;
  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<Nemesis> nemesis_;
  std::unique_ptr<Workload> workload_;
  WorkloadEnv env_;
  std::atomic<bool> stop_{false};
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  base::Status finish_status_;
  uint64_t last_completed_ = 0;
  Clock::time_point last_progress_ = Clock::now();
};

base::Status Run::prepare() {
  std::error_code ec;
  if (config_.replace && std::filesystem::exists(config_.out + "/config.json", ec))
    std::filesystem::remove_all(config_.out, ec);
  std::filesystem::create_directories(config_.out, ec);
  if (ec) return base::Status(base::Code::kIoError, "mkdir " + config_.out + ": " + ec.message());
  if (!std::filesystem::is_empty(config_.out, ec))
    return base::invalid_argument("--out {} is not empty (each run needs a fresh directory)",
                                  config_.out);
  std::ofstream(config_.out + "/config.json") << config_json(config_).serialize_pretty() << "\n";
  auto writer = HistoryWriter::open(config_.out + "/history.jsonl");
  if (!writer.is_ok()) return writer.status();
  recorder_ = std::make_unique<Recorder>(std::move(*writer));
  faults_file_ = std::fopen((config_.out + "/faults.jsonl").c_str(), "w");
  if (faults_file_ == nullptr)
    return base::Status(base::Code::kIoError, "cannot write faults.jsonl");
  auto kinds = expand_nemesis_spec(config_.nemesis);
  if (!kinds.is_ok()) return kinds.status();
  WorkloadOptions wo{config_.concurrency,
                     config_.seed,
                     config_.nodes,
                     config_.plant == "stale-reads",
                     static_cast<int64_t>(config_.watch_reopen_s * 1000),
                     config_.reads_any_node};
  if (!config_.plant.empty() && config_.plant != "stale-reads")
    return base::invalid_argument("unknown --plant '{}' (stale-reads)", config_.plant);
  auto workload = make_workload(config_.workload, wo);
  if (!workload.is_ok()) return workload.status();
  workload_ = std::move(*workload);
  ClusterOptions co;
  co.kvd_path = config_.kvd;
  co.run_dir = config_.out;
  co.ports = config_.ports;
  co.nodes = config_.nodes;
  co.tick_ms = config_.tick_ms;
  co.snapshot_entries = config_.snapshot_entries;
  co.seed = config_.seed;
  co.extra_env = config_.kvd_env;
  co.extra_args = config_.kvd_args;
  co.plant_bugs = config_.plant_kvd_bugs;
  RETURN_IF_ERROR(enable_kvd_hooks(co, *kinds));
  cluster_ = std::make_unique<Cluster>(co, proxy_);
  nemesis_ =
      std::make_unique<Nemesis>(*cluster_, proxy_, *recorder_, *kinds, config_.seed, faults_file_);
  return base::Status::ok();
}

// Every kvd gets a clock file when the binary supports it (so a skew can be set at any time);
// the sync journal only when a power-loss fault may need it. Missing hooks that the run needs
// are an error naming the build option.
base::Status Run::enable_kvd_hooks(ClusterOptions& co, const std::vector<FaultKind>& kinds) const {
  const KvdHooks hooks = kvd_hooks(config_.kvd);
  const auto wants = [&](FaultGroup group) {
    return std::any_of(kinds.begin(), kinds.end(),
                       [&](FaultKind k) { return fault_group(k) == group; });
  };
  const std::string rebuild = "; build kvd with meson -Dtest_hooks=true";
  co.clock_files = hooks.clock_file;
  if (wants(FaultGroup::kClockSkew) && !hooks.clock_file)
    return base::invalid_argument("clock-skew needs kvd --test-clock-file{}", rebuild);
  co.sync_journal = wants(FaultGroup::kPowerLoss);
  if (co.sync_journal && !hooks.sync_journal)
    return base::invalid_argument("power-loss needs kvd --test-sync-journal{}", rebuild);
  for (const auto& bug : config_.plant_kvd_bugs) {
    const auto& known = kvd_planted_bugs();
    if (std::find(known.begin(), known.end(), bug) == known.end())
      return base::invalid_argument(
          "unknown --plant-kvd-bug '{}' (local-reads, ack-before-fsync, drop-queue-acks, "
          "stale-watch)",
          bug);
    if (!hooks.plant_bug) return base::invalid_argument("kvd has no --plant-bug{}", rebuild);
  }
  return base::Status::ok();
}

base::Status Run::start_cluster() {
  proxy_.start();
  RETURN_IF_ERROR(cluster_->start());
  RETURN_IF_ERROR(cluster_->wait_for_leader(milliseconds(30000)));
  env_.recorder = recorder_.get();
  env_.endpoints = cluster_->client_addrs();
  for (uint64_t id : cluster_->member_ids()) env_.node_names.push_back(cluster_->name(id));
  env_.stop = &stop_;
  // Setup writes must land before traffic: retry on a cluster that is still settling.
  auto client = make_home_client(env_.endpoints, 0, config_.seed * 7 + 1);
  base::Status status;
  for (int attempt = 0; attempt < 10; ++attempt) {
    status = workload_->setup(*client);
    if (status.is_ok()) break;
    std::this_thread::sleep_for(milliseconds(500));
  }
  if (!status.is_ok()) return status;
  workload_->start_background(env_);
  return base::Status::ok();
}

void Run::start_workers() {
  for (int i = 0; i < config_.concurrency; ++i) {
    auto w = std::make_unique<Worker>();
    w->index = i;
    w->process = i;
    const size_t home = static_cast<size_t>(i) % env_.endpoints.size();
    w->node = env_.node_names[home];
    w->rng = base::Rng(config_.seed * 1000003 + static_cast<uint64_t>(i) + 1);
    w->client =
        make_home_client(env_.endpoints, home, config_.seed * 31 + static_cast<uint64_t>(i) + 1);
    w->home_only = std::make_unique<cli::Client>(
        std::vector<std::string>{env_.endpoints[home]},
        harness_client_options(config_.seed * 37 + static_cast<uint64_t>(i) + 1));
    w->recorder = recorder_.get();
    w->concurrency = config_.concurrency;
    workers_.push_back(std::move(w));
  }
  for (auto& w : workers_) threads_.emplace_back([this, &w] { worker_loop(*w); });
}

void Run::worker_loop(Worker& w) {
  // Each worker offers rate / concurrency ops per second; behind schedule it does not sleep.
  const auto period = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(config_.concurrency / std::max(config_.rate, 0.1)));
  auto next = Clock::now() + std::chrono::duration_cast<Clock::duration>(period * w.rng.unit());
  while (!stop_) {
    while (!stop_ && Clock::now() < next)
      std::this_thread::sleep_for(std::min<Clock::duration>(next - Clock::now(), milliseconds(50)));
    if (stop_) break;
    workload_->step(w);
    next = std::max(next + period, Clock::now() - period);
  }
}

void Run::stop_workers() {
  stop_ = true;
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

void Run::progress(const std::string& phase, Clock::time_point phase_start) {
  const auto now = Clock::now();
  if (config_.quiet_progress || now - last_progress_ < milliseconds(2000)) return;
  const double dt = std::chrono::duration<double>(now - last_progress_).count();
  const uint64_t done = recorder_->completed();
  std::fprintf(stderr,
               "kv-jepsen: phase=%s t=%.1fs ops/s=%.0f ok=%llu fail=%llu info=%llu faults=[%s]\n",
               phase.c_str(), std::chrono::duration<double>(now - phase_start).count(),
               static_cast<double>(done - last_completed_) / dt,
               static_cast<unsigned long long>(recorder_->ok()),
               static_cast<unsigned long long>(recorder_->failed()),
               static_cast<unsigned long long>(recorder_->info()), nemesis_->in_force().c_str());
  last_completed_ = done;
  last_progress_ = now;
}

// Runs one phase on the main thread (it forks kvd, so it must outlive them). With faults, the
// nemesis alternates: a gap of ~interval/2, a fault held ~interval (both jittered +-40%).
bool Run::run_phase(const std::string& phase, double seconds, bool faults) {
  const auto start = Clock::now(), end = start + ms(seconds);
  const double interval = config_.fault_interval_s;
  auto next_change = start + ms(interval * (0.3 + 0.4 * rng_.unit()));
  while (Clock::now() < end && !g_interrupted) {
    if (faults && nemesis_->enabled() && Clock::now() >= next_change) {
      const bool injecting = nemesis_->in_force().empty();
      base::Status s = injecting ? nemesis_->inject() : nemesis_->heal();
      if (!s.is_ok()) std::fprintf(stderr, "kv-jepsen: nemesis: %s\n", s.to_string().c_str());
      next_change =
          Clock::now() + ms((injecting ? interval : interval / 2) * (0.6 + 0.8 * rng_.unit()));
    }
    progress(phase, start);
    std::this_thread::sleep_for(milliseconds(50));
  }
  if (faults) {
    if (auto s = nemesis_->heal(); !s.is_ok())
      std::fprintf(stderr, "kv-jepsen: heal: %s\n", s.to_string().c_str());
  }
  return !g_interrupted;
}

base::Status Run::finish() {
  RETURN_IF_ERROR(cluster_->restart_stopped_members());
  RETURN_IF_ERROR(cluster_->wait_for_leader(milliseconds(30000)));
  finish_status_ = workload_->finish(env_, ms(config_.final_timeout_s));
  workload_->stop_background();
  for (uint64_t id : cluster_->member_ids()) cluster_->alive(id);  // notice crashes
  cluster_->stop_all();
  proxy_.stop();
  if (faults_file_ != nullptr) std::fclose(faults_file_);
  faults_file_ = nullptr;
  return recorder_->status();
}

// The checker's verdict plus what the harness saw: node crashes are findings (invalid); an
// incomplete final phase or a history the checker refused means the run could not be judged
// (unknown, with the reason in `errors`).
CheckResult Run::check(const std::vector<Operation>& ops, std::vector<std::string>& errors) {
  CheckOptions options = workload_->check_options();
  // Under clock skew the leader's clock decides when a delayed message or a retry is due, and
  // leaders change: a timer set on one skewed clock can fire early by the spread between the
  // skews in force (plus ~100 ms for kvd to re-read its clock file, and the anchor's rounding).
  if (const int64_t spread = nemesis_->clock_skew_spread_ms(); spread > 0) {
    options.queue_options.clock_tolerance_ms += spread + 300;
    options.expiry_options.tolerance_ms += spread + 300;
  }
  auto checked = check_workload(config_.workload, ops, options);
  CheckResult result;
  if (!checked.is_ok()) {
    result.valid = Validity::kUnknown;
    result.explanation = "the checker refused the history: " + checked.status().to_string();
    errors.push_back(result.explanation);
  } else {
    result = std::move(*checked);
  }
  if (!finish_status_.is_ok()) {
    result.valid = combine(result.valid, Validity::kUnknown);
    result.explanation += " Final phase incomplete: " + finish_status_.to_string() + ".";
    errors.push_back("final phase incomplete: " + finish_status_.to_string());
  }
  if (!cluster_->crashes().empty()) {
    result.valid = Validity::kInvalid;
    for (const auto& c : cluster_->crashes()) result.explanation += " Crash: " + c + ".";
    if (result.first_anomaly.empty()) result.first_anomaly = "crash: " + cluster_->crashes()[0];
  }
  return result;
}

// What report.html links to: the run's own files, every node's log included.
std::vector<std::string> Run::run_files() const {
  std::vector<std::string> files{"history.jsonl", "faults.jsonl", "config.json", "results.json"};
  for (const auto& [id, info] : cluster_->nodes()) files.push_back(cluster_->name(id) + ".log");
  return files;
}

// Removes every node's n<ID>/ directory (data dir and clock file); returns a note for people.
std::string Run::remove_data_dirs() {
  uint64_t bytes = 0;
  std::string failures;
  for (const auto& [id, info] : cluster_->nodes()) {
    const std::filesystem::path dir = std::filesystem::path(info.data_dir).parent_path();
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec)) bytes += it->file_size(ec);
    }
    std::filesystem::remove_all(dir, ec);
    if (ec) failures += fmt::format(" {}: {};", dir.string(), ec.message());
  }
  if (!failures.empty()) return "could not remove every data dir:" + failures;
  return fmt::format(
      "valid run: the nodes' data dirs (n<ID>/, {:.1f} MB) were removed; --keep keeps them",
      static_cast<double>(bytes) / 1e6);
}

int Run::report() {
  auto history = read_history_file(config_.out + "/history.jsonl");
  if (!history.is_ok()) {
    std::fprintf(stderr, "kv-jepsen: %s\n", history.status().to_string().c_str());
    return kExitHarnessError;
  }
  auto ops = pair_operations(*history);
  if (!ops.is_ok()) {
    std::fprintf(stderr, "kv-jepsen: history: %s\n", ops.status().to_string().c_str());
    return kExitHarnessError;
  }
  auto faults = read_faults_file(config_.out + "/faults.jsonl");
  ReportInput input;
  input.title = fmt::format("{}, nemesis {}, {} nodes, seed {}", config_.workload, config_.nemesis,
                            config_.nodes, config_.seed);
  input.workload = config_.workload;
  input.ops = &*ops;
  if (faults.is_ok()) input.faults = *faults;
  input.result = check(*ops, input.errors);
  input.files = run_files();
  input.config = config_json(config_);
  input.config.set("faults_injected", Json::number(nemesis_->injected()));
  input.config.set("clock_skew_spread_ms", Json::number(nemesis_->clock_skew_spread_ms()));
  if (run_outcome(input.result, input.errors) == Outcome::kValid && !config_.keep)
    input.notes.push_back(remove_data_dirs());
  if (auto s = write_report(config_.out, input); !s.is_ok()) {
    std::fprintf(stderr, "kv-jepsen: report: %s\n", s.to_string().c_str());
    return kExitHarnessError;
  }
  std::printf("%s\n%s\n", verdict_line(input, config_.out + "/report.html").c_str(),
              input.result.explanation.c_str());
  for (const auto& line : input.errors) std::printf("error: %s\n", line.c_str());
  for (const auto& line : input.notes) std::printf("note: %s\n", line.c_str());
  std::printf("ops: %s\nfaults injected: %d\n", summarize_operations(*ops).serialize().c_str(),
              nemesis_->injected());
  if (!input.result.counterexample.empty())
    std::printf("counterexample:\n%s", input.result.counterexample.c_str());
  std::fflush(stdout);
  return validity_exit_code(input.result.valid);
}

int verdict_exit(const RunConfig& config, int code) {
  if (config.expect.empty() || code >= kExitHarnessError) return code;
  const int wanted = config.expect == "valid" ? 0 : config.expect == "invalid" ? 1 : 2;
  std::printf("expected %s, got exit %d: %s\n", config.expect.c_str(), code,
              code == wanted ? "as expected" : "MISMATCH");
  return code == wanted ? 0 : 1;
}

}  // namespace

const std::vector<std::string>& kvd_planted_bugs() {
  static const std::vector<std::string> bugs{"local-reads", "ack-before-fsync", "drop-queue-acks",
                                             "stale-watch"};
  return bugs;
}

int run_jepsen(const RunConfig& config) {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
  Run run(config);
  base::Status s = run.prepare();
  if (s.is_ok()) s = run.start_cluster();
  if (!s.is_ok()) {
    std::fprintf(stderr, "kv-jepsen: setup failed: %s\n", s.to_string().c_str());
    std::printf("verdict: failed: error - setup failed: %s; no report\n", s.to_string().c_str());
    return kExitHarnessError;
  }
  run.start_workers();
  const bool complete = run.run_phase("quiet", config.quiet_s, false) &&
                        run.run_phase("faulted", config.time_limit_s, true) &&
                        run.run_phase("recovery", config.recovery_s, false);
  run.stop_workers();
  if (!complete) {
    std::fprintf(stderr, "kv-jepsen: interrupted; cluster stopped, partial history kept\n");
    std::printf("verdict: interrupted - partial history in %s/history.jsonl; no report\n",
                config.out.c_str());
    return kExitInterrupted;
  }
  if (!config.quiet_progress) std::fprintf(stderr, "kv-jepsen: phase=final\n");
  if (s = run.finish(); !s.is_ok()) {
    std::fprintf(stderr, "kv-jepsen: final phase failed: %s\n", s.to_string().c_str());
    std::printf("verdict: failed: error - final phase: %s; no report\n", s.to_string().c_str());
    return kExitHarnessError;
  }
  return verdict_exit(config, run.report());
}

}  // namespace jepsen
