// Usability of the CLI (#18), through the built binary: help listing every method's default of a
// shared flag, explain's readable summary without an output flag, compare on .npy inputs, integer
// .npy inputs converted with a note, and preset errors that name the preset and the fix.
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "attribution/method.h"
#include "cli_runner.h"
#include "scratch_dir.h"
#include "support.h"

using namespace gradlens;
using gradlens::test::contains;
namespace fs = std::filesystem;

namespace {
const fs::path kFixtures = fs::path(GRADLENS_TEST_DATA) / "fixtures";

// The line of `text` starting with `prefix` (after spaces), or "".
std::string line_of(const std::string& text, const std::string& prefix) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    const size_t first = line.find_first_not_of(' ');
    if (first != std::string::npos && line.compare(first, prefix.size(), prefix) == 0) return line;
    start = end + 1;
  }
  return "";
}
}  // namespace

// "[a, b: 50; c: 10]" → {50: {a, b}, 10: {c}}, in order.
std::vector<std::pair<std::string, std::vector<std::string>>> default_groups(const std::string& line) {
  std::vector<std::pair<std::string, std::vector<std::string>>> groups;
  const size_t open = line.rfind('['), close = line.rfind(']');
  if (open == std::string::npos || close == std::string::npos || close < open) return groups;
  const std::string inside = line.substr(open + 1, close - open - 1);
  for (size_t at = 0; at <= inside.size();) {
    size_t end = inside.find("; ", at);
    if (end == std::string::npos) end = inside.size();
    const std::string group = inside.substr(at, end - at);
    const size_t colon = group.find(": ");
    if (colon == std::string::npos) return {};
    std::vector<std::string> names;
    for (size_t n = 0; n <= colon;) {
      size_t comma = group.find(", ", n);
      if (comma == std::string::npos || comma > colon) comma = colon;
      names.push_back(group.substr(n, comma - n));
      n = comma + 2;
    }
    groups.push_back({group.substr(colon + 2), names});
    at = end + 2;
  }
  return groups;
}

TEST_CASE("cli help: a flag several methods declare lists every method's default, equal ones grouped") {
  if (!test::have_cli()) return;
  test::ScratchDir scratch;
  for (const std::string command : {"explain", "compare"}) {
    const test::CliRun r = test::run_cli(scratch, {command, "--help"});
    REQUIRE(r.exit_code == 0);
    for (const std::string flag : {"steps", "baseline"}) {
      const std::string line = line_of(r.out, "--" + flag + " ");
      INFO(command << ": " << line);
      const auto groups = default_groups(line);
      REQUIRE(!groups.empty());
      if (flag == "steps") CHECK(groups.size() >= 4);  // 10, 16, 50, 100, 200 today
      std::map<std::string, std::string> shown;  // method → default shown
      std::set<std::string> values;
      for (const auto& [value, names] : groups) {
        CHECK(values.insert(value).second);  // one group per default
        for (const std::string& name : names) CHECK(shown.emplace(name, value).second);
      }
      size_t declaring = 0;
      for (const Method* m : methods())
        for (const Parameter& p : m->info().parameters)
          if (p.name == flag) {
            ++declaring;
            INFO(m->info().name);
            REQUIRE(shown.count(m->info().name));
            CHECK(shown[m->info().name] == (p.fallback.empty() ? "unset" : p.fallback));
          }
      CHECK(shown.size() == declaring);
    }
  }
  // The reported case: integrated-gradients' 50 steps is shown, not only big's 10.
  const auto groups = default_groups(line_of(test::run_cli(scratch, {"explain", "--help"}).out, "--steps "));
  bool ig50 = false;
  for (const auto& [value, names] : groups)
    for (const std::string& name : names) ig50 |= name == "integrated-gradients" && value == "50";
  CHECK(ig50);
}
