// gradlens axioms MODEL.onnx INPUT.npy | --analytic NAME [INPUT.npy]  --methods A,B,..
//                 [--json] [--out DIR] [--symmetric I,J] [tolerances] [method parameters]
// A methods × axioms table (attribution/axioms/axioms.h; the ONNX model's dummy channel and
// functionally equivalent twins are built in memory): each cell the verdict and the measured
// relative violation; --json prints every check's details; --out DIR writes axioms.txt and
// axioms.json together (AtomicDirectory).
#include <cstdio>
#include <memory>
#include <set>

#include "attribution/axioms/analytic_models.h"
#include "attribution/axioms/axioms.h"
#include "attribution/axioms/dummy_channel.h"
#include "attribution/axioms/twins.h"
#include "attribution/gradients.h"
#include "engine/error.h"
#include "engine/number_text.h"
#include "io/atomic_file.h"
#include "tools/cli/analytic.h"
#include "tools/cli/args.h"
#include "tools/cli/chunk_monitor.h"
#include "tools/cli/commands.h"
#include "tools/cli/inputs.h"
#include "tools/cli/json.h"
#include "tools/cli/method_flags.h"
#include "tools/cli/text_table.h"

namespace gradlens::cli {

namespace {

const char* const kDefaultMethods =
    "gradient,saliency,input-x-gradient,guided-backprop,smoothgrad,integrated-gradients";

std::set<std::string> own_flags() {
  return {"methods", "analytic", "target", "score", "batch", "json", "out", "symmetric", "tolerance",
          "completeness-tolerance", "invariance-tolerance", "sensitivity-features", "sensitivity-seed"};
}

std::vector<Flag> axioms_flags() {
  std::vector<Flag> flags = {
      {"methods", "A,B,..", "methods checked, one row each", kDefaultMethods},
      {"analytic", "NAME|list", "check an analytic model instead of MODEL.onnx (list: the catalogue)", ""},
      {"target", "auto|K|K1,K2,..", "class explained: argmax, one for all, or one per example", "auto"},
      {"score", "logit|prob|log-prob", "ONNX models: score explained", "logit"},
      {"batch", "B", "most rows per forward/backward (fewer when --max-memory says so)", "32"},
      max_memory_flag(),
      {"json", "", "print the table's checks with their details as JSON", ""},
      {"out", "DIR", "write axioms.txt and axioms.json into DIR (together or not at all)", ""},
      {"symmetric", "I,J", "features (flat indices within an example) the model is symmetric in; checked first", ""},
      {"tolerance", "T", "largest relative violation passing linearity and symmetry", "1e-4"},
      {"completeness-tolerance", "T", "largest relative |Σa − Δf| / |Δf| passing completeness", "0.05"},
      {"invariance-tolerance", "T", "largest relative L2 between a twin's and the model's attributions passing", "1e-3"},
      {"sensitivity-features", "K", "features sampled for sensitivity (a)", "8"},
      {"sensitivity-seed", "S", "seed of that sample", "0"},
  };
  append_method_parameter_flags(flags, own_flags());
  return flags;
}

std::vector<const Method*> chosen_methods(const std::string& text) {
  std::vector<const Method*> chosen;
  GL_CHECK(for_each_item(text,
                         [&](const std::string& name) {
                           chosen.push_back(&method(name));
                           return true;
                         }),
           "--methods: expected method names separated by commas, got '", text, "'");
  for (const Method* m : chosen) check_axiom_method(*m);
  return chosen;
}

double positive_double(const Args& args, const std::string& flag) {
  const double v = args.get_double(flag);
  GL_CHECK(v >= 0, "--", flag, " must be non-negative, got ", args.get(flag));
  return v;
}

// What the subject's functions and tensors live in.
struct Subject {
  std::string name;  // model path or "analytic NAME"
  std::unique_ptr<Model> model, dummy_model;
  std::unique_ptr<Function> function_owner, dummy_owner;
  std::vector<std::unique_ptr<Model>> twin_models;
  std::vector<std::unique_ptr<Function>> twin_functions;
  AxiomSubject s;
};

void set_symmetric(const Args& args, Subject& subject) {
  if (!args.has("symmetric")) return;
  std::vector<int64_t> pair;
  const std::string text = args.get("symmetric");
  GL_CHECK(for_each_item(text,
                         [&](const std::string& item) {
                           int64_t v = 0;
                           if (!parse_integer(item, v)) return false;
                           pair.push_back(v);
                           return true;
                         }) &&
               pair.size() == 2,
           "--symmetric: expected two feature indices I,J, got '", text, "'");
  const AxiomSubject& s = subject.s;
  const double defect = symmetry_defect(*s.function, s.input, s.targets, pair[0], pair[1], s.batch);
  GL_CHECK(defect <= 1e-5, "--symmetric ", text, ": the model is not symmetric in these features (the score changes by ",
           defect, " relative when they swap)");
  subject.s.symmetric = pair;
}

void load_analytic(const Args& args, Subject& subject) {
  const AnalyticModel& m = analytic_model(args.get("analytic"));
  subject.name = "analytic " + m.name;
  AxiomSubject& s = subject.s;
  s.function = &m.function;
  s.input = analytic_input(m, args.positional());
  s.targets = parse_targets(args.get("target"), evaluate_scores(m.function, s.input, s.batch), "target");
  if (m.dummy >= 0) {
    s.dummy_function = &m.function, s.dummy_input = s.input, s.dummy_features = {m.dummy};
    s.dummy_note = "feature " + std::to_string(m.dummy) + " of the model";
  } else {
    subject.dummy_owner = with_zero_weight_feature(m.function);
    s.dummy_function = subject.dummy_owner.get();
    s.dummy_input = with_dummy_channel(s.input);  // column d = a copy of column 0
    s.dummy_features = {m.features};
    s.dummy_note = "feature " + std::to_string(m.features) + " added with weight 0";
  }
  s.symmetric = m.symmetric;
  s.partner = &sine_sum_function();
  for (const auto& [description, twin] : m.twins) {
    s.twins.push_back(&twin);
    s.twin_descriptions.push_back(description);
  }
  if (m.twins.empty()) s.twins_note = "the analytic model has no twin";
}

void load_onnx(const Args& args, Subject& subject) {
  const auto& pos = args.positional();
  GL_CHECK(pos.size() == 2, "expected MODEL.onnx and one INPUT.npy (or --analytic NAME; see gradlens axioms --help)");
  GL_CHECK(is_tensor_file(pos[1]), pos[1], ": axioms takes a tensor file (.npy or .pb) as input");
  subject.name = pos[0];
  subject.model = load_model(pos[0]);
  const Model& model = *subject.model;
  GL_CHECK(model.graph().inputs.size() == 1, pos[0], ": axioms supports single-input models; this one has ",
           model.graph().inputs.size());
  const ScoreKind kind = parse_score_kind(args.get("score"));
  subject.function_owner = std::make_unique<ModelFunction>(model, kind);
  AxiomSubject& s = subject.s;
  s.function = subject.function_owner.get();
  s.input = load_model_input(model, 0, pos[1]);
  s.targets = parse_targets(args.get("target"), evaluate_scores(*s.function, s.input, s.batch), "target");
  Graph with_dummy;
  std::string why;
  if (add_dummy_input_channel(model.graph(), with_dummy, why)) {
    subject.dummy_model = std::make_unique<Model>(std::move(with_dummy));
    subject.dummy_owner = std::make_unique<ModelFunction>(*subject.dummy_model, kind);
    s.dummy_function = subject.dummy_owner.get();
    s.dummy_input = with_dummy_channel(s.input);
    std::vector<int64_t> example = s.dummy_input.shape().vec();
    example.erase(example.begin());
    s.dummy_features = dummy_channel_features(example);
    s.dummy_note = "input channel " + std::to_string(example[0] - 1) + " added with zero weights";
  } else {
    s.dummy_note = "no dummy channel: " + why;
  }
  s.partner = &sine_sum_function();
  std::vector<std::string> skipped;
  for (Twin& twin : functional_twins(model.graph(), 0, skipped)) {
    subject.twin_models.push_back(std::make_unique<Model>(std::move(twin.graph)));
    subject.twin_functions.push_back(std::make_unique<ModelFunction>(*subject.twin_models.back(), kind));
    s.twins.push_back(subject.twin_functions.back().get());
    s.twin_descriptions.push_back(twin.description);
  }
  if (s.twins.empty()) {
    s.twins_note = "no twin: no channels run from one linear layer to another through per-channel ops";
    for (const std::string& line : skipped) s.twins_note += "; " + line;
  }
}

std::string cell(const AxiomResult& r) {
  char buf[48];
  switch (r.verdict) {
    case Verdict::pass: std::snprintf(buf, sizeof buf, "pass %.2g", r.violation); break;
    case Verdict::fail: std::snprintf(buf, sizeof buf, "FAIL %.2g", r.violation); break;
    case Verdict::not_claimed: std::snprintf(buf, sizeof buf, "n/c %.2g", r.violation); break;
    case Verdict::not_applicable: return "n/a";
  }
  return buf;
}

struct Results {
  std::vector<const Method*> methods;
  std::vector<std::vector<AxiomResult>> cells;  // [method][axiom]
};

std::string render_table(const Subject& subject, const Results& results) {
  std::vector<std::string> header = {"METHOD"};
  for (const Axiom& a : axioms()) header.push_back(a.name);
  TextTable table(header);
  for (size_t m = 0; m < results.methods.size(); ++m) {
    std::vector<std::string> row = {results.methods[m]->info().name};
    for (const AxiomResult& r : results.cells[m]) row.push_back(cell(r));
    table.add_row(row);
  }
  std::string text = "axioms on " + subject.name + ", input " + subject.s.input.shape().str() + "\n" + table.render();
  text += "\npass/FAIL: verdict and relative violation; n/c: not claimed by the method (measured, not failed); "
          "n/a: does not apply\n";
  // Why checks do not apply, once per distinct reason.
  std::set<std::string> seen;
  for (size_t k = 0; k < axioms().size(); ++k)
    for (size_t m = 0; m < results.methods.size(); ++m) {
      const AxiomResult& r = results.cells[m][k];
      if (r.verdict != Verdict::not_applicable) continue;
      const std::string line = std::string(axioms()[k].name) + " n/a: " + r.detail;
      if (seen.insert(line).second) text += line + "\n";
    }
  return text;
}

std::string results_json(const Subject& subject, const Results& results, const AxiomSettings& settings) {
  Json j;
  j.begin_object().key("subject").value(subject.name);
  j.key("input_shape").array(subject.s.input.shape().vec());
  j.key("targets").array(subject.s.targets);
  j.key("twins").array(subject.s.twin_descriptions);
  j.key("settings").begin_object();
  j.key("tolerance").value(settings.tolerance).key("completeness_tolerance").value(settings.completeness_tolerance);
  j.key("invariance_tolerance").value(settings.invariance_tolerance);
  j.key("sensitivity_features").value(settings.sensitivity_features);
  j.key("sensitivity_seed").value(int64_t(settings.seed));
  j.key("linearity_alpha").value(settings.alpha).key("linearity_beta").value(settings.beta);
  j.end_object();
  j.key("methods").begin_array();
  for (size_t m = 0; m < results.methods.size(); ++m) {
    j.begin_object().key("method").value(results.methods[m]->info().name);
    for (size_t k = 0; k < axioms().size(); ++k) {
      const AxiomResult& r = results.cells[m][k];
      j.key(axioms()[k].name).begin_object();
      j.key("verdict").value(verdict_name(r.verdict)).key("violation").value(r.violation);
      j.key("detail").value(r.detail);
      for (const auto& [name, values] : r.numbers) j.key(name).array(values);
      j.end_object();
    }
    j.end_object();
  }
  j.end_array().end_object();
  return j.str() + "\n";
}

}  // namespace

int run_axioms(const std::vector<std::string>& argv) {
  const std::vector<Flag> flags = axioms_flags();
  Args args("axioms", flags, "MODEL.onnx INPUT.npy | --analytic NAME [INPUT.npy]");
  if (!args.parse_or_usage(argv)) return 0;
  if (args.get("analytic") == "list") {
    GL_CHECK(args.positional().empty(), "--analytic list takes no inputs");
    print_analytic_catalogue();
    return 0;
  }
  const std::vector<const Method*> chosen = chosen_methods(args.get("methods"));
  std::vector<const MethodInfo*> infos;
  for (const Method* m : chosen) infos.push_back(&m->info());
  const MethodFlags given = method_options(args, flags, own_flags(), infos);
  GL_CHECK(given.unused.empty(), "--", given.unused.empty() ? "" : given.unused[0],
           " applies to none of the methods given");

  AxiomSettings settings;
  settings.tolerance = positive_double(args, "tolerance");
  settings.completeness_tolerance = positive_double(args, "completeness-tolerance");
  settings.invariance_tolerance = positive_double(args, "invariance-tolerance");
  settings.sensitivity_features = args.get_int("sensitivity-features", 1, 1 << 20);
  settings.seed = uint64_t(args.get_int("sensitivity-seed", 0, INT64_MAX));

  Subject subject;
  subject.s.batch = args.get_int("batch", 1, 1 << 20);
  if (args.has("analytic")) {
    GL_CHECK(!args.has("score"), "--score applies to ONNX models; an analytic model's scores are its outputs");
    load_analytic(args, subject);
  } else {
    load_onnx(args, subject);
  }
  set_symmetric(args, subject);

  Results results;
  results.methods = chosen;
  for (size_t m = 0; m < chosen.size(); ++m) {
    std::vector<AxiomResult> row;
    for (const Axiom& a : axioms()) {
      try {
        row.push_back(a.check(*chosen[m], given.options[m], subject.s, settings));
      } catch (const Error& e) {
        throw Error("method '" + chosen[m]->info().name + "', axiom " + a.name + ": " + e.what());
      }
    }
    results.cells.push_back(std::move(row));
  }
  const std::string table = render_table(subject, results);
  const std::string json = results_json(subject, results, settings);
  if (args.has("out")) {
    AtomicDirectory dir(args.get("out"));
    write_file_atomically(dir.path("axioms.txt"), table);
    write_file_atomically(dir.path("axioms.json"), json);
    dir.commit();
  }
  std::printf("%s", args.flag("json") ? json.c_str() : table.c_str());
  return 0;
}

}  // namespace gradlens::cli
