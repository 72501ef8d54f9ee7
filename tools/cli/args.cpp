#include "tools/cli/args.h"

#include <cerrno>
#include <cstdio>
#include <cmath>
#include <cstdlib>

#include "engine/error.h"
#include "engine/number_text.h"
#include "engine/suggest.h"

namespace gradlens::cli {

Args::Args(std::string command, std::vector<Flag> flags, std::string positional_help)
    : command_(std::move(command)), flags_(std::move(flags)),
      positional_help_(std::move(positional_help)) {}

const Flag& Args::find(const std::string& name) const {
  for (const Flag& f : flags_)
    if (f.name == name) return f;
  std::vector<std::string> names;
  for (const Flag& f : flags_) names.push_back(f.name);
  const std::string close = did_you_mean(name, names, "--");
  if (!close.empty()) fail("unknown flag '--", name, "'", close);
  fail("unknown flag '--", name, "' (see gradlens ", command_, " --help)");
}

void Args::parse(const std::vector<std::string>& argv) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--help" || a == "-h") {
      help_ = true;
      continue;
    }
    if (a.size() > 2 && a.compare(0, 2, "--") == 0) {
      std::string name = a.substr(2), value;
      const size_t eq = name.find('=');
      const bool inline_value = eq != std::string::npos;
      if (inline_value) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
      const Flag& f = find(name);
      if (f.value_name.empty()) {
        GL_CHECK(!inline_value, "flag '--", name, "' takes no value");
        value = "1";
      } else if (!inline_value) {
        GL_CHECK(i + 1 < argv.size(), "flag '--", name, "' needs a value (",
                 f.value_name, ")");
        value = argv[++i];
      }
      GL_CHECK(!values_.count(name), "flag '--", name, "' given twice");
      values_[name] = value;
      continue;
    }
    positional_.push_back(a);
  }
}

bool Args::parse_or_usage(const std::vector<std::string>& argv) {
  parse(argv);
  if (help_) std::printf("%s", usage().c_str());
  return !help_;
}

bool Args::has(const std::string& name) const {
  find(name);
  return values_.count(name) > 0;
}

std::string Args::get(const std::string& name) const {
  const Flag& f = find(name);
  auto it = values_.find(name);
  return it == values_.end() ? f.fallback : it->second;
}

int64_t Args::get_int(const std::string& name, int64_t min, int64_t max) const {
  const std::string v = get(name);
  int64_t parsed = 0;
  GL_CHECK(parse_integer(v, parsed), "flag '--", name, "' expects an integer, got '", v, "'");
  GL_CHECK(parsed >= min && parsed <= max, "flag '--", name, "' must be in [",
           min, ", ", max, "], got ", parsed);
  return parsed;
}

double Args::get_double(const std::string& name) const {
  const std::string v = get(name);
  double parsed = 0;
  GL_CHECK(parse_real(v, parsed), "flag '--", name, "' expects a number, got '", v, "'");
  return parsed;
}

std::string Args::usage() const {
  std::string s = "usage: gradlens " + command_ + " " + positional_help_ + " [options]\n\noptions:\n";
  for (const Flag& f : flags_) {
    std::string left = "  --" + f.name + (f.value_name.empty() ? "" : " " + f.value_name);
    if (left.size() < 28) left.resize(28, ' ');
    else left += "  ";
    s += left + f.help;
    if (!f.fallback.empty()) s += " (default " + f.fallback + ")";
    s += "\n";
  }
  return s;
}

}  // namespace gradlens::cli
