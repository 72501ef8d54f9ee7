#include "tools/cli/receipt.h"

#include <omp.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>

#include "engine/error.h"
#include "io/sha256.h"

#ifndef GRADLENS_VERSION
#error "GRADLENS_VERSION must be defined by the build"
#endif
#ifndef GRADLENS_BUILD_TYPE
#define GRADLENS_BUILD_TYPE "unknown"
#endif

namespace gradlens::cli {

namespace {

std::string compiler() {
#if defined(__clang__)
  return std::string("Clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("GCC ") + __VERSION__;
#else
  return "unknown";
#endif
}

// The instruction-set extensions this translation unit (built with the library's flags) targets:
// what decides the float rounding of the vectorised kernels.
std::vector<std::string> isa_flags() {
  std::vector<std::string> f;
#if defined(__x86_64__)
  f.push_back("x86-64");
#elif defined(__aarch64__)
  f.push_back("aarch64");
#endif
#ifdef __SSE2__
  f.push_back("sse2");
#endif
#ifdef __SSE4_2__
  f.push_back("sse4.2");
#endif
#ifdef __AVX__
  f.push_back("avx");
#endif
#ifdef __AVX2__
  f.push_back("avx2");
#endif
#ifdef __FMA__
  f.push_back("fma");
#endif
#ifdef __AVX512F__
  f.push_back("avx512f");
#endif
#ifdef __AVX512DQ__
  f.push_back("avx512dq");
#endif
#ifdef __AVX512BW__
  f.push_back("avx512bw");
#endif
#ifdef __AVX512VL__
  f.push_back("avx512vl");
#endif
#ifdef __ARM_NEON
  f.push_back("neon");
#endif
  return f;
}

// Flags whose values are outputs, not part of what is computed.
const std::set<std::string>& output_flags() {
  static const std::set<std::string> flags = {"json", "out-npy", "out-png", "out"};
  return flags;
}
bool takes_value(const std::string& flag) { return flag != "json"; }

// The arguments that re-make the result: output flags dropped, existing paths made absolute.
std::vector<std::string> rerun_arguments(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) == 0) {
      const std::string name = a.substr(2, a.find('=') == std::string::npos ? std::string::npos : a.find('=') - 2);
      if (output_flags().count(name)) {
        if (a.find('=') == std::string::npos && takes_value(name)) ++i;
        continue;
      }
      out.push_back(a);
      continue;
    }
    std::error_code ec;
    out.push_back(std::filesystem::exists(a, ec) ? std::filesystem::absolute(a).string() : a);
  }
  return out;
}

}  // namespace

std::string receipt_json(const ReceiptInputs& in) {
  Json j;
  j.begin_object();
  write_receipt(j, in);
  j.end_object();
  return j.str();
}

std::string tensor_sha256(const Tensor& t) {
  static_assert(sizeof(float) == 4, "float32");
  Sha256 s;
  s.update(t.data(), sizeof(float) * size_t(t.numel()));
  return s.hex();
}

void write_build(Json& j) {
  j.begin_object().key("version").value(GRADLENS_VERSION).key("compiler").value(compiler());
  j.key("isa").array(isa_flags());
#ifdef GRADLENS_NATIVE_BUILD
  j.key("native").value(bool(GRADLENS_NATIVE_BUILD));
#endif
  j.key("build_type").value(GRADLENS_BUILD_TYPE);
  j.end_object();
}

void write_receipt(Json& j, const ReceiptInputs& in) {
  j.key("receipt").begin_object();
  j.key("gradlens");
  write_build(j);
  j.key("command").value(in.command);
  const std::vector<std::string> arguments = rerun_arguments(in.arguments);
  j.key("arguments").array(arguments);
  // Every file read, hashed: arguments that are regular files (model first), then the rest.
  std::vector<std::string> files;
  for (const std::string& a : arguments) {
    std::error_code ec;
    if (a.rfind("--", 0) != 0 && std::filesystem::is_regular_file(a, ec)) files.push_back(a);
  }
  for (const std::string& f : in.files) files.push_back(std::filesystem::absolute(f).string());
  j.key("files").begin_array();
  std::set<std::string> seen;
  for (const std::string& f : files)
    if (seen.insert(f).second) j.begin_object().key("path").value(f).key("sha256").value(sha256_file(f)).end_object();
  j.end_array();
  if (in.input) {
    j.key("input").begin_object().key("shape").array(in.input->shape().vec());
    j.key("sha256").value(tensor_sha256(*in.input)).end_object();
  }
  if (!in.score.empty()) j.key("score").value(in.score);
  j.key("threads").value(int64_t(omp_get_max_threads()));
  if (!in.explained.empty()) {
    j.key("methods").begin_array();
    for (const ExplainRecord& e : in.explained) {
      const MethodInfo& info = *e.method;
      const Request& r = *e.request;
      j.begin_object().key("method").value(info.name);
      j.key("parameters").begin_object();
      for (const Parameter& p : info.parameters) j.key(p.name).scalar(r.options.text(info, p.name));
      j.end_object();
      j.key("noise").begin_object().key("kind").value(noise_kind_name(e.noise.kind));
      if (e.noise.kind != NoiseKind::none) {
        if (e.noise.noise.empty())
          j.key("samples").value(e.noise.samples).key(e.noise.std >= 0 ? "std" : "level")
              .value(e.noise.std >= 0 ? e.noise.std : e.noise.level).key("seed").value(int64_t(e.noise.seed));
        else
          j.key("draws_sha256").value(tensor_sha256(e.noise.noise));
      }
      j.end_object();
      j.key("targets").array(r.targets);
      if (!r.contrast.empty()) j.key("contrast").array(r.contrast);
      j.key("batch").value(r.batch);
      if (e.attribution) {
        const Tensor& a = *e.attribution;
        double sum = 0, sq = 0, max_abs = 0;
        for (int64_t i = 0; i < a.numel(); ++i) {
          sum += a[i];
          sq += double(a[i]) * a[i];
          max_abs = std::max(max_abs, std::fabs(double(a[i])));
        }
        j.key("result").begin_object().key("shape").array(a.shape().vec()).key("sha256").value(tensor_sha256(a));
        j.key("l2").value(std::sqrt(sq)).key("sum").value(sum).key("max_abs").value(max_abs).end_object();
      }
      j.end_object();
    }
    j.end_array();
  }
  j.end_object();
}

}  // namespace gradlens::cli
