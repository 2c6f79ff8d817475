#include "node/test_hooks.h"

#ifdef RAFTKV_TEST_HOOKS

#include <cmath>
#include <fstream>
#include <sstream>

#include "base/flags.h"
#include "base/log.h"

namespace node {

namespace {

struct BugName {
  std::string_view name;
  PlantedBug bug;
};
constexpr BugName kBugNames[] = {
    {"local-reads", PlantedBug::kLocalReads},
    {"ack-before-fsync", PlantedBug::kAckBeforeFsync},
    {"drop-queue-acks", PlantedBug::kDropQueueAcks},
    {"stale-watch", PlantedBug::kStaleWatch},
};

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

}  // namespace

base::Status PlantedBugs::add_names(std::string_view names) {
  while (true) {
    auto comma = names.find(',');
    std::string_view name = trim(names.substr(0, comma));
    bool known = false;
    for (const BugName& b : kBugNames) {
      if (b.name == name) {
        add(b.bug);
        known = true;
      }
    }
    if (!known) {
      return base::invalid_argument(
          "--plant-bug: unknown bug '{}' (known: local-reads, ack-before-fsync, drop-queue-acks, "
          "stale-watch)",
          name);
    }
    if (comma == std::string_view::npos) return base::Status::ok();
    names.remove_prefix(comma + 1);
  }
}

base::Result<ClockSetting> parse_clock_setting(std::string_view text) {
  std::istringstream in{std::string(trim(text))};
  std::string offset_field, rate_field, extra;
  if (!(in >> offset_field >> rate_field) || (in >> extra) ||
      !offset_field.starts_with("offset_ms=") || !rate_field.starts_with("rate=")) {
    return base::invalid_argument("expected one line 'offset_ms=<int64> rate=<double>', got '{}'",
                                  trim(text));
  }
  ClockSetting setting;
  const std::string offset = offset_field.substr(10), rate = rate_field.substr(5);
  size_t used = 0;
  try {
    setting.offset_ms = std::stoll(offset, &used);
    if (used != offset.size()) throw std::invalid_argument("trailing characters");
    setting.rate = std::stod(rate, &used);
    if (used != rate.size()) throw std::invalid_argument("trailing characters");
  } catch (const std::exception&) {
    return base::invalid_argument("bad number in '{}'", trim(text));
  }
  if (!std::isfinite(setting.rate) || setting.rate < 0 || setting.rate > 1000)
    return base::invalid_argument("rate must be in [0, 1000], got '{}'", rate);
  return setting;
}

double SkewArithmetic::unskewed_ms(uint64_t real_ms) const {
  const double elapsed = static_cast<double>(real_ms) - static_cast<double>(anchor_real_ms_);
  return anchor_ms_ + elapsed * setting_.rate;
}

void SkewArithmetic::set(ClockSetting setting, uint64_t real_ms) {
  anchor_ms_ = unskewed_ms(real_ms);
  anchor_real_ms_ = real_ms;
  setting_ = setting;
}

uint64_t SkewArithmetic::skewed_ms(uint64_t real_ms) const {
  const double value = static_cast<double>(setting_.offset_ms) + unskewed_ms(real_ms);
  return value <= 0 ? 0 : static_cast<uint64_t>(std::llround(value));
}

SkewedClock::SkewedClock(std::string path) : path_(std::move(path)), arithmetic_(0) {}

uint64_t SkewedClock::now_ms(uint64_t real_ms) {
  std::lock_guard lock(mutex_);
  maybe_reload(real_ms);
  return arithmetic_.skewed_ms(real_ms);
}

ClockSetting SkewedClock::setting() {
  std::lock_guard lock(mutex_);
  return arithmetic_.setting();
}

void SkewedClock::maybe_reload(uint64_t real_ms) {
  const auto now = std::chrono::steady_clock::now();
  if (last_read_ && now - *last_read_ < std::chrono::milliseconds(100)) return;
  if (!last_read_) arithmetic_ = SkewArithmetic(real_ms);  // anchored at the first reading
  last_read_ = now;
  ClockSetting next;  // a missing file means no skew
  std::ifstream in(path_);
  if (in) {
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto parsed = parse_clock_setting(text);
    if (!parsed.is_ok()) {
      if (text != last_malformed_) {
        LOG(kWarn, "test clock file malformed; keeping the previous setting", "path={} error={}",
            base::log_quote(path_), base::log_quote(parsed.status().message()));
        last_malformed_ = text;
      }
      return;
    }
    next = *parsed;
  }
  last_malformed_.clear();
  if (next == arithmetic_.setting()) return;
  arithmetic_.set(next, real_ms);
  LOG(kInfo, "test clock", "offset_ms={} rate={}", next.offset_ms, next.rate);
}

}  // namespace node

#endif  // RAFTKV_TEST_HOOKS
