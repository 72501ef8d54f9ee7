// Runs the gradlens CLI binary (GRADLENS_CLI, set by CMake) with stdout and stderr captured in a
// scratch directory, for the command-line tests.
#pragma once
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "scratch_dir.h"
#include "support.h"

namespace gradlens::test {

#ifdef GRADLENS_CLI
inline const char* const kCli = GRADLENS_CLI;
#else
inline const char* const kCli = "";
#endif

inline bool cli_built() { return *kCli && std::filesystem::is_regular_file(kCli); }

// For a test that needs the binary: says why it is skipped when it is not built.
inline bool have_cli() {
  if (cli_built()) return true;
  MESSAGE("SKIPPED: the gradlens CLI binary is not built (GRADLENS_CLI='" << kCli << "')");
  return false;
}

struct CliRun {
  int exit_code = -1;  // the exit status; 128 + N when killed by signal N
  std::string out, err;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline std::string shell_quoted(const std::string& a) {
  std::string q = "'";
  for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// The shell command line `gradlens args...`, every word quoted.
inline std::string cli_command(const std::vector<std::string>& args) {
  std::string cmd = shell_quoted(kCli);
  for (const std::string& a : args) cmd += " " + shell_quoted(a);
  return cmd;
}

// `gradlens args...` with stdout and stderr captured in scratch / stdout.txt and stderr.txt.
inline CliRun run_cli(const ScratchDir& scratch, const std::vector<std::string>& args) {
  const std::string cmd = cli_command(args) + " >" + shell_quoted(scratch / "stdout.txt") + " 2>" +
                          shell_quoted(scratch / "stderr.txt") + " </dev/null";
  const int status = std::system(cmd.c_str());
  CliRun r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  r.out = slurp(scratch / "stdout.txt");
  r.err = slurp(scratch / "stderr.txt");
  return r;
}

// The failure contract: exit status 2, nothing on stdout, one stderr line containing `names` (the
// file, flag, node or metric at fault) and, when `out` is given, no `out` written.
inline void check_rejected(const CliRun& r, const std::string& names, const std::filesystem::path& out = {}) {
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') + (!r.err.empty() && r.err.back() != '\n') == 1);
  CHECK(contains(r.err, names));
  if (!out.empty()) CHECK(!std::filesystem::exists(out));
}

}  // namespace gradlens::test
