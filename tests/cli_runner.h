// Runs the gradlens CLI binary (GRADLENS_CLI, set by CMake) with stdout and stderr captured in a
// scratch directory, for the command-line tests.
#pragma once
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "scratch_dir.h"

namespace gradlens::test {

#ifdef GRADLENS_CLI
inline const char* const kCli = GRADLENS_CLI;
#else
inline const char* const kCli = "";
#endif

inline bool cli_built() { return *kCli && std::filesystem::is_regular_file(kCli); }

struct CliRun {
  int exit_code = -1;
  std::string out, err;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// `gradlens args...` with stdout and stderr captured in scratch files.
inline CliRun run_cli(const ScratchDir& scratch, const std::vector<std::string>& args) {
  auto quote = [](const std::string& a) {
    std::string q = "'";
    for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
  };
  std::string cmd = quote(kCli);
  for (const std::string& a : args) cmd += " " + quote(a);
  cmd += " >" + quote(scratch / "out.txt") + " 2>" + quote(scratch / "err.txt") + " </dev/null";
  const int status = std::system(cmd.c_str());
  CliRun r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(scratch / "out.txt");
  r.err = slurp(scratch / "err.txt");
  return r;
}

}  // namespace gradlens::test
