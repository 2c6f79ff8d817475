// Runs every script in raft/testdata/ (directory from $RAFTKV_TESTDATA). A script is a
// sequence of blocks (etcd's datadriven format):
//   # comments and blank lines, kept as they are
//   command arg arg...
//   ----
//   expected output (up to the next blank line)
// RAFTKV_REWRITE=1 rewrites each file with the actual output instead of comparing: read every
// transcript you accept.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "raft/interaction_env.h"

namespace {

struct Block {
  std::string preamble;  // comments/blank lines before the command, verbatim
  std::string command_line;
  int line_number = 0;
  std::string expected;
};

std::vector<Block> parse(const std::string& path, std::string& trailer) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::vector<Block> blocks;
  Block block;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].empty() || lines[i][0] == '#') {
      block.preamble += lines[i] + "\n";
      continue;
    }
    block.command_line = lines[i];
    block.line_number = static_cast<int>(i + 1);
    REQUIRE_MESSAGE(i + 1 < lines.size(), path << ":" << i + 1 << ": missing ----");
    REQUIRE_MESSAGE(lines[i + 1] == "----", path << ":" << i + 2 << ": expected ----");
    for (i += 2; i < lines.size() && !lines[i].empty(); ++i) block.expected += lines[i] + "\n";
    blocks.push_back(std::move(block));
    block = Block{};
    if (i < lines.size()) block.preamble += "\n";  // the blank line that ended the block
  }
  trailer = block.preamble;
  return blocks;
}

std::string run_block(raft::InteractionEnv& env, const Block& block) {
  std::stringstream words(block.command_line);
  std::string command;
  words >> command;
  std::vector<std::string> args;
  for (std::string word; words >> word;) args.push_back(word);
  return env.run(command, args);
}

void run_script(const std::filesystem::path& path, bool rewrite) {
  std::string trailer;
  const std::vector<Block> blocks = parse(path.string(), trailer);
  raft::InteractionEnv env;
  std::string rewritten;
  for (const Block& block : blocks) {
    const std::string actual = run_block(env, block);
    rewritten += block.preamble + block.command_line + "\n----\n" + actual;
    if (!rewrite) {
      INFO(path.filename().string() << ":" << block.line_number << ": " << block.command_line);
      CHECK(actual == block.expected);
    }
  }
  if (rewrite) {
    std::ofstream(path) << rewritten << trailer;
  }
}

}  // namespace

TEST_CASE("raft: data-driven interaction scripts in raft/testdata produce their transcripts") {
  const char* dir = std::getenv("RAFTKV_TESTDATA");
  REQUIRE_MESSAGE(dir != nullptr, "set RAFTKV_TESTDATA to raft/testdata");
  const bool rewrite =
      std::getenv("RAFTKV_REWRITE") != nullptr && std::string(std::getenv("RAFTKV_REWRITE")) == "1";
  std::vector<std::filesystem::path> scripts;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".txt") scripts.push_back(entry.path());
  }
  std::sort(scripts.begin(), scripts.end());
  REQUIRE(!scripts.empty());
  for (const auto& script : scripts) {
    run_script(script, rewrite);
  }
}
