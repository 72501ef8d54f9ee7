#include "tools/cli/method_flags.h"

#include <algorithm>

#include <map>
#include <set>

#include "attribution/method.h"
#include "engine/error.h"

namespace gradlens::cli {

namespace {
// "[integrated-gradients, split-ig: 50; big: 10]": every method declaring the parameter with its
// default, methods sharing a default grouped, in the registry's order.
std::string defaults_text(const std::vector<std::pair<std::string, std::vector<std::string>>>& groups) {
  std::string text = "[";
  for (size_t g = 0; g < groups.size(); ++g) {
    if (g) text += "; ";
    for (size_t k = 0; k < groups[g].second.size(); ++k) text += (k ? ", " : "") + groups[g].second[k];
    text += ": " + (groups[g].first.empty() ? std::string("unset") : groups[g].first);
  }
  return text + "]";
}
}  // namespace

void append_method_parameter_flags(std::vector<Flag>& flags, const std::set<std::string>& command_flags) {
  std::set<std::string> seen;
  for (const Flag& f : flags) seen.insert(f.name);
  // Per new flag: its help (the first declaring method's) and (default, methods) groups.
  struct Gathered {
    std::string name, help;
    std::vector<std::pair<std::string, std::vector<std::string>>> groups;
  };
  std::vector<Gathered> gathered;
  std::map<std::string, size_t> index;
  for (const Method* m : methods())
    for (const Parameter& p : m->info().parameters) {
      GL_CHECK(!command_flags.count(p.name), "method '", m->info().name, "': parameter --", p.name,
               " has the name of one of the command's own flags and would never reach the method");
      if (p.name == "relu" || (seen.count(p.name) && !index.count(p.name))) continue;
      if (seen.insert(p.name).second) {
        index[p.name] = gathered.size();
        gathered.push_back({p.name, p.help, {}});
      }
      auto& groups = gathered[index[p.name]].groups;
      auto same = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == p.fallback; });
      if (same == groups.end()) groups.push_back({p.fallback, {m->info().name}});
      else same->second.push_back(m->info().name);
    }
  for (const Gathered& g : gathered) flags.push_back({g.name, "VALUE", g.help + " " + defaults_text(g.groups), ""});
}

MethodFlags method_options(const Args& args, const std::vector<Flag>& flags, const std::set<std::string>& own,
                           const std::vector<const MethodInfo*>& methods) {
  MethodFlags out;
  out.options.resize(methods.size());
  // Sets name=value on every method declaring `name`; false when none does.
  auto give = [&](const std::string& name, const std::string& value) {
    bool used = false;
    for (size_t m = 0; m < methods.size(); ++m)
      for (const Parameter& p : methods[m]->parameters)
        if (p.name == name) {
          out.options[m].set(name, value);
          used = true;
        }
    return used;
  };
  for (const Flag& f : flags)
    if (!own.count(f.name) && args.has(f.name) && !give(f.name, args.get(f.name))) out.unused.push_back(f.name);
  const bool has_no_relu = std::any_of(flags.begin(), flags.end(), [](const Flag& f) { return f.name == "no-relu"; });
  if (has_no_relu && args.flag("no-relu")) out.no_relu_unused = !give("relu", "false");
  return out;
}

}  // namespace gradlens::cli
