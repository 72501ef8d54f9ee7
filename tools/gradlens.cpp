// gradlens command line: dispatches to the commands in tools/cli/. Errors print one line on
// stderr and exit with code 2.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "engine/error.h"
#include "engine/memory.h"
#include "engine/number_text.h"
#include "tools/cli/commands.h"

namespace {
void print_help() {
  std::printf(
      "gradlens — gradient-based attribution for ONNX models\n\n"
      "usage: gradlens COMMAND [arguments] [options]   (gradlens COMMAND --help for details)\n\n"
      "commands:\n");
  for (const gradlens::cli::Command& c : gradlens::cli::commands())
    std::printf("  %-10s %s\n", c.name, c.summary);
}
// --max-memory BYTES (any command): the global memory limit of engine/memory.h. explain and
// compare keep the flag, whose path methods also size their chunks by it; other commands drop it.
void apply_memory_limit(const std::string& command, std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] != "--max-memory") continue;
    GL_CHECK(i + 1 < args.size(), "flag '--max-memory' needs a value (bytes)");
    const std::string& v = args[i + 1];
    int64_t bytes = 0;
    GL_CHECK(gradlens::parse_integer(v, bytes) && bytes >= 0,
             "flag '--max-memory': expected a non-negative number of bytes, got '", v, "'");
    if (bytes > 0) gradlens::set_memory_limit(bytes);
    if (command != "explain" && command != "compare")
      args.erase(args.begin() + long(i), args.begin() + long(i) + 2);
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
      apply_memory_limit(name, args);
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
