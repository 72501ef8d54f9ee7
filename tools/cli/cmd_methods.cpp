// gradlens methods: every implemented method with family, paper, parameters and cost.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "attribution/method.h"
#include "engine/error.h"
#include "tools/cli/args.h"
#include "tools/cli/commands.h"
#include "tools/cli/json.h"
#include "tools/cli/receipt.h"

namespace gradlens::cli {

int run_methods(const std::vector<std::string>& argv) {
  Args args("methods", {{"json", "", "print JSON instead of a table", ""}}, "");
  if (!args.parse_or_usage(argv)) return 0;
  GL_CHECK(args.positional().empty(), "unexpected argument '", args.positional()[0], "'");
  if (args.flag("json")) {
    Json j;
    j.begin_object().key("methods").begin_array();
    for (const Method* m : methods()) {
      const MethodInfo& i = m->info();
      j.begin_object().key("name").value(i.name).key("family").value(i.family);
      j.key("paper").value(i.paper).key("cost").value(i.cost).key("summary").value(i.summary);
      j.key("output").value(!i.output.empty() ? i.output : i.layer_map ? "layer map [N,1,h,w]" : "input-shaped");
      j.key("parameters").begin_array();
      for (const Parameter& p : i.parameters)
        j.begin_object().key("name").value(p.name).key("default").value(p.fallback).key("help").value(p.help).end_object();
      j.end_array().end_object();
    }
    j.end_array();
    write_receipt(j, ReceiptInputs("methods", argv));
    j.end_object();
    std::printf("%s\n", j.str().c_str());
    return 0;
  }
  // Columns padded by code points (names, papers and costs hold UTF-8 such as × and −); each
  // method's parameters follow on an indented line.
  const std::vector<std::string> header = {"METHOD", "FAMILY", "PAPER", "COST/EXAMPLE"};
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> parameters;
  for (const Method* m : methods()) {
    const MethodInfo& i = m->info();
    rows.push_back({i.name, i.family, i.paper, i.cost});
    std::string params;
    for (const Parameter& p : i.parameters) params += (params.empty() ? "--" : " --") + p.name + "=" + p.fallback;
    parameters.push_back(params.empty() ? "(no parameters)" : params);
  }
  auto width = [](const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
  };
  std::vector<size_t> widths(header.size());
  for (size_t c = 0; c < header.size(); ++c) {
    widths[c] = width(header[c]);
    for (const auto& row : rows) widths[c] = std::max(widths[c], width(row[c]));
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(widths[c] - width(row[c]) + 2, ' ');
    }
    std::printf("%s\n", line.c_str());
  };
  print_row(header);
  for (size_t r = 0; r < rows.size(); ++r) {
    print_row(rows[r]);
    std::printf("    %s\n", parameters[r].c_str());
  }
  std::printf("\nF = forward pass, B = backward pass. Any method also runs under --noise "
              "smoothgrad|smoothgrad-sq|vargrad (x --samples).\n");
  return 0;
}

}  // namespace gradlens::cli
