#include "jepsen_tests/workload.h"

#include "base/bytes.h"
#include "base/check.h"
#include "base/flags.h"
#include "kvmodel/key.h"

namespace jepsen {

void Worker::complete_write_error(const std::string& f, const Json& invoke_value,
                                  const base::Status& status) {
  const OpType type = outcome_of_write_error(status);
  recorder->complete(process, node, f, type, invoke_value, status.to_string());
  if (type == OpType::kInfo) retire();
}

base::Result<std::unique_ptr<Workload>> make_workload(const std::string& name,
                                                      const WorkloadOptions& options) {
  if (name == "register") return make_register_workload(options);
  if (name == "bank") return make_bank_workload(options);
  if (name == "append") return make_append_workload(options);
  if (name == "set") return make_set_workload(options);
  if (name == "queue") return make_queue_workload(options);
  if (name == "watch") return make_watch_workload(options);
  if (name == "expiry") return make_expiry_workload(options);
  return base::invalid_argument(
      "unknown workload '{}' (register, bank, append, set, queue, watch, expiry)", name);
}

base::Bytes workload_key(std::string_view space, std::string_view name) {
  auto key = kvmodel::encode_key({kvmodel::KeyPart::string("jepsen"),
                                  kvmodel::KeyPart::string(std::string(space)),
                                  kvmodel::KeyPart::string(std::string(name))});
  ENSURE(key.is_ok());
  return *key;
}

base::Bytes workload_prefix(std::string_view space) {
  auto key = kvmodel::encode_key(
      {kvmodel::KeyPart::string("jepsen"), kvmodel::KeyPart::string(std::string(space))});
  ENSURE(key.is_ok());
  return *key;
}

kvmodel::Value int_value(int64_t v) {
  return kvmodel::Value{kvmodel::ValueEncoding::kBytes, std::to_string(v)};
}

base::Result<int64_t> parse_int_value(const kvmodel::Value& value) {
  if (value.encoding != kvmodel::ValueEncoding::kBytes)
    return base::corruption("value has encoding {}, expected bytes",
                            static_cast<int>(value.encoding));
  return base::parse_int(value.data);
}

cli::ClientOptions harness_client_options(uint64_t seed) {
  cli::ClientOptions o;
  o.attempt_timeout = std::chrono::milliseconds(1000);
  o.deadline = std::chrono::milliseconds(3000);
  o.backoff_initial = std::chrono::milliseconds(10);
  o.backoff_max = std::chrono::milliseconds(200);
  o.seed = seed;
  return o;
}

std::unique_ptr<cli::Client> make_home_client(const std::vector<std::string>& endpoints,
                                              size_t home, uint64_t seed) {
  std::vector<std::string> ordered;
  for (size_t i = 0; i < endpoints.size(); ++i)
    ordered.push_back(endpoints[(home + i) % endpoints.size()]);
  return std::make_unique<cli::Client>(ordered, harness_client_options(seed));
}

std::string versionstamp_text(const kvmodel::Versionstamp& vs) { return vs.hex(); }

}  // namespace jepsen
