#include "attribution/cost.h"

#include <cctype>
#include <cstdio>
#include <functional>
#include <map>

#include "attribution/cam.h"
#include "engine/error.h"
#include "engine/number_text.h"

namespace gradlens {

namespace {

// c + f·F + b·B: a cost term. A product needs one side constant (the cost is linear in F and B).
struct Linear {
  double c = 0, f = 0, b = 0;
  bool constant() const { return f == 0 && b == 0; }
};

// Recursive descent over the cost text; any unknown character or name gives up (ok = false).
//   sum     := product (('+' | '−' | '-') product)*
//   product := factor (('×' | '·' | '*')? factor)*      juxtaposition multiplies: "2F", "(1+K)F", "SB"
//   factor  := number | name | 'F' | 'B' | '(' sum ')'
class CostParser {
 public:
  CostParser(const std::string& text, std::function<std::optional<double>(const std::string&)> value)
      : s_(text), value_(std::move(value)) {}
  std::optional<Linear> parse() {
    Linear v = sum();
    skip();
    if (!ok_ || i_ != s_.size()) return std::nullopt;
    return v;
  }
  const std::map<std::string, double>& used() const { return used_; }

 private:
  void skip() {
    while (i_ < s_.size() && s_[i_] == ' ') ++i_;
  }
  bool eat(const char* token) {
    skip();
    const std::string t = token;
    if (s_.compare(i_, t.size(), t) != 0) return false;
    i_ += t.size();
    return true;
  }
  Linear sum() {
    Linear v = product();
    for (;;) {
      if (!ok_) return v;  // gave up: stop here (factor() no longer consumes anything)
      if (eat("+")) {
        const Linear w = product();
        v = {v.c + w.c, v.f + w.f, v.b + w.b};
      } else if (eat("−") || eat("-")) {
        const Linear w = product();
        v = {v.c - w.c, v.f - w.f, v.b - w.b};
      } else {
        return v;
      }
    }
  }
  Linear product() {
    Linear v = factor();
    for (;;) {
      if (!ok_) return v;
      skip();
      const bool sign = eat("×") || eat("·") || eat("*");
      skip();
      if (!sign && (i_ >= s_.size() || !(std::isalnum((unsigned char)s_[i_]) || s_[i_] == '('))) return v;
      const Linear w = factor();
      if (!v.constant() && !w.constant()) ok_ = false;
      const Linear& k = v.constant() ? v : w;
      const Linear& l = v.constant() ? w : v;
      v = {k.c * l.c, k.c * l.f, k.c * l.b};
    }
  }
  Linear factor() {
    skip();
    if (!ok_ || i_ >= s_.size()) return fail();
    if (eat("(")) {
      const Linear v = sum();
      if (!eat(")")) return fail();
      return v;
    }
    if (std::isdigit((unsigned char)s_[i_])) {
      double d = 0;
      while (i_ < s_.size() && std::isdigit((unsigned char)s_[i_])) d = 10 * d + (s_[i_++] - '0');
      return {d, 0, 0};
    }
    if (s_[i_] == 'F' || s_[i_] == 'B') {
      const bool f = s_[i_++] == 'F';
      return {0, f ? 1.0 : 0.0, f ? 0.0 : 1.0};
    }
    // A name: letters, digits, '-' and '_' (parameters such as "descent-steps"); a single capital
    // letter (K, S) stands alone so that "SB" reads as S × B.
    std::string name;
    if (std::isupper((unsigned char)s_[i_])) {
      name = s_.substr(i_++, 1);
    } else {
      while (i_ < s_.size() && (std::isalnum((unsigned char)s_[i_]) || s_[i_] == '-' || s_[i_] == '_'))
        name += s_[i_++];
    }
    if (name.empty()) return fail();
    const std::optional<double> v = value_(name);
    if (!v) return fail();
    used_[name] = *v;
    return {*v, 0, 0};
  }
  Linear fail() {
    ok_ = false;
    return {};
  }

  const std::string& s_;
  std::function<std::optional<double>(const std::string&)> value_;
  size_t i_ = 0;
  bool ok_ = true;
  std::map<std::string, double> used_;
};

}  // namespace

std::optional<ExpectedPasses> expected_passes(const MethodInfo& info, const Request& r) {
  if (r.input.rank() < 1) return std::nullopt;
  auto value = [&](const std::string& name) -> std::optional<double> {
    try {
      if (name == "K" && info.family == "cam") {
        const std::string layer = cam_layer(info, r);
        for (const auto& [tensor, shape] : cam_candidates(*r.function->model(), r.input.shape()))
          if (tensor == layer) return double(shape[1]);
        return std::nullopt;
      }
      const std::string parameter = name == "S" ? "samples" : name;
      for (const Parameter& p : info.parameters)
        if (p.name == parameter) {
          double d = 0;
          if (parse_real(r.options.text(info, parameter), d)) return d;
        }
    } catch (const Error&) {
    }
    return std::nullopt;
  };
  CostParser parser(info.cost, value);
  const std::optional<Linear> cost = parser.parse();
  if (!cost || cost->c != 0 || cost->f < 0 || cost->b < 0) return std::nullopt;
  ExpectedPasses e;
  const double N = double(r.input.dim(0));
  e.forward_rows = int64_t(cost->f * N + 0.5);
  e.backward_rows = int64_t(cost->b * N + 0.5);
  for (const auto& [name, v] : parser.used()) {
    char text[64];
    std::snprintf(text, sizeof text, "%g", v);
    e.values += (e.values.empty() ? "" : ", ") + name + " = " + text;
  }
  return e;
}

}  // namespace gradlens
