// `kv` end to end against the in-process fake cluster: exact output lines, exit codes and
// error messages for every command that needs no real kvd.
#include <doctest/doctest.h>

#include <sstream>

#include "cli/fake_cluster.h"
#include "cli/kv_cli.h"

namespace {

struct Run {
  int code = 0;
  std::string out;
  std::string err;
};

struct Kv {
  std::shared_ptr<cli::testing::FakeCluster> cluster =
      std::make_shared<cli::testing::FakeCluster>(3);

  Run operator()(std::vector<std::string> args, const std::string& stdin_text = "") {
    args.insert(args.begin(), {"--endpoints", "node0,node1,node2", "--timeout", "200"});
    std::istringstream in(stdin_text);
    std::ostringstream out, err;
    auto factory = [&](std::vector<std::string> endpoints, cli::ClientOptions options) {
      options.backoff_initial = std::chrono::milliseconds(1);
      options.backoff_max = std::chrono::milliseconds(2);
      return std::make_unique<cli::Client>(std::move(endpoints), options, cluster->connector());
    };
    int code = cli::run_kv(args, "", factory, in, out, err);
    return Run{code, out.str(), err.str()};
  }
};

}  // namespace

TEST_CASE("kv: set then get prints the issue's JSON lines") {
  Kv kv;
  auto set = kv({"--json", "set", R"(["users", 1])", R"({"name":"Ada"})"});
  CHECK(set.code == 0);
  CHECK(set.out == "{\"ok\":true,\"versionstamp\":\"00000000000000010000\"}\n");
  auto get = kv({"--json", "get", R"(["users", 1])"});
  CHECK(get.code == 0);
  CHECK(get.out ==
        R"({"key":["users",1],"value":{"name":"Ada"},"versionstamp":"00000000000000010000"})"
        "\n");
  auto missing = kv({"get", "--json", R"(["nope"])"});
  CHECK(missing.out == R"({"key":["nope"],"value":null,"versionstamp":null})"
                       "\n");
  CHECK(kv({"get", R"(["users", 1])"}).out ==
        R"(["users",1] = {"name":"Ada"}  @00000000000000010000)"
        "\n");
}

TEST_CASE("kv: --u64 and --bytes values round-trip in the tagged syntax") {
  Kv kv;
  CHECK(kv({"set", "--u64", R"(["n"])", "42"}).code == 0);
  CHECK(kv({"set", "--bytes", R"(["b"])", "AAH/"}).code == 0);
  CHECK(kv({"--json", "get", R"(["n"])"}).out.find(R"("value":{"u64":"42"})") != std::string::npos);
  CHECK(kv({"--json", "get", R"(["b"])"}).out.find(R"("value":{"bytes":"AAH/"})") !=
        std::string::npos);
}

TEST_CASE("kv: atomic applies a document, and a failed check exits 3 with failed_checks") {
  Kv kv;
  auto ok = kv({"--json", "atomic", "-"},
               R"({"checks":[{"key":["x"],"versionstamp":null}],
                   "mutations":[{"type":"set","key":["x"],"value":1}]})");
  CHECK(ok.code == 0);
  CHECK(ok.out == "{\"ok\":true,\"versionstamp\":\"00000000000000010000\"}\n");
  auto again = kv({"--json", "atomic"}, R"({"checks":[{"key":["x"],"versionstamp":null}]})");
  CHECK(again.code == 3);
  CHECK(again.out == "{\"ok\":false,\"failed_checks\":[0]}\n");
  auto bad = kv({"atomic"}, R"({"mutations":[{"type":"put","key":["x"],"value":1}]})");
  CHECK(bad.code == 2);
  CHECK(bad.err.find("mutations[0]: type must be one of") != std::string::npos);
}

