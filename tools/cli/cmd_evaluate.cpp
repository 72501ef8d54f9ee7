// gradlens evaluate MODEL.onnx INPUT.npy|IMAGE...|FOLDER... (--methods a,b | --attributions A.npy,B.npy)
//   --metrics m1,m2 [--masks M.npy|DIR] [--boxes FILE] [--labels FILE.npy|K1,K2,..] [--target ...]
//   [--out DIR] [--json] [--shard K/N] [--preset ... --size HxW ...]
// Images are preprocessed as explain and compare do (tools/cli/images.h); masks and boxes are in
// the preprocessed inputs' pixels.
// gradlens evaluate --merge DIR... --out DIR [--json]
// gradlens evaluate --list [--json]
// Every metric runs through the library (attribution/metrics); this file only loads, checks and
// writes. All checks happen before anything is written; every output file is written atomically.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

#include "attribution/gradients.h"
#include "attribution/method.h"
#include "attribution/metrics/metric.h"
#include "attribution/metrics/summary.h"
#include "engine/error.h"
#include "engine/number_text.h"
#include "engine/resample.h"
#include "io/atomic_file.h"
#include "io/image.h"
#include "io/npy.h"
#include "tools/cli/args.h"
#include "tools/cli/chunk_monitor.h"
#include "tools/cli/commands.h"
#include "tools/cli/curve_plot.h"
#include "tools/cli/evaluate_report.h"
#include "tools/cli/images.h"
#include "tools/cli/inputs.h"
#include "tools/cli/json.h"
#include "tools/cli/randomization_pictures.h"
#include "tools/cli/text_table.h"

