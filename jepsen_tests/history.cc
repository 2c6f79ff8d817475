#include "jepsen_tests/history.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unordered_map>

namespace jepsen {

std::string_view op_type_name(OpType type) {
  switch (type) {
    case OpType::kInvoke:
      return "invoke";
    case OpType::kOk:
      return "ok";
    case OpType::kFail:
      return "fail";
    case OpType::kInfo:
      return "info";
  }
  return "?";
}

namespace {

std::optional<OpType> parse_op_type(std::string_view s) {
  if (s == "invoke") return OpType::kInvoke;
  if (s == "ok") return OpType::kOk;
  if (s == "fail") return OpType::kFail;
  if (s == "info") return OpType::kInfo;
  return std::nullopt;
}

bool is_core_field(std::string_view key) {
  return key == "index" || key == "type" || key == "process" || key == "node" || key == "f" ||
         key == "value" || key == "time_ns" || key == "wall_ms";
}

}  // namespace

Json event_to_json(const Event& event) {
  Json j = Json::object();
  j.set("index", Json::number(event.index));
  j.set("type", Json::string(std::string(op_type_name(event.type))));
  j.set("process", Json::number(event.process));
  j.set("node", Json::string(event.node));
  j.set("f", Json::string(event.f));
  j.set("value", event.value);
  j.set("time_ns", Json::number(event.time_ns));
  j.set("wall_ms", Json::number(event.wall_ms));
  if (event.extra.is_object()) {
    for (const auto& [key, value] : event.extra.as_object()) {
      if (!is_core_field(key)) j.set(key, value);
    }
  }
  return j;
}

std::string format_event(const Event& event) { return event_to_json(event).serialize(); }

base::Result<Event> event_from_json(const Json& json) {
  if (!json.is_object()) return base::invalid_argument("event is not a JSON object");
  Event event;
  const auto index = json.find_i64("index");
  const auto type = json.find_string("type");
  const auto process = json.find_i64("process");
  const auto f = json.find_string("f");
  const auto time_ns = json.find_i64("time_ns");
  if (!index || !type || !process || !f || !time_ns) {
    return base::invalid_argument("event needs integer index, process, time_ns and string type, f");
  }
  const auto parsed_type = parse_op_type(*type);
  if (!parsed_type) return base::invalid_argument("unknown event type \"{}\"", *type);
  event.index = *index;
  event.type = *parsed_type;
  event.process = *process;
  event.f = *f;
  event.time_ns = *time_ns;
  event.wall_ms = json.find_i64("wall_ms").value_or(0);
  event.node = json.find_string("node").value_or("");
  if (const Json* v = json.find("value")) event.value = *v;
  for (const auto& [key, value] : json.as_object()) {
    if (is_core_field(key)) continue;
    if (event.extra.is_null()) event.extra = Json::object();
    event.extra.set(key, value);
  }
  return event;
}

base::Result<History> parse_history(std::string_view jsonl) {
  History history;
  size_t line_number = 0;
  while (!jsonl.empty()) {
    ++line_number;
    const size_t end = jsonl.find('\n');
    std::string_view line = jsonl.substr(0, end);
    jsonl = end == std::string_view::npos ? std::string_view() : jsonl.substr(end + 1);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    auto json = Json::parse(line);
    if (!json.is_ok()) {
      return base::invalid_argument("history line {}: {}", line_number, json.status().message());
    }
    auto event = event_from_json(*json);
    if (!event.is_ok()) {
      return base::invalid_argument("history line {}: {}", line_number, event.status().message());
    }
    if (!history.empty() && event->index <= history.back().index) {
      return base::invalid_argument("history line {}: index {} does not increase", line_number,
                                    event->index);
    }
    history.push_back(std::move(event).value());
  }
  return history;
}

base::Result<History> read_history_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return base::Status(base::Code::kNotFound, fmt::format("cannot open {}", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto history = parse_history(buffer.str());
  if (!history.is_ok()) {
    return base::invalid_argument("{}: {}", path, history.status().message());
  }
  return history;
}

base::Result<std::unique_ptr<HistoryWriter>> HistoryWriter::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return base::Status(base::Code::kIoError,
                        fmt::format("cannot create {}: {}", path, std::strerror(errno)));
  }
  return std::unique_ptr<HistoryWriter>(new HistoryWriter(fd));
}

HistoryWriter::~HistoryWriter() { ::close(fd_); }

base::Result<int64_t> HistoryWriter::append(Event event) {
  std::lock_guard lock(mu_);
  event.index = next_index_;
  std::string line = format_event(event);
  line.push_back('\n');
  size_t written = 0;
  while (written < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + written, line.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return base::Status(base::Code::kIoError,
                          fmt::format("history write failed: {}", std::strerror(errno)));
    }
    written += static_cast<size_t>(n);
  }
  return next_index_++;
}

base::Result<std::vector<Operation>> pair_operations(const History& history) {
  std::vector<Operation> ops;
  std::unordered_map<int64_t, size_t> pending;  // process -> position in ops
  for (const Event& e : history) {
    auto it = pending.find(e.process);
    if (e.type == OpType::kInvoke) {
      if (it != pending.end()) {
        return base::invalid_argument(
            "event {}: process {} invokes while its op at event {} is still pending", e.index,
            e.process, ops[it->second].invoke_index);
      }
      Operation op;
      op.process = e.process;
      op.node = e.node;
      op.f = e.f;
      op.invoke_value = e.value;
      op.value = e.value;
      op.invoke_index = e.index;
      op.invoke_ns = e.time_ns;
      op.invoke_wall_ms = e.wall_ms;
      pending.emplace(e.process, ops.size());
      ops.push_back(std::move(op));
      continue;
    }
    if (it == pending.end()) {
      return base::invalid_argument("event {}: {} from process {} without a pending invoke",
                                    e.index, op_type_name(e.type), e.process);
    }
    Operation& op = ops[it->second];
    if (op.f != e.f) {
      return base::invalid_argument("event {}: completes f \"{}\" but process {} invoked \"{}\"",
                                    e.index, e.f, e.process, op.f);
    }
    if (e.time_ns < op.invoke_ns) {
      return base::invalid_argument("event {}: completion time precedes its invoke", e.index);
    }
    op.outcome = e.type;
    op.complete_index = e.index;
    op.complete_ns = e.time_ns;
    if (e.type != OpType::kInfo) op.value = e.value;
    pending.erase(it);
  }
  return ops;
}

std::string describe_operation(const Operation& op, int64_t origin_ns) {
  const double start_ms = static_cast<double>(op.invoke_ns - origin_ns) / 1e6;
  std::string end = "...";
  if (op.complete_ns != Operation::kNever) {
    end = fmt::format("{:.3f} ms", static_cast<double>(op.complete_ns - origin_ns) / 1e6);
  }
  return fmt::format("#{} p{} {} {} -> {} {} [{:.3f} ms .. {}]", op.invoke_index, op.process, op.f,
                     op.invoke_value.serialize(), op_type_name(op.outcome),
                     op.ok() ? op.value.serialize() : "", start_ms, end);
}

}  // namespace jepsen
