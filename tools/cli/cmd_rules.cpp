// gradlens rules: the four ReLU backward rules side by side on the foundation's hand-worked
// example (or on numbers the user passes), so a student sees what each rule keeps.
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "engine/error.h"
#include "engine/number_text.h"
#include "engine/ops.h"
#include "tools/cli/args.h"
#include "tools/cli/commands.h"

namespace gradlens::cli {

namespace {
// "1,-1,5;2,-1,-7" -> 2x3 tensor.
Tensor parse_matrix(const std::string& text, const char* flag) {
  std::vector<std::vector<float>> rows;
  std::stringstream rs(text);
  std::string row;
  while (std::getline(rs, row, ';')) {
    std::vector<float> values;
    std::stringstream cs(row);
    std::string cell;
    while (std::getline(cs, cell, ',')) {
      double v = 0;
      GL_CHECK(parse_real(cell, v), "--", flag, ": '", cell, "' is not a number (rows are separated by ';', values by ',')");
      values.push_back(float(v));
    }
    GL_CHECK(!values.empty(), "--", flag, ": empty row");
    GL_CHECK(rows.empty() || values.size() == rows[0].size(), "--", flag,
             ": rows have different lengths");
    rows.push_back(values);
  }
  GL_CHECK(!rows.empty(), "--", flag, " is empty");
  Tensor t(Shape{1, int64_t(rows.size()), int64_t(rows[0].size())});
  for (size_t r = 0; r < rows.size(); ++r)
    for (size_t c = 0; c < rows[0].size(); ++c) t[int64_t(r * rows[0].size() + c)] = rows[r][c];
  return t;
}

void print_blocks(const std::vector<std::string>& titles, const std::vector<Tensor>& blocks) {
  const int64_t R = blocks[0].dim(1), C = blocks[0].dim(2);
  const int width = int(std::max<int64_t>(C * 6, 22)) + 2;
  for (const std::string& t : titles) std::printf("%-*s", width, t.c_str());
  std::printf("\n");
  for (int64_t r = 0; r < R; ++r) {
    for (const Tensor& b : blocks) {
      std::string line;
      for (int64_t c = 0; c < C; ++c) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%6g", double(b[r * C + c]) + 0.0);  // no "-0"
        line += buf;
      }
      std::printf("%-*s", width, line.c_str());
    }
    std::printf("\n");
  }
  std::printf("\n");
}
}  // namespace

int run_rules(const std::vector<std::string>& argv) {
  Args args("rules",
            {{"input", "ROWS", "ReLU input x, rows separated by ';' and values by ','", "1,-1,5;2,-1,-7;-3,2,4"},
             {"grad", "ROWS", "upstream gradient g, same shape", "-2,3,-1;6,-3,1;2,-1,3"},
             {"percentile", "Q", "RectGrad's q (percentile of a*g used as threshold)", "98"}},
            "");
  if (!args.parse_or_usage(argv)) return 0;
  const Tensor x = parse_matrix(args.get("input"), "input");
  const Tensor g = parse_matrix(args.get("grad"), "grad");
  GL_CHECK(x.shape() == g.shape(), "--input is ", x.shape().str(), " but --grad is ",
           g.shape().str());
  const double q = args.get_double("percentile");
  GL_CHECK(q >= 0 && q <= 100, "--percentile must be in [0, 100], got ", q);

  Tape tape;
  Var vx = tape.input(x);
  Var a = relu(vx);
  Tensor ag(x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) ag[i] = a.value()[i] * g[i];
  Tensor sorted = ag.clone();
  const float tau = percentile_inplace(sorted.data(), sorted.numel(), float(q));

  std::vector<Tensor> results;
  for (ReluRule rule : {ReluRule::standard, ReluRule::deconvnet, ReluRule::guided, ReluRule::rectgrad}) {
    GradRules rules;
    rules.relu = rule;
    rules.rectgrad_percentile = float(q);
    tape.backward(a, g, rules);
    results.push_back(tape.grad(vx));
  }
  std::printf("Forward: a = relu(x). Backward: what each rule passes down, given the upstream g.\n\n");
  print_blocks({"x (input)", "a = relu(x)", "g (upstream)", "a*g (importance)"}, {x, a.value().clone(), g, ag});
  char rect[64];
  std::snprintf(rect, sizeof rect, "rectgrad g*[a*g > %g]", double(tau));
  print_blocks({"standard g*[x>0]", "deconvnet max(g,0)", "guided max(g,0)*[x>0]", rect}, results);
  std::printf("rectgrad: tau = %g is the %g-th percentile of a*g (linear interpolation).\n"
              "standard is the true gradient (0 at x = 0); deconvnet ignores x; guided keeps only\n"
              "positive signal through positive inputs; rectgrad keeps units whose importance a*g\n"
              "exceeds tau.\n", double(tau), q);
  return 0;
}

}  // namespace gradlens::cli
