// Minimal JSON reader (RFC 8259) for files the CLI wrote itself (receipts): objects, arrays,
// strings with escapes, numbers, true/false/null. Errors name the source and the byte offset.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace gradlens::cli {

struct JsonValue {
  enum class Kind { null, boolean, number, string, array, object } kind = Kind::null;
  bool boolean = false;
  double number = 0;
  std::string text;
  std::vector<JsonValue> items;
  std::map<std::string, JsonValue> members;

  bool has(const std::string& key) const { return kind == Kind::object && members.count(key) > 0; }
  // Member `key` of an object; Error naming `key` when absent or not an object.
  const JsonValue& at(const std::string& key) const;
};

JsonValue parse_json(const std::string& text, const std::string& source);

}  // namespace gradlens::cli
