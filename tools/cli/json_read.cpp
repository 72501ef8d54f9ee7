#include "tools/cli/json_read.h"

#include <cstdlib>

#include "engine/error.h"

namespace gradlens::cli {

const JsonValue& JsonValue::at(const std::string& key) const {
  GL_CHECK(has(key), "missing key '", key, "'");
  return members.at(key);
}

namespace {

class Parser {
 public:
  Parser(const std::string& text, const std::string& source) : s_(text), source_(source) {}

  JsonValue document() {
    JsonValue v = value(0);
    space();
    expect(pos_ == s_.size(), "trailing characters");
    return v;
  }

 private:
  void expect(bool ok, const char* what) const {
    GL_CHECK(ok, source_, ": invalid JSON at byte ", pos_, ": ", what);
  }
  void space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t')) ++pos_;
  }
  bool literal(const char* word) {
    const std::string w = word;
    if (s_.compare(pos_, w.size(), w) != 0) return false;
    pos_ += w.size();
    return true;
  }

  JsonValue value(int depth) {
    expect(depth < 64, "nesting deeper than 64");
    space();
    expect(pos_ < s_.size(), "unexpected end");
    JsonValue v;
    const char c = s_[pos_];
    if (c == '{') {
      v.kind = JsonValue::Kind::object;
      ++pos_;
      space();
      if (pos_ < s_.size() && s_[pos_] == '}') return ++pos_, v;
      for (;;) {
        space();
        expect(pos_ < s_.size() && s_[pos_] == '"', "expected a key");
        const std::string key = string();
        space();
        expect(pos_ < s_.size() && s_[pos_] == ':', "expected ':'");
        ++pos_;
        v.members[key] = value(depth + 1);
        space();
        expect(pos_ < s_.size() && (s_[pos_] == ',' || s_[pos_] == '}'), "expected ',' or '}'");
        if (s_[pos_++] == '}') return v;
      }
    }
    if (c == '[') {
      v.kind = JsonValue::Kind::array;
      ++pos_;
      space();
      if (pos_ < s_.size() && s_[pos_] == ']') return ++pos_, v;
      for (;;) {
        v.items.push_back(value(depth + 1));
        space();
        expect(pos_ < s_.size() && (s_[pos_] == ',' || s_[pos_] == ']'), "expected ',' or ']'");
        if (s_[pos_++] == ']') return v;
      }
    }
    if (c == '"') {
      v.kind = JsonValue::Kind::string;
      v.text = string();
      return v;
    }
    if (literal("true") || literal("false")) {
      v.kind = JsonValue::Kind::boolean;
      v.boolean = s_[pos_ - 1] == 'e' && s_[pos_ - 2] == 'u';
      return v;
    }
    if (literal("null")) return v;
    const char* begin = s_.c_str() + pos_;
    char* end = nullptr;
    v.number = std::strtod(begin, &end);
    expect(end != begin && (c == '-' || (c >= '0' && c <= '9')), "expected a value");
    v.kind = JsonValue::Kind::number;
    pos_ += size_t(end - begin);
    return v;
  }

  // A string at pos_ (which is '"'), with \" \\ \/ \b \f \n \r \t and \uXXXX (as UTF-8).
  std::string string() {
    ++pos_;
    std::string out;
    for (;;) {
      expect(pos_ < s_.size(), "unterminated string");
      const char c = s_[pos_++];
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      expect(pos_ < s_.size(), "unterminated escape");
      const char e = s_[pos_++];
      switch (e) {
        case '"': case '\\': case '/': out += e; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          expect(pos_ + 4 <= s_.size(), "short \\u escape");
          const unsigned long cp = std::strtoul(s_.substr(pos_, 4).c_str(), nullptr, 16);
          pos_ += 4;
          if (cp < 0x80) {
            out += char(cp);
          } else if (cp < 0x800) {
            out += char(0xC0 | (cp >> 6));
            out += char(0x80 | (cp & 0x3F));
          } else {
            out += char(0xE0 | (cp >> 12));
            out += char(0x80 | ((cp >> 6) & 0x3F));
            out += char(0x80 | (cp & 0x3F));
          }
          break;
        }
        default: expect(false, "unknown escape");
      }
    }
  }

  const std::string& s_;
  const std::string& source_;
  size_t pos_ = 0;
};

}  // namespace

JsonValue parse_json(const std::string& text, const std::string& source) { return Parser(text, source).document(); }

}  // namespace gradlens::cli