namespace gradlens::cli {

namespace {
namespace fs = std::filesystem;

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

std::vector<Flag> evaluate_flags() {
  std::vector<Flag> flags = {
      {"list", "", "list the metrics with group, paper, formula, cost and parameters", ""},
      {"metrics", "m1,m2,..", "metrics to compute (gradlens evaluate --list)", ""},
      {"methods", "a,b,..", "gradlens methods computing the maps (their default parameters)", ""},
      {"attributions", "A.npy,B.npy,..", "maps made elsewhere, input-shaped or [N,1,H,W], one file per column", ""},
      {"method-options", "K=V,K=V,..", "parameters for the --methods that declare them (e.g. steps=32)", ""},
      {"masks", "M.npy|DIR", "ground-truth masks [N,H,W], or a folder of [H,W] .npy files (sorted by name)", ""},
      {"boxes", "FILE", "ground-truth boxes, one line 'x0 y0 x1 y1' per example (pixels, end exclusive)", ""},
      {"labels", "FILE.npy|K1,K2,..", "true classes (wsl-iou's right-class rule, per-class means)", ""},
      {"target", "auto|K|K1,K2,..", "class explained and scored: argmax, one for all, or one per example", "auto"},
      {"score", "prob|logit|log-prob", "model score the metrics read (methods always explain the logit)", "prob"},
      {"batch", "B", "most rows per forward/backward (fewer when --max-memory says so)", "32"},
      max_memory_flag(),
      {"seed", "S", "random seed of the metrics that sample", "0"},
      {"shard", "K/N", "evaluate examples K, K+N, K+2N, ... (merge the shards with --merge)", ""},
      {"merge", "", "combine the --out folders given as positional arguments into one result", ""},
      {"out", "DIR", "write results.json, per_example.csv, summary.csv, the charts and report.html there", ""},
      {"json", "", "print the results JSON on stdout instead of the table", ""},
      {"quiet", "", "no progress bar", ""},
  };
  std::set<std::string> seen;
  for (const Flag& f : flags) seen.insert(f.name);
  for (const Flag& f : preprocessing_flags())  // image inputs, as explain and compare
    if (seen.insert(f.name).second) flags.push_back(f);
  for (const Metric* m : metrics())
    for (const Parameter& p : m->info().parameters)
      if (seen.insert(p.name).second) flags.push_back({p.name, "VALUE", m->info().name + ": " + p.help, p.fallback});
  return flags;
}

int list_metrics(bool json) {
  if (json) {
    Json j;
    j.begin_array();
    for (const Metric* m : metrics()) {
      const MetricInfo& i = m->info();
      j.begin_object().key("name").value(i.name).key("group").value(i.group).key("paper").value(i.paper);
      j.key("formula").value(i.formula).key("cost").value(i.cost).key("higher_is_better").value(i.higher_is_better);
      j.key("needs_region").value(i.needs_region).key("needs_model").value(i.needs_model);
      j.key("parameters").begin_array();
      for (const Parameter& p : i.parameters)
        j.begin_object().key("name").value(p.name).key("default").value(p.fallback).key("help").value(p.help).end_object();
      j.end_array().end_object();
    }
    j.end_array();
    std::printf("%s\n", j.str().c_str());
    return 0;
  }
  TextTable table({"METRIC", "GROUP", "PAPER", "PASSES", "BETTER", "PARAMETERS (DEFAULT)"});
  TextTable definitions({"METRIC", "DEFINITION (PER EXAMPLE)"});
  for (const Metric* m : metrics()) {
    const MetricInfo& i = m->info();
    std::string params;
    for (const Parameter& p : i.parameters)
      params += (params.empty() ? "--" : " --") + p.name + (p.fallback.empty() ? "" : " " + p.fallback);
    table.add_row({i.name, i.group, i.paper, i.cost, i.higher_is_better ? "higher" : "lower", params});
    definitions.add_row({i.name, i.formula});
  }
  std::printf("%s\n%s\n", table.render().c_str(), definitions.render().c_str());
  std::printf("Passes are forward passes of the model per example and map (0 = the map alone).\n");
  return 0;
}

// [N, H, W] masks from one .npy, or from a folder of [H, W] .npy files sorted by name.
Tensor load_masks(const std::string& path, int64_t N, int64_t H, int64_t W) {
  Tensor masks;
  std::vector<std::string> sources;
  if (fs::is_directory(path)) {
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(path))
      if (e.path().extension() == ".npy") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    GL_CHECK(int64_t(files.size()) == N, "--masks ", path, ": ", files.size(), " mask files for ", N, " examples");
    masks = Tensor(Shape{N, H, W});
    for (int64_t n = 0; n < N; ++n) {
      const Tensor m = read_npy(files[size_t(n)]);
      GL_CHECK(m.numel() == H * W && (m.rank() == 2 || (m.rank() == 3 && m.dim(0) == 1)), "--masks ",
               files[size_t(n)], ": shape ", m.shape().str(), ", expected [", H, ", ", W, "]");
      std::copy(m.data(), m.data() + H * W, masks.data() + n * H * W);
      sources.push_back(files[size_t(n)]);
    }
  } else {
    masks = read_npy(path);
    GL_CHECK(masks.rank() == 3 && masks.dim(0) == N && masks.dim(1) == H && masks.dim(2) == W, "--masks ", path,
             ": shape ", masks.shape().str(), ", expected [", N, ", ", H, ", ", W, "]");
    sources.assign(size_t(N), path);
  }
  for (int64_t n = 0; n < N; ++n) {
    bool any = false;
    for (int64_t i = 0; i < H * W; ++i) {
      const float v = masks[n * H * W + i];
      GL_CHECK(v == 0.0f || v == 1.0f, "--masks ", sources[size_t(n)], ": example ", n, " holds ", v,
               " (masks are 0/1)");
      any = any || v != 0.0f;
    }
    GL_CHECK(any, "--masks ", sources[size_t(n)], ": the mask of example ", n, " is empty");
  }
  return masks;
}

std::vector<Box> load_boxes(const std::string& path, int64_t N, int64_t H, int64_t W) {
  std::ifstream file(path);
  GL_CHECK(file.good(), "--boxes ", path, ": cannot read the file");
  std::vector<Box> boxes;
  std::string line;
  for (int64_t number = 1; std::getline(file, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos || line[0] == '#') continue;
    std::istringstream ss(line);
    Box b;
    std::string rest;
    GL_CHECK(ss >> b.x0 >> b.y0 >> b.x1 >> b.y1 && !(ss >> rest), "--boxes ", path, ":", number,
             ": expected 'x0 y0 x1 y1'");
    GL_CHECK(b.x0 >= 0 && b.y0 >= 0 && b.x1 <= W && b.y1 <= H && b.x0 < b.x1 && b.y0 < b.y1, "--boxes ", path, ":",
             number, ": box is empty or outside the ", W, "x", H, " image");
    boxes.push_back(b);
  }
  GL_CHECK(int64_t(boxes.size()) == N, "--boxes ", path, ": ", boxes.size(), " boxes for ", N, " examples");
  return boxes;
}

std::vector<int64_t> load_labels(const std::string& text, int64_t N) {
  std::vector<int64_t> labels;
  if (ends_with(text, ".npy")) {
    const Tensor t = read_npy(text);
    for (int64_t i = 0; i < t.numel(); ++i) labels.push_back(int64_t(t[i]));
  } else {
    for (const std::string& s : split(text)) {
      int64_t v = 0;
      GL_CHECK(parse_integer(s, v), "--labels: '", s, "' is not a class index");
      labels.push_back(v);
    }
  }
  GL_CHECK(int64_t(labels.size()) == N, "--labels ", text, ": ", labels.size(), " labels for ", N, " examples");
  return labels;
}

// Rows `keep` of t (axis 0).
Tensor take_rows(const Tensor& t, const std::vector<int64_t>& keep) {
  if (t.empty()) return t;
  Shape s = t.shape();
  const int64_t per = t.numel() / s[0];
  s[0] = int64_t(keep.size());
  Tensor out(s);
  for (size_t i = 0; i < keep.size(); ++i)
    std::copy(t.data() + keep[i] * per, t.data() + (keep[i] + 1) * per, out.data() + int64_t(i) * per);
  return out;
}
template <class T>
std::vector<T> take(const std::vector<T>& v, const std::vector<int64_t>& keep) {
  if (v.empty()) return v;
  std::vector<T> out;
  for (int64_t k : keep) out.push_back(v[size_t(k)]);
  return out;
}

// One (method, metric) cell: the per-example values of the examples evaluated.
struct Cell {
  std::string method, metric;
  std::vector<double> values;
  std::map<std::string, std::vector<double>> per_example;
  std::vector<double> curve_x;
  std::vector<std::vector<double>> curves;
  std::map<std::string, Tensor> maps;  // pictures (model-randomization: the first example's steps)
  // The largest chunk (rows) of the chunked passes the cell ran, the method's explanation and the
  // metric's passes together, and its tape bytes; 0 when none ran (given maps, a merge).
  int64_t chunk_rows = 0, tape_bytes = 0;
};

// Everything a run produces; a merge rebuilds it from the shards' per-example rows.
struct Run {
  std::map<std::string, std::string> parameters;  // flag → value (what was run)
  std::vector<std::string> methods, metrics;
  std::vector<int64_t> examples, targets, classes;  // global example index, explained class, class for per-class
  std::vector<Cell> cells;
  int64_t max_memory = 0;  // --max-memory of the run; 0 for a merge of shards
};

std::string number_text(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);  // round-trips, so a merge is exact
  return buf;
}

