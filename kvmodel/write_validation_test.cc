#include <doctest/doctest.h>

#include "kvmodel/kv_limits.h"
#include "kvmodel/write_validation.h"

using kvmodel::AtomicWrite;
using kvmodel::Mutation;
using kvmodel::MutationKind;

namespace {
AtomicWrite set_with_expiry(uint64_t expire_at_ms) {
  AtomicWrite w;
  w.mutations.push_back(Mutation{MutationKind::kSet, "k", kvmodel::Value::le64(1), expire_at_ms});
  return w;
}
}  // namespace

TEST_CASE("validation: an expiry the replicated command format cannot carry is refused") {
  CHECK(kvmodel::validate_atomic_write(set_with_expiry(0)).is_ok());
  CHECK(kvmodel::validate_atomic_write(set_with_expiry(kvmodel::kTimeMaxMs)).is_ok());
  base::Status late = kvmodel::validate_atomic_write(set_with_expiry(kvmodel::kTimeMaxMs + 1));
  CHECK(late.code() == base::Code::kInvalidArgument);
  CHECK(late.message() == "Invalid mutation expire at.");
  CHECK_FALSE(kvmodel::validate_atomic_write(set_with_expiry(UINT64_MAX)).is_ok());
}

TEST_CASE("validation: a delete is checked for its key only") {
  AtomicWrite w;
  w.mutations.push_back(Mutation{MutationKind::kDelete, "k", {}, 0});
  CHECK(kvmodel::validate_atomic_write(w).is_ok());
  w.mutations[0].key.clear();
  CHECK(kvmodel::validate_atomic_write(w).message() == "key cannot be empty");
}

TEST_CASE("validation: mutation kinds are Deno's wire numbers") {
  for (int kind = 0; kind < 256; ++kind) {
    CAPTURE(kind);
    bool deno = kind == 1 || kind == 2 || kind == 3 || kind == 4 || kind == 5 || kind == 9;
    CHECK(kvmodel::is_valid_mutation_kind(static_cast<uint8_t>(kind)) == deno);
  }
  CHECK(static_cast<int>(MutationKind::kSetSuffixVersionstampedKey) == 9);
  CHECK(static_cast<int>(MutationKind::kMin) == 5);
}
