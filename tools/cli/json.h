// Minimal JSON writer for the CLI's --json output (strings escaped, numbers round-trip).
#pragma once
#include <string>
#include <vector>

namespace gradlens::cli {

class Json {
 public:
  Json& begin_object();
  Json& end_object();
  Json& begin_array();
  Json& end_array();
  Json& key(const std::string& k);
  Json& value(const std::string& v);
  Json& value(const char* v) { return value(std::string(v)); }
  Json& value(double v);
  Json& value(int64_t v);
  Json& value(int v) { return value(int64_t(v)); }
  Json& value(bool v);
  // A value kept as text (method parameters, notes): a JSON number when the whole text is one
  // (integer or finite real), true/false for those words, else a string.
  Json& scalar(const std::string& text);
  Json& null();
  template <class T>
  Json& array(const std::vector<T>& values) {
    begin_array();
    for (const T& v : values) value(v);
    return end_array();
  }
  const std::string& str() const { return out_; }

 private:
  void separate();
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

std::string json_escape(const std::string& s);

}  // namespace gradlens::cli