// per_example.csv: method,metric,quantity,example,target,class,value — everything a merge needs.
std::string per_example_csv(const Run& run) {
  std::string s = "method,metric,quantity,example,target,class,value\n";
  for (const Cell& c : run.cells) {
    auto rows = [&](const std::string& q, const std::vector<double>& v) {
      for (size_t i = 0; i < v.size(); ++i)
        s += c.method + "," + c.metric + "," + q + "," + std::to_string(run.examples[i]) + "," +
             std::to_string(run.targets[i]) + "," + std::to_string(run.classes[i]) + "," + number_text(v[i]) + "\n";
    };
    rows("value", c.values);
    for (const auto& [k, v] : c.per_example) rows(k, v);
    for (size_t p = 0; p < c.curve_x.size(); ++p) {
      std::vector<double> column;
      for (const auto& curve : c.curves) column.push_back(curve[p]);
      rows("curve@" + number_text(c.curve_x[p]), column);
    }
  }
  return s;
}

std::string parameters_text(const Run& run) {
  std::string s;
  for (const auto& [k, v] : run.parameters) s += k + "\t" + v + "\n";
  return s;
}

std::vector<std::pair<std::string, Summary>> summaries(const Cell& c) {
  std::vector<std::pair<std::string, Summary>> out = {{c.metric, summarize(c.values)}};
  for (const std::string& k : metric(c.metric).info().summarised)
    if (c.per_example.count(k)) out.push_back({c.metric + "." + k, summarize(c.per_example.at(k))});
  return out;
}

std::string summary_csv(const Run& run) {
  std::string s = "method,metric,mean,ci95_low,ci95_high,count\n";
  for (const Cell& c : run.cells)
    for (const auto& [name, sm] : summaries(c))
      s += c.method + "," + name + "," + number_text(sm.mean) + "," + number_text(sm.ci_low) + "," +
           number_text(sm.ci_high) + "," + std::to_string(sm.count) + "\n";
  return s;
}

