#include "tools/cli/method_flags.h"

#include <set>

#include "attribution/method.h"

namespace gradlens::cli {

void append_method_parameter_flags(std::vector<Flag>& flags) {
  std::set<std::string> seen;
  for (const Flag& f : flags) seen.insert(f.name);
  for (const Method* m : methods())
    for (const Parameter& p : m->info().parameters)
      if (p.name != "relu" && seen.insert(p.name).second)
        flags.push_back({p.name, "VALUE", p.help + " [" + m->info().name + ": " + p.fallback + "]", ""});
}

}  // namespace gradlens::cli
