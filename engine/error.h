// One exception type for everything a user can get wrong: bad files, shapes, attributes, flags.
// Messages name the thing at fault (file, node, op, attribute) so the CLI can print one line.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace gradlens {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
inline void append(std::ostringstream&) {}
template <class T, class... Rest>
void append(std::ostringstream& os, const T& first, const Rest&... rest) {
  os << first;
  append(os, rest...);
}
}  // namespace detail

// str("node '", name, "': ", what) — builds a message from streamable parts.
template <class... Parts>
std::string str(const Parts&... parts) {
  std::ostringstream os;
  detail::append(os, parts...);
  return os.str();
}

template <class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  throw Error(str(parts...));
}

}  // namespace gradlens

// GL_CHECK(cond, parts...) throws gradlens::Error built from parts when cond is false.
#define GL_CHECK(cond, ...)                 \
  do {                                      \
    if (!(cond)) ::gradlens::fail(__VA_ARGS__); \
  } while (0)