// `memory`: the run's max_memory and each result's chunk_rows and tape_bytes (stdout's --json); the
// results.json file leaves them out, so that a merge of shards gives it byte for byte.
std::string results_json(const Run& run, bool memory = false) {
  Json j;
  j.begin_object().key("parameters").begin_object();
  for (const auto& [k, v] : run.parameters) j.key(k).scalar(v);
  j.end_object();
  j.key("methods").array(run.methods);
  j.key("metrics").begin_array();
  for (const std::string& name : run.metrics) {
    const MetricInfo& i = metric(name).info();
    j.begin_object().key("name").value(i.name).key("paper").value(i.paper).key("formula").value(i.formula);
    j.key("cost").value(i.cost).key("higher_is_better").value(i.higher_is_better).key("parameters").begin_object();
    for (const Parameter& p : i.parameters)
      j.key(p.name).value(run.parameters.count(p.name) ? run.parameters.at(p.name) : p.fallback);
    j.end_object().end_object();
  }
  j.end_array();
  j.key("examples").array(run.examples).key("targets").array(run.targets).key("classes").array(run.classes);
  if (memory && run.max_memory > 0) j.key("max_memory").value(run.max_memory);
  j.key("results").begin_array();
  for (const Cell& c : run.cells) {
    j.begin_object().key("method").value(c.method).key("metric").value(c.metric);
    for (const auto& [name, sm] : summaries(c)) {
      const std::string suffix = name.size() > c.metric.size() ? name.substr(c.metric.size()) : "";
      j.key("mean" + suffix).value(sm.mean).key("ci95" + suffix).array(std::vector<double>{sm.ci_low, sm.ci_high});
    }
    j.key("count").value(int64_t(c.values.size()));
    if (memory && c.chunk_rows > 0) j.key("chunk_rows").value(c.chunk_rows).key("tape_bytes").value(c.tape_bytes);
    j.key("values").array(c.values);
    j.key("per_example").begin_object();
    for (const auto& [k, v] : c.per_example) j.key(k).array(v);
    j.end_object();
    std::map<int64_t, std::vector<double>> by_class;
    for (size_t i = 0; i < c.values.size(); ++i) by_class[run.classes[i]].push_back(c.values[i]);
    j.key("per_class").begin_object();
    for (const auto& [k, v] : by_class) j.key(std::to_string(k)).value(summarize(v).mean);
    j.end_object();
    if (!c.curve_x.empty()) {
      j.key("curve_x").array(c.curve_x).key("curves").begin_array();
      for (const auto& curve : c.curves) j.array(curve);
      j.end_array();
    }
    j.end_object();
  }
  j.end_array().end_object();
  return j.str() + "\n";
}

// Methods × metrics on stdout: "mean [95% CI]" per cell, columns as wide as their cells.
void print_table(const Run& run) {
  std::vector<std::string> columns;
  for (const Cell& c : run.cells)
    for (const auto& [name, sm] : summaries(c))
      if (std::find(columns.begin(), columns.end(), name) == columns.end()) columns.push_back(name);
  std::vector<std::string> header = {"METHOD"};
  header.insert(header.end(), columns.begin(), columns.end());
  TextTable table(header);
  for (size_t k = 1; k < header.size(); ++k) table.align_right(k);
  for (const std::string& m : run.methods) {
    std::vector<std::string> row = {m};
    for (const std::string& col : columns) {
      std::string text = "-";
      for (const Cell& c : run.cells)
        if (c.method == m)
          for (const auto& [name, sm] : summaries(c))
            if (name == col) {
              char buf[96];
              std::snprintf(buf, sizeof buf, "%.4f [%.4f, %.4f]", sm.mean, sm.ci_low, sm.ci_high);
              text = buf;
            }
      row.push_back(text);
    }
    table.add_row(row);
  }
  std::printf("%s(mean [95%% CI] over %zu examples)\n", table.render().c_str(), run.examples.size());
}

std::string randomization_maps_file(const std::string& method) {
  return "model-randomization_" + method + ".npy";
}

// report.html's content: the run's summaries, metric definitions, parameters and charts.
EvaluationReport evaluation_report(const Run& run, std::vector<std::pair<std::string, std::string>> charts) {
  EvaluationReport r;
  r.model = run.parameters.count("model") ? run.parameters.at("model") : "";
  r.input = run.parameters.count("input") ? run.parameters.at("input") : "";
  r.examples = int64_t(run.examples.size());
  r.methods = run.methods;
  for (const std::string& name : run.metrics) {
    const MetricInfo& i = metric(name).info();
    EvaluationMetricInfo m{i.name, i.group, i.paper, i.formula, i.cost, i.higher_is_better, {}};
    for (const Parameter& p : i.parameters)
      m.parameters.push_back({p.name, run.parameters.count(p.name) ? run.parameters.at(p.name) : p.fallback});
    r.metrics.push_back(m);
  }
  for (const Cell& c : run.cells)
    for (const auto& [column, sm] : summaries(c)) {
      if (std::find(r.columns.begin(), r.columns.end(), std::make_pair(column, c.metric)) == r.columns.end())
        r.columns.push_back({column, c.metric});
      r.results[{c.method, column}] = sm;
    }
  r.parameters.assign(run.parameters.begin(), run.parameters.end());
  r.charts = std::move(charts);
  return r;
}

