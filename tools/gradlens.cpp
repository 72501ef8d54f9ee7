// gradlens command line: dispatches to the commands in tools/cli/. Errors print one line on
// stderr and exit with code 2.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "engine/error.h"
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
