// gradlens command line: dispatches to the commands in tools/cli/. Errors print one line on
// stderr and exit with code 2.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "attribution/chunked_pass.h"
#include "engine/error.h"
#include "engine/memory.h"
#include "engine/number_text.h"
#include "tools/cli/chunk_monitor.h"
#include "tools/cli/commands.h"

namespace {
void print_help() {
  std::printf(
      "gradlens — gradient-based attribution for ONNX models\n\n"
      "usage: gradlens COMMAND [arguments] [options]   (gradlens COMMAND --help for details)\n\n"
      "commands:\n");
  for (const gradlens::cli::Command& c : gradlens::cli::commands())
    std::printf("  %-10s %s\n", c.name, c.summary);
  std::printf(
      "\noption of every command:\n"
      "  --max-memory BYTES  memory budget (suffix K, M, G, T; default 2G): each chunked forward/backward\n"
      "                      holds as many rows (at most --batch) as fit in it; allocations past 4x it fail\n");
}
// --max-memory BYTES (any command; 2G, 512M, ...): the run's memory budget (attribution/chunked_pass.h),
// which sets the rows of every chunked pass, and four times it the hard limit of engine/memory.h
// (so the defaults, 2 GiB and 8 GiB, keep that ratio). Taken out of the arguments here, whatever
// the command.
void apply_max_memory(std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const bool inline_value = args[i].rfind("--max-memory=", 0) == 0;
    if (args[i] != "--max-memory" && !inline_value) continue;
    GL_CHECK(inline_value || i + 1 < args.size(), "flag '--max-memory' needs a value (BYTES, e.g. 2G or 512M)");
    const std::string v = inline_value ? args[i].substr(13) : args[i + 1];
    int64_t bytes = 0;
    GL_CHECK(gradlens::cli::parse_bytes(v, bytes), "flag '--max-memory': expected a number of bytes from 1 to 2^50 ",
             "with an optional suffix K, M, G or T (e.g. 2G), got '", v, "'");
    gradlens::set_max_memory(bytes);
    gradlens::set_memory_limit(4 * bytes);
    args.erase(args.begin() + long(i), args.begin() + long(i) + (inline_value ? 1 : 2));
    GL_CHECK(std::none_of(args.begin(), args.end(),
                          [](const std::string& a) { return a == "--max-memory" || a.rfind("--max-memory=", 0) == 0; }),
             "flag '--max-memory' given twice");
    return;
  }
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    print_help();
    return argc < 2 ? 2 : 0;
  }
  const std::string name = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  for (const gradlens::cli::Command& c : gradlens::cli::commands()) {
    if (name != c.name) continue;
    try {
      apply_max_memory(args);
      return c.run(args);
    } catch (const gradlens::Error& e) {
      std::fprintf(stderr, "gradlens %s: %s\n", c.name, e.what());
      return 2;
    } catch (const std::bad_alloc&) {
      std::fprintf(stderr, "gradlens %s: out of memory\n", c.name);
      return 2;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "gradlens %s: internal error: %s\n", c.name, e.what());
      return 3;
    }
  }
  std::fprintf(stderr, "gradlens: unknown command '%s' (see gradlens --help)\n", name.c_str());
  return 2;
}