// Every file of --out DIR is staged and appears together (io/atomic_file.h, AtomicDirectory).
void write_outputs(const Run& run, const std::optional<std::string>& out, bool json) {
  const std::string results = results_json(run);
  if (out) {
    AtomicDirectory dir(*out);
    write_file_atomically(dir.path("per_example.csv"), per_example_csv(run));
    write_file_atomically(dir.path("summary.csv"), summary_csv(run));
    write_file_atomically(dir.path("parameters.tsv"), parameters_text(run));
    write_file_atomically(dir.path("results.json"), results);
    // One chart per metric with curves: each method's mean curve over the examples.
    std::vector<std::pair<std::string, std::string>> charts;  // (caption, PNG bytes) for report.html
    for (const std::string& name : run.metrics) {
      std::vector<Series> series;
      std::vector<double> x;
      for (const Cell& c : run.cells) {
        if (c.metric != name || c.curves.empty()) continue;
        x = c.curve_x;
        Series s{c.method, std::vector<double>(c.curve_x.size(), 0.0)};
        for (const auto& curve : c.curves)
          for (size_t k = 0; k < curve.size(); ++k) s.y[k] += curve[k] / double(c.curves.size());
        series.push_back(s);
      }
      if (series.empty()) continue;
      const bool patches = name == "aopc";
      const std::string png = encode_png(
          plot_curves(name + " (mean over " + std::to_string(run.examples.size()) + " examples)",
                      patches ? "patches removed" : "fraction of pixels", "score of the target class", x, series));
      write_file_atomically(dir.path(name + "_curves.png"), png);
      charts.push_back({name + "_curves.png: each method's mean curve", png});
    }
    // model-randomization: the first example's cascading maps (.npy, what a merge copies) and PNGs.
    std::vector<RandomizationColumn> randomized;
    for (const Cell& c : run.cells) {
      if (c.metric != "model-randomization") continue;
      randomized.push_back({c.method, &c.per_example, c.maps.count("cascading") ? c.maps.at("cascading") : Tensor()});
      if (!randomized.back().cascading.empty())
        write_npy(dir.path(randomization_maps_file(c.method)), randomized.back().cascading);
    }
    if (!randomized.empty()) write_randomization_pictures(dir.path("."), randomized, int64_t(run.examples.size()));
    write_file_atomically(dir.path("report.html"), render_evaluation_html(evaluation_report(run, std::move(charts))));
    dir.commit();
  }
  if (json)
    std::printf("%s", results_json(run, true).c_str());
  else
    print_table(run);
}

