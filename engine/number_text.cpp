#include "engine/number_text.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace gradlens {

bool parse_any_real(const std::string& text, double& value) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text.c_str(), &end);
  if (*end != '\0' || (errno != 0 && std::isfinite(v))) return false;
  value = v;
  return true;
}

bool parse_real(const std::string& text, double& value) {
  double v = 0;
  if (!parse_any_real(text, v) || !std::isfinite(v)) return false;
  value = v;
  return true;
}

bool parse_integer(const std::string& text, int64_t& value) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (*end != '\0' || errno != 0) return false;
  value = int64_t(v);
  return true;
}

bool for_each_item(const std::string& text, const std::function<bool(const std::string&)>& item) {
  std::stringstream ss(text);
  std::string piece;
  while (std::getline(ss, piece, ','))
    if (!item(piece)) return false;
  return !text.empty() && text.back() != ',';
}

}  // namespace gradlens
