#include "tools/cli/method_flags.h"

#include <algorithm>

#include <set>

#include "attribution/method.h"
#include "engine/error.h"

namespace gradlens::cli {

void append_method_parameter_flags(std::vector<Flag>& flags, const std::set<std::string>& command_flags) {
  std::set<std::string> seen;
  for (const Flag& f : flags) seen.insert(f.name);
  for (const Method* m : methods())
    for (const Parameter& p : m->info().parameters) {
      GL_CHECK(!command_flags.count(p.name), "method '", m->info().name, "': parameter --", p.name,
               " has the name of one of the command's own flags and would never reach the method");
      if (p.name != "relu" && seen.insert(p.name).second)
        flags.push_back({p.name, "VALUE", p.help + " [" + m->info().name + ": " + p.fallback + "]", ""});
    }
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