// Rebuilds a run from shard folders (their parameters.tsv and per_example.csv): the cells'
// per-example values in example order, so the statistics are those of one run over all examples.
Run merge_runs(const std::vector<std::string>& dirs) {
  Run run;
  std::map<int64_t, std::pair<int64_t, int64_t>> example_info;  // example → (target, class)
  std::map<std::tuple<std::string, std::string, std::string>, std::map<int64_t, double>> rows;
  std::string first_dir;  // the shard holding the smallest example (its pictures are the run's)
  int64_t first_example = INT64_MAX;
  for (const std::string& dir : dirs) {
    std::ifstream params(dir + "/parameters.tsv");
    GL_CHECK(params.good(), "--merge ", dir, ": no parameters.tsv (not an evaluate --out folder)");
    std::map<std::string, std::string> p;
    std::string line;
    while (std::getline(params, line)) {
      const size_t tab = line.find('\t');
      GL_CHECK(tab != std::string::npos, "--merge ", dir, "/parameters.tsv: malformed line '", line, "'");
      p[line.substr(0, tab)] = line.substr(tab + 1);
    }
    p.erase("shard");
    if (run.parameters.empty()) run.parameters = p;
    GL_CHECK(p == run.parameters, "--merge ", dir, ": run with other parameters than ", dirs[0]);
    std::ifstream csv(dir + "/per_example.csv");
    GL_CHECK(csv.good(), "--merge ", dir, ": no per_example.csv");
    std::getline(csv, line);
    for (int64_t number = 2; std::getline(csv, line); ++number) {
      std::vector<std::string> f;
      std::stringstream ss(line);
      std::string item;
      while (std::getline(ss, item, ',')) f.push_back(item);
      int64_t example = 0, target = 0, classes = 0;
      double value = 0;
      GL_CHECK(f.size() == 7 && parse_integer(f[3], example) && parse_integer(f[4], target) &&
                   parse_integer(f[5], classes) && parse_any_real(f[6], value),
               "--merge ", dir, "/per_example.csv:", number, ": expected 7 fields (the last four numbers)");
      example_info[example] = {target, classes};
      if (example < first_example) first_example = example, first_dir = dir;
      auto& column = rows[{f[0], f[1], f[2]}];
      GL_CHECK(!column.count(example), "--merge ", dir, ": example ", example, " evaluated twice");
      column[example] = value;
    }
  }
  run.methods = split(run.parameters.at("methods"));
  run.metrics = split(run.parameters.at("metrics"));
  for (const auto& [e, tc] : example_info) {
    run.examples.push_back(e);
    run.targets.push_back(tc.first);
    run.classes.push_back(tc.second);
  }
  for (const std::string& m : run.methods)
    for (const std::string& name : run.metrics) {
      Cell c{m, name, {}, {}, {}, {}, {}, 0, 0};
      const std::string maps = first_dir + "/" + randomization_maps_file(m);
      if (name == "model-randomization" && fs::exists(maps)) c.maps["cascading"] = read_npy(maps);
      std::vector<std::pair<double, std::vector<double>>> curve_points;
      for (const auto& [key, column] : rows) {
        const auto& [method_name, metric_name, quantity] = key;
        if (method_name != m || metric_name != name) continue;
        std::vector<double> v;
        for (int64_t e : run.examples) {
          GL_CHECK(column.count(e), "--merge: example ", e, " is missing for ", m, " / ", name, " / ", quantity);
          v.push_back(column.at(e));
        }
        if (quantity == "value")
          c.values = v;
        else if (quantity.rfind("curve@", 0) == 0) {
          double at = 0;
          GL_CHECK(parse_real(quantity.substr(6), at), "--merge: '", quantity, "' is not curve@NUMBER");
          curve_points.push_back({at, v});
        } else
          c.per_example[quantity] = v;
      }
      std::sort(curve_points.begin(), curve_points.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      if (!curve_points.empty()) {
        c.curves.assign(run.examples.size(), {});
        for (const auto& [x, v] : curve_points) {
          c.curve_x.push_back(x);
          for (size_t i = 0; i < v.size(); ++i) c.curves[i].push_back(v[i]);
        }
      }
      run.cells.push_back(std::move(c));
    }
  return run;
}
}  // namespace

