#include "tools/cli/json.h"

#include <cmath>
#include <cstdio>

#include "engine/number_text.h"

namespace gradlens::cli {

std::string json_escape(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\t': o += "\\t"; break;
      case '\r': o += "\\r"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          o += buf;
        } else {
          o += char(c);
        }
    }
  }
  return o + "\"";
}

void Json::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_ += ",";
    first_.back() = false;
  }
}

Json& Json::begin_object() { separate(); out_ += "{"; first_.push_back(true); return *this; }
Json& Json::end_object() { out_ += "}"; first_.pop_back(); return *this; }
Json& Json::begin_array() { separate(); out_ += "["; first_.push_back(true); return *this; }
Json& Json::end_array() { out_ += "]"; first_.pop_back(); return *this; }
Json& Json::key(const std::string& k) {
  separate();
  out_ += json_escape(k) + ":";
  after_key_ = true;
  return *this;
}
Json& Json::value(const std::string& v) { separate(); out_ += json_escape(v); return *this; }
Json& Json::value(double v) {
  separate();
  if (!std::isfinite(v)) {
    out_ += "null";
    return *this;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  out_ += buf;
  return *this;
}
Json& Json::value(int64_t v) { separate(); out_ += std::to_string(v); return *this; }
Json& Json::value(bool v) { separate(); out_ += v ? "true" : "false"; return *this; }
Json& Json::scalar(const std::string& text) {
  int64_t i = 0;
  double d = 0;
  if (parse_integer(text, i)) return value(i);
  if (parse_real(text, d) && text.find_first_of("xX") == std::string::npos) return value(d);
  if (text == "true" || text == "false") return value(text == "true");
  return value(text);
}
Json& Json::null() { separate(); out_ += "null"; return *this; }

}  // namespace gradlens::cli