TEST_CASE("kv: list prints one entry per line and the cursor to continue on stderr") {
  Kv kv;
  for (const char* id : {"1", "2", "3"}) {
    CHECK(kv({"set", std::string(R"(["u", )") + id + "]", id}).code == 0);
  }
  auto first = kv({"--json", "list", "--prefix", R"(["u"])", "--limit", "2"});
  CHECK(first.code == 0);
  CHECK(first.out == R"({"key":["u",1],"value":1,"versionstamp":"00000000000000010000"})"
                     "\n"
                     R"({"key":["u",2],"value":2,"versionstamp":"00000000000000020000"})"
                     "\n");
  auto pos = first.err.find("--cursor ");
  REQUIRE(pos != std::string::npos);
  std::string cursor = first.err.substr(pos + 9, first.err.find(')', pos) - pos - 9);
  auto rest = kv({"list", "--prefix", R"(["u"])", "--cursor", cursor});
  CHECK(rest.out == "[\"u\",3] = 3  @00000000000000030000\n");
  auto reversed = kv({"list", "--prefix", R"(["u"])", "--reverse", "--limit", "1"});
  CHECK(reversed.out == "[\"u\",3] = 3  @00000000000000030000\n");
  auto bad = kv({"list", "--prefix", R"(["u"])", "--start", R"(["v"])"});
  CHECK(bad.code == 2);
  CHECK(bad.err.find("Start key is not in the keyspace defined by prefix") != std::string::npos);
}

TEST_CASE("kv: argument errors say what is wrong and exit 2") {
  Kv kv;
  auto no_key = kv({"get"});
  CHECK(no_key.code == 2);
  CHECK(no_key.err.find("kv get: expected 1 argument, got 0") == 0);
  auto bad_key = kv({"get", "users"});
  CHECK(bad_key.code == 2);
  CHECK(bad_key.err.find("keys are JSON arrays") != std::string::npos);
  auto bare = kv({"set", R"(["a"])", "hello"});
  CHECK(bare.code == 2);
  CHECK(bare.err.find("a string needs quotes") != std::string::npos);
  CHECK(kv({"get", "--consistency", "weak", R"(["a"])"}).err.find("strong or eventual") !=
        std::string::npos);
  CHECK(kv({"set", "--bytes", "--u64", R"(["a"])", "1"}).code == 2);
  CHECK(kv({"set", R"(["a"])", "1", "--frobnicate"}).code == 2);
  CHECK(kv({"member", "add", "x", "addr"}).err.find("ID must be a positive integer") !=
        std::string::npos);
  CHECK(kv({"frobnicate"}).err == "kv: unknown command 'frobnicate' (see kv --help)\n");
  CHECK(kv({"--help"}).out.find("kv watch KEY...") != std::string::npos);
  auto help = kv({"set", "--help"});
  CHECK(help.code == 0);
  CHECK(help.out.find("--expire-in") != std::string::npos);
  CHECK(kv.cluster->writes_received().empty());
}

TEST_CASE("kv: an unreachable cluster is an error that says what to do") {
  Kv kv;
  for (size_t n = 0; n < 3; ++n) kv.cluster->set_down(n, true);
  auto get = kv({"get", R"(["a"])"});
  CHECK(get.code == 1);
  CHECK(get.err.find("node0: connection refused") != std::string::npos);
  CHECK(get.err.find("is the cluster running? start one with scripts/cluster.sh") !=
        std::string::npos);
  auto status = kv({"status"});
  CHECK(status.code == 1);
  CHECK(status.out.find("unreachable: connection refused") != std::string::npos);
}

TEST_CASE("kv: a write with a lost answer reports an unknown outcome with exit 4") {
  Kv kv;
  kv.cluster->lose_next_answers(1000);
  auto set = kv({"set", R"(["a"])", "1"});
  CHECK(set.code == 4);
  CHECK(set.err.find("may or may not have been applied") != std::string::npos);
}

TEST_CASE("kv: status asks every node; watch prints snapshots") {
  Kv kv;
  kv.cluster->set_leader(1);
  auto status = kv({"--json", "status"});
  CHECK(status.code == 0);
  CHECK(status.out.find(R"({"leader":2,"nodes":[{"id":1,"address":"node0","role":"follower")") ==
        0);
  CHECK(kv({"set", R"(["w"])", R"("v")"}).code == 0);
  auto watch = kv({"--json", "watch", R"(["w"])", R"(["x"])", "--count", "1"});
  CHECK(watch.code == 0);
  CHECK(watch.out == R"([{"key":["w"],"value":"v","versionstamp":"00000000000000010000"},)"
                     R"({"key":["x"],"value":null,"versionstamp":null}])"
                     "\n");
}