int run_evaluate(const std::vector<std::string>& argv) {
  Args args("evaluate", evaluate_flags(),
            "MODEL.onnx INPUT.npy|IMAGE...|FOLDER... (--methods a,b | --attributions A.npy,..) --metrics m1,m2 | "
            "--merge DIR... | --list");
  if (!args.parse_or_usage(argv)) return 0;
  const auto& pos = args.positional();
  if (args.flag("list")) {
    GL_CHECK(pos.empty(), "--list takes no arguments");
    return list_metrics(args.flag("json"));
  }
  GL_CHECK(args.has("out") || args.flag("json"), "nothing to do: give --out DIR and/or --json");
  if (args.flag("merge")) {
    GL_CHECK(!pos.empty(), "--merge needs the --out folders of the shards");
    const Run run = merge_runs(pos);
    write_outputs(run, args.has("out") ? std::optional<std::string>(args.get("out")) : std::nullopt, args.flag("json"));
    return 0;
  }
  GL_CHECK(pos.size() >= 2, "expected MODEL.onnx and INPUT.npy or images (see gradlens evaluate --help)");
  // One .npy/.pb tensor, or image files and folders preprocessed as explain and compare do.
  const bool tensor_input = is_tensor_input(args, pos);
  GL_CHECK(args.has("metrics"), "--metrics is required (gradlens evaluate --list)");
  GL_CHECK(args.has("methods") != args.has("attributions"), "give either --methods or --attributions");
  Run run;
  run.metrics = split(args.get("metrics"));
  GL_CHECK(!run.metrics.empty(), "--metrics: no metric named");
  std::vector<const Metric*> chosen;
  std::set<std::string> declared;
  for (const std::string& name : run.metrics) {
    chosen.push_back(&metric(name));  // unknown: an Error with the closest names, or all of them
    for (const Parameter& p : chosen.back()->info().parameters) declared.insert(p.name);
    const std::string& group = chosen.back()->info().group;
    GL_CHECK((group != "robustness" && group != "randomisation") || args.has("methods"), "--metrics: '", name,
             "' recomputes maps (of perturbed inputs, other classes or a re-drawn model) and needs --methods, not --attributions");
    if (chosen.back()->info().needs_region)
      GL_CHECK(args.has("masks") || args.has("boxes"), "--metrics: '", name, "' needs --masks or --boxes");
  }
  std::set<std::string> own = {"list", "metrics", "methods", "method-options", "attributions", "masks", "boxes", "labels",
                               "target", "score", "batch", "seed", "shard", "merge", "out", "json", "quiet"};
  for (const Flag& f : preprocessing_flags()) own.insert(f.name);
  for (const Flag& f : evaluate_flags())
    if (!own.count(f.name) && args.has(f.name))
      GL_CHECK(declared.count(f.name), "--", f.name, " does not apply to the metrics ", args.get("metrics"));

  auto model = load_model(pos[0]);
  GL_CHECK(model->graph().inputs.size() == 1, pos[0], ": evaluate supports single-input models");
  Tensor x;
  std::string input_names = pos[1], preprocessing;
  if (tensor_input) {
    x = load_model_input(*model, 0, pos[1]);
  } else {
    const Preprocessing prep = preprocessing_from_args(args, *model);
    preprocessing = prep.describe();
    const ImageBatch images = load_image_batch(expand_image_paths({pos.begin() + 1, pos.end()}), prep, *model, true);
    x = images.input;
    input_names.clear();
    for (const std::string& f : images.files) input_names += (input_names.empty() ? "" : ",") + f;
  }
  const int64_t N = x.dim(0);
  const int64_t H = x.rank() == 4 ? x.dim(2) : 1, W = x.rank() == 4 ? x.dim(3) : x.numel() / N;
  const int64_t batch = args.get_int("batch", 1, 1 << 20);
  const ScoreKind kind = parse_score_kind(args.get("score"));
  ModelFunction scored(*model, kind);
  ModelFunction logits(*model, ScoreKind::logit);

  Tensor masks;
  std::vector<Box> boxes;
  std::vector<int64_t> labels;
  if (args.has("masks")) masks = load_masks(args.get("masks"), N, H, W);
  if (args.has("boxes")) boxes = load_boxes(args.get("boxes"), N, H, W);
  if (args.has("labels")) labels = load_labels(args.get("labels"), N);

  std::vector<int64_t> keep;
  if (args.has("shard")) {
    const std::string s = args.get("shard");
    long long k = -1, n = 0;
    char tail = 0;
    GL_CHECK(std::sscanf(s.c_str(), "%lld/%lld%c", &k, &n, &tail) == 2 && n >= 1 && k >= 0 && k < n,
             "--shard expects K/N with 0 ≤ K < N, got '", s, "'");
    for (int64_t e = k; e < N; e += n) keep.push_back(e);
  } else {
    for (int64_t e = 0; e < N; ++e) keep.push_back(e);
  }

  // Columns: maps made elsewhere (checked now, before any model work) or methods to run.
  std::vector<std::pair<std::string, Tensor>> given;
  if (args.has("attributions")) {
    for (const std::string& file : split(args.get("attributions"))) {
      Tensor a = read_npy(file);
      const bool same = a.shape() == x.shape();
      const bool layer = x.rank() == 4 && a.rank() == 4 && a.dim(0) == N && a.dim(1) == 1 && a.dim(2) == H &&
                         a.dim(3) == W;
      GL_CHECK(same || layer, "--attributions ", file, ": shape ", a.shape().str(), " does not match the inputs ",
               x.shape().str(), " (expected the same, or [", N, ", 1, ", H, ", ", W, "])");
      std::string name = fs::path(file).stem().string();
      for (const auto& [other, t] : given) GL_CHECK(other != name, "--attributions: two files named ", name);
      given.push_back({name, a});
      run.methods.push_back(name);
    }
  } else {
    run.methods = split(args.get("methods"));
    for (const std::string& m : run.methods) method(m);
  }
  // --method-options: each key goes to the methods that declare it; a key none declares is an error.
  std::map<std::string, Options> options_of;  // by method name
  for (const std::string& kv : split(args.get("method-options"))) {
    const size_t eq = kv.find('=');
    GL_CHECK(eq != std::string::npos && eq > 0, "--method-options: expected K=V, got '", kv, "'");
    const std::string key = kv.substr(0, eq);
    bool used = false;
    for (const std::string& m : run.methods)
      for (const Parameter& p : method(m).info().parameters)
        if (p.name == key) options_of[m].set(key, kv.substr(eq + 1)), used = true;
    GL_CHECK(used, "--method-options: no method in --methods has a parameter '", key, "'");
  }

  run.parameters = {{"model", pos[0]}, {"input", input_names}, {"metrics", args.get("metrics")},
                    {"score", args.get("score")}, {"batch", args.get("batch")}, {"seed", args.get("seed")},
                    {"target", args.get("target")}};
  run.parameters["methods"] = [&] {
    std::string s;
    for (const std::string& m : run.methods) s += (s.empty() ? "" : ",") + m;
    return s;
  }();
  for (const char* k : {"attributions", "method-options", "masks", "boxes", "labels", "shard"})
    if (args.has(k)) run.parameters[k] = args.get(k);
  if (!preprocessing.empty()) run.parameters["preprocessing"] = preprocessing;
  for (const std::string& p : declared)
    if (args.has(p)) run.parameters[p] = args.get(p);  // else each metric its own default

  const Tensor xs = take_rows(x, keep);
  const Tensor scores = evaluate_scores(logits, xs, batch);
  // "auto" and one class for all apply to the kept rows; a list names every example's class.
  std::vector<int64_t> targets;
  if (split(args.get("target")).size() > 1)
    targets = take(parse_targets(args.get("target"), Tensor(Shape{N, scores.dim(1)}), "target"), keep);
  else
    targets = parse_targets(args.get("target"), scores, "target");
  run.examples = keep;
  run.targets = targets;
  run.classes = labels.empty() ? targets : take(labels, keep);

  MetricInput base;
  base.function = &scored;
  base.input = xs;
  base.targets = targets;
  base.labels = take(labels, keep);
  base.masks = take_rows(masks, keep);
  base.boxes = take(boxes, keep);
  base.batch = batch;
  base.seed = uint64_t(args.get_int("seed", 0, INT64_MAX));
  base.example_ids = keep;       // draws follow the example, not its place in the shard
  base.map_function = &logits;  // what --methods explain; the recomputing metrics explain it too

  Progress progress("evaluate", int64_t(run.methods.size() * (chosen.size() + 1)), args.flag("quiet"));
  ChunkMonitor monitor("evaluate", &progress, args.flag("quiet"));  // for the methods and the metrics
  ScopedChunkObserver observing(&monitor);
  run.max_memory = max_memory();
  for (size_t c = 0; c < run.methods.size(); ++c) {
    const std::string& name = run.methods[c];
    Tensor a;
    int64_t method_rows = 0, method_tape = 0;
    if (!given.empty()) {
      a = take_rows(given[c].second, keep);
    } else {
      Request r;
      r.function = &logits;
      r.input = xs;
      r.targets = targets;
      r.batch = batch;
      r.options = options_of[name];
      monitor.start_method(name, expected_passes(method(name).info(), r), method(name).info().cost);
      Explanation e = method(name).explain(r);
      method_rows = monitor.chunk_rows(), method_tape = monitor.tape_bytes();
      a = e.attribution;
      if (a.shape() != xs.shape()) {
        GL_CHECK(xs.rank() == 4 && a.rank() == 4 && a.dim(1) == 1, "--methods: '", name, "' gives ",
                 a.shape().str(), " maps, which do not fit the inputs ", xs.shape().str());
        if (a.dim(2) != H || a.dim(3) != W) a = resize(a, H, W, Resample::bilinear);
      }
    }
    progress.step(name);
    for (const Metric* m : chosen) {
      MetricInput in = base;
      in.attribution = a;
      in.method = given.empty() ? &method(name) : nullptr;
      if (in.method) in.method_options = options_of[name];
      for (const Parameter& p : m->info().parameters)
        if (args.has(p.name)) in.options.set(p.name, args.get(p.name));
      monitor.start_method(name + " " + m->info().name);
      MetricResult res = m->evaluate(in);
      run.cells.push_back({name, m->info().name, res.values, res.per_example, res.curve_x, res.curves, res.maps,
                           std::max(method_rows, monitor.chunk_rows()), std::max(method_tape, monitor.tape_bytes())});
      progress.step(name + " " + m->info().name);
    }
  }
  write_outputs(run, args.has("out") ? std::optional<std::string>(args.get("out")) : std::nullopt, args.flag("json"));
  return 0;
}

}  // namespace gradlens::cli
