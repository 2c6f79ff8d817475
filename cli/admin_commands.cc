// `kv status`, `kv member list|add|remove`, `kv leader transfer`.
#include <ostream>

#include "base/flags.h"
#include "cli/command_context.h"

namespace cli {
namespace {

const Command& command(std::string_view name);

std::optional<int> parse(CommandContext& ctx, std::string_view name, base::Flags& flags,
                         Args args) {
  flags.add_bool("json", &ctx.json, "print JSON");
  base::Status parsed = flags.parse(std::vector<std::string>(args.begin(), args.end()));
  if (!parsed.is_ok()) return usage_error(ctx, command(name), parsed.message());
  if (flags.help_requested()) {
    *ctx.out << command(name).summary << "\n\n" << flags.usage();
    return kExitOk;
  }
  return std::nullopt;
}

base::Json node_json(const net::NodeStatus& n) {
  base::Json o = base::Json::object();
  o.set("id", base::Json::number(n.id));
  o.set("address", base::Json::string(n.address));
  o.set("role",
        base::Json::string(n.error.empty() ? std::string(net::role_name(n)) : "unreachable"));
  o.set("term", base::Json::number(n.term));
  o.set("leader", base::Json::number(n.leader));
  o.set("commit_index", base::Json::number(n.commit));
  o.set("applied_index", base::Json::number(n.applied));
  o.set("last_index", base::Json::number(n.last_index));
  o.set("log_bytes", base::Json::number(n.log_bytes));
  o.set("last_snapshot_index", base::Json::number(n.last_snapshot_index));
  if (!n.error.empty()) o.set("error", base::Json::string(n.error));
  return o;
}

int run_status(CommandContext& ctx, Args args) {
  uint64_t timeout_ms = 2000;
  base::Flags flags("kv status [--timeout MS] [--json]");
  flags.add_uint("timeout", &timeout_ms, "how long to wait for each node");
  if (auto stop = parse(ctx, "status", flags, args)) return *stop;
  if (!flags.positional().empty())
    return usage_error(ctx, command("status"), "unexpected argument");
  std::vector<net::NodeStatus> nodes =
      ctx.client()->status_all(std::chrono::milliseconds(timeout_ms));
  uint64_t leader = 0;
  bool any_answer = false;
  for (const auto& n : nodes) {
    if (n.error.empty()) any_answer = true;
    if (n.error.empty() && n.role == raft::Role::kLeader) leader = n.id;
  }
  if (ctx.json) {
    base::Json out = base::Json::object();
    out.set("leader", leader ? base::Json::number(leader) : base::Json::null());
    base::Json list = base::Json::array();
    for (const auto& n : nodes) list.push_back(node_json(n));
    out.set("nodes", list);
    *ctx.out << out.serialize() << "\n";
  } else {
    *ctx.out << fmt::format("{:>4}  {:<21} {:<12} {:>6} {:>7} {:>10} {:>10} {:>10} {:>12} {:>10}\n",
                            "ID", "ADDRESS", "ROLE", "TERM", "LEADER", "COMMIT", "APPLIED", "LAST",
                            "LOG_BYTES", "SNAPSHOT");
    for (const auto& n : nodes) {
      if (!n.error.empty()) {
        *ctx.out << fmt::format("{:>4}  {:<21} unreachable: {}\n", "-", n.address, n.error);
        continue;
      }
      *ctx.out << fmt::format(
          "{:>4}  {:<21} {:<12} {:>6} {:>7} {:>10} {:>10} {:>10} {:>12} {:>10}\n", n.id, n.address,
          net::role_name(n), n.term, n.leader, n.commit, n.applied, n.last_index, n.log_bytes,
          n.last_snapshot_index);
    }
  }
  if (!any_answer) {
    *ctx.err << "kv status: no node answered; is the cluster running? start one with "
                "scripts/cluster.sh\n";
    return kExitError;
  }
  return kExitOk;
}

int print_ok_or_fail(CommandContext& ctx, std::string_view name,
                     const base::Result<net::ResponseBody>& response) {
  if (!response.is_ok()) return fail(ctx, name, response.status());
  if (const auto* error = std::get_if<net::Error>(&*response))
    return fail(ctx, name, error->to_status());
  *ctx.out << (ctx.json ? "{\"ok\":true}" : "OK") << "\n";
  return kExitOk;
}

int run_member(CommandContext& ctx, Args args) {
  base::Flags flags("kv member list | add ID PEER_ADDR [CLIENT_ADDR] | remove ID [--json]");
  if (auto stop = parse(ctx, "member", flags, args)) return *stop;
  const auto& words = flags.positional();
  const Command& cmd = command("member");
  if (words.empty()) return usage_error(ctx, cmd, "expected list, add or remove");
  if (words[0] == "list" && words.size() == 1) {
    auto response = ctx.client()->call_leader(net::MemberList{});
    if (!response.is_ok()) return fail(ctx, "member list", response.status());
    const auto* list = std::get_if<net::MemberListResult>(&*response);
    if (list == nullptr)
      return fail(ctx, "member list", base::Status(base::Code::kInternal, "unexpected answer"));
    for (const net::Member& m : list->members) {
      const char* role = m.role == net::MemberRole::kVoter ? "voter" : "learner";
      if (ctx.json) {
        base::Json o = base::Json::object();
        o.set("id", base::Json::number(m.id));
        o.set("role", base::Json::string(role));
        o.set("peer_addr", base::Json::string(m.peer_addr));
        o.set("client_addr", base::Json::string(m.client_addr));
        *ctx.out << o.serialize() << "\n";
      } else {
        *ctx.out << fmt::format("{:>4}  {:<8} peer {:<21} client {}\n", m.id, role, m.peer_addr,
                                m.client_addr);
      }
    }
    return kExitOk;
  }
  if (words[0] == "add" && (words.size() == 3 || words.size() == 4)) {
    auto id = base::parse_uint(words[1]);
    if (!id.is_ok() || *id == 0) return usage_error(ctx, cmd, "ID must be a positive integer");
    net::MemberAdd add{*id, words[2], words.size() == 4 ? words[3] : ""};
    return print_ok_or_fail(ctx, "member add", ctx.client()->call_leader(add));
  }
  if (words[0] == "remove" && words.size() == 2) {
    auto id = base::parse_uint(words[1]);
    if (!id.is_ok() || *id == 0) return usage_error(ctx, cmd, "ID must be a positive integer");
    return print_ok_or_fail(ctx, "member remove",
                            ctx.client()->call_leader(net::MemberRemove{*id}));
  }
  return usage_error(ctx, cmd, "expected: list | add ID PEER_ADDR [CLIENT_ADDR] | remove ID");
}

int run_leader(CommandContext& ctx, Args args) {
  base::Flags flags("kv leader transfer ID [--json]");
  if (auto stop = parse(ctx, "leader", flags, args)) return *stop;
  const auto& words = flags.positional();
  if (words.size() != 2 || words[0] != "transfer") {
    return usage_error(ctx, command("leader"), "expected: transfer ID");
  }
  auto id = base::parse_uint(words[1]);
  if (!id.is_ok() || *id == 0)
    return usage_error(ctx, command("leader"), "ID must be a positive integer");
  return print_ok_or_fail(ctx, "leader transfer",
                          ctx.client()->call_leader(net::LeaderTransfer{*id}));
}

const Command kCommands[] = {
    {"status", "status [--timeout MS]", "Ask every endpoint for its own Raft status.", run_status},
    {"member", "member list | add ID PEER_ADDR [CLIENT_ADDR] | remove ID",
     "List, add (as a learner, promoted once caught up) or remove cluster members.", run_member},
    {"leader", "leader transfer ID", "Move leadership to node ID.", run_leader},
};

const Command& command(std::string_view name) {
  for (const Command& c : kCommands) {
    if (c.name == name) return c;
  }
  FATAL("no command named {}", name);
}

}  // namespace

std::span<const Command> admin_commands() { return kCommands; }

}  // namespace cli
