// libFuzzer target: the command line. The input is split at NUL bytes into a command word and its
// arguments, which run through the same dispatch as tools/gradlens.cpp. Commands that would write
// files only do so after loading a model, which the fuzzer cannot name; `bench` is left out (it
// times real runs).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "engine/error.h"
#include "engine/memory.h"
#include "tools/cli/commands.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The commands' own output is closed by libFuzzer's -close_fd_mask=3 (tools/fuzz.sh), which
  // keeps its statistics on a private copy of stderr.
  static const bool setup = (gradlens::set_memory_limit(int64_t(1) << 30), true);
  (void)setup;
  std::vector<std::string> words(1);
  for (size_t i = 0; i < size && words.size() < 64; ++i) {
    if (data[i] == 0) words.emplace_back();
    else words.back() += char(data[i]);
  }
  const std::string command = words[0];
  if (command == "bench") return 0;
  std::vector<std::string> args(words.begin() + 1, words.end());
  for (const gradlens::cli::Command& c : gradlens::cli::commands()) {
    if (command != c.name) continue;
    try {
      (void)c.run(args);
    } catch (const gradlens::Error&) {
    }
  }
  return 0;
}
