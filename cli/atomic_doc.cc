#include "cli/atomic_doc.h"

#include <algorithm>

#include "cli/atomic.h"
#include "cli/key_json.h"
#include "cli/v8_json.h"
#include "cli/value_json.h"
#include "kvmodel/key.h"

namespace cli {
namespace {

base::Status at(std::string_view where, const base::Status& status) {
  return base::invalid_argument("{}: {}", where, status.message());
}

base::Status only_members(std::string_view where, const base::Json& object,
                          std::initializer_list<std::string_view> allowed) {
  std::string prefix = where.empty() ? "" : fmt::format("{}: ", where);
  if (!object.is_object()) return base::invalid_argument("{}must be an object", prefix);
  for (const auto& [name, value] : object.as_object()) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      return base::invalid_argument("{}unknown member '{}'", prefix, name);
    }
  }
  return base::Status::ok();
}

base::Result<base::Bytes> encoded_key(const base::Json* json) {
  if (json == nullptr) return base::invalid_argument("key is missing");
  base::Result<kvmodel::Key> key = key_from_json(*json);
  if (!key.is_ok()) return key.status();
  return kvmodel::encode_key(*key);
}

base::Result<uint64_t> milliseconds(const base::Json* json, std::string_view name) {
  if (json == nullptr) return uint64_t{0};
  std::optional<uint64_t> ms = json->is_number() ? json->number_as_u64() : std::nullopt;
  if (!ms) return base::invalid_argument("{} must be a non-negative integer (ms)", name);
  return *ms;
}

const base::Json::Array* array_member(const base::Json& doc, std::string_view name) {
  const base::Json* member = doc.find(name);
  return member != nullptr && member->is_array() ? &member->as_array() : nullptr;
}

base::Status parse_check(const base::Json& json, kvmodel::AtomicWrite& write) {
  RETURN_IF_ERROR(only_members("", json, {"key", "versionstamp"}));
  base::Result<base::Bytes> key = encoded_key(json.find("key"));
  if (!key.is_ok()) return key.status();
  kvmodel::Check check{*key, std::nullopt};
  const base::Json* vs = json.find("versionstamp");
  if (vs == nullptr) return base::invalid_argument("versionstamp is missing (use null for absent)");
  if (!vs->is_null()) {
    if (!vs->is_string()) return base::invalid_argument("versionstamp must be a string or null");
    base::Result<kvmodel::Versionstamp> parsed = versionstamp_from_hex(vs->as_string());
    if (!parsed.is_ok()) return parsed.status();
    check.versionstamp = *parsed;
  }
  write.checks.push_back(std::move(check));
  return base::Status::ok();
}

base::Status parse_mutation(const base::Json& json, kvmodel::AtomicWrite& write) {
  RETURN_IF_ERROR(only_members("", json, {"type", "key", "value", "expire_in"}));
  const base::Json* type = json.find("type");
  static const std::pair<std::string_view, kvmodel::MutationKind> kTypes[] = {
      {"set", kvmodel::MutationKind::kSet},
      {"delete", kvmodel::MutationKind::kDelete},
      {"sum", kvmodel::MutationKind::kSum},
      {"min", kvmodel::MutationKind::kMin},
      {"max", kvmodel::MutationKind::kMax}};
  std::optional<kvmodel::MutationKind> kind;
  for (const auto& [name, value] : kTypes) {
    if (type != nullptr && type->is_string() && type->as_string() == name) kind = value;
  }
  if (!kind) return base::invalid_argument("type must be one of set, delete, sum, min, max");
  kvmodel::Mutation m;
  m.kind = *kind;
  base::Result<base::Bytes> key = encoded_key(json.find("key"));
  if (!key.is_ok()) return key.status();
  m.key = *key;
  const base::Json* value = json.find("value");
  if (m.kind == kvmodel::MutationKind::kDelete) {
    if (value != nullptr) return base::invalid_argument("a delete takes no value");
  } else {
    if (value == nullptr) return base::invalid_argument("value is missing");
    base::Result<kvmodel::Value> v = value_from_json(*value);
    if (!v.is_ok()) return v.status();
    m.value = *v;
  }
  if (const base::Json* expire = json.find("expire_in")) {
    if (m.kind != kvmodel::MutationKind::kSet)
      return base::invalid_argument("expire_in is for set");
    base::Result<uint64_t> ms = milliseconds(expire, "expire_in");
    if (!ms.is_ok()) return ms.status();
    m.expire_at_ms = expire_at_from_now(std::chrono::milliseconds(*ms));
  }
  write.mutations.push_back(std::move(m));
  return base::Status::ok();
}

base::Status parse_enqueue(const base::Json& json, kvmodel::AtomicWrite& write) {
  RETURN_IF_ERROR(only_members("", json, {"value", "delay", "keys_if_undelivered", "backoff"}));
  const base::Json* value = json.find("value");
  if (value == nullptr) return base::invalid_argument("value is missing");
  base::Result<uint64_t> delay = milliseconds(json.find("delay"), "delay");
  if (!delay.is_ok()) return delay.status();
  std::vector<base::Bytes> keys;
  if (const base::Json* list = json.find("keys_if_undelivered")) {
    if (!list->is_array()) return base::invalid_argument("keys_if_undelivered must be an array");
    for (const base::Json& k : list->as_array()) {
      base::Result<base::Bytes> key = encoded_key(&k);
      if (!key.is_ok())
        return base::invalid_argument("keys_if_undelivered: {}", key.status().message());
      keys.push_back(*key);
    }
  }
  std::vector<uint32_t> backoff;
  if (const base::Json* list = json.find("backoff")) {
    if (!list->is_array()) return base::invalid_argument("backoff must be an array of ms");
    for (const base::Json& ms : list->as_array()) {
      base::Result<uint64_t> n = milliseconds(&ms, "backoff");
      if (!n.is_ok() || *n > UINT32_MAX)
        return base::invalid_argument("backoff entries must be ms");
      backoff.push_back(static_cast<uint32_t>(*n));
    }
  }
  base::Result<kvmodel::Enqueue> e = make_enqueue(*value, *delay, keys, std::move(backoff));
  if (!e.is_ok()) return e.status();
  write.enqueues.push_back(std::move(e).value());
  return base::Status::ok();
}

}  // namespace

base::Result<kvmodel::Enqueue> make_enqueue(const base::Json& value, uint64_t delay_ms,
                                            const std::vector<base::Bytes>& keys_if_undelivered,
                                            std::vector<uint32_t> backoff_ms) {
  kvmodel::Enqueue e;
  e.payload = v8_from_json(value);
  e.delay_ms = delay_ms;
  e.keys_if_undelivered = keys_if_undelivered;
  e.backoff_schedule_ms = std::move(backoff_ms);
  return e;
}

base::Result<kvmodel::AtomicWrite> parse_atomic_document(std::string_view text) {
  base::Result<base::Json> doc = base::Json::parse(text);
  if (!doc.is_ok()) return doc.status();
  RETURN_IF_ERROR(only_members("the document", *doc, {"checks", "mutations", "enqueues"}));
  kvmodel::AtomicWrite write;
  using Parser = base::Status (*)(const base::Json&, kvmodel::AtomicWrite&);
  const std::pair<std::string_view, Parser> sections[] = {
      {"checks", parse_check}, {"mutations", parse_mutation}, {"enqueues", parse_enqueue}};
  for (const auto& [name, parse] : sections) {
    const base::Json* member = doc->find(name);
    if (member == nullptr) continue;
    const base::Json::Array* items = array_member(*doc, name);
    if (items == nullptr) return base::invalid_argument("{} must be an array", name);
    for (size_t i = 0; i < items->size(); ++i) {
      base::Status status = parse((*items)[i], write);
      if (!status.is_ok()) return at(fmt::format("{}[{}]", name, i), status);
    }
  }
  RETURN_IF_ERROR(validate_atomic_write(write));
  return write;
}

}  // namespace cli
