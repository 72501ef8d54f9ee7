// Reproducibility receipts: what every --json output and the HTML report record so a result can
// be traced and re-made — the files read with their SHA-256, the input tensor's SHA-256, the
// method with every parameter (defaults included), targets, seeds, thread count, and the gradlens
// version and build (compiler, instruction-set flags). `gradlens verify` re-runs an explain
// receipt and compares the result bitwise.
#pragma once
#include <string>
#include <vector>

#include "attribution/method.h"
#include "attribution/noise.h"
#include "tools/cli/json.h"

namespace gradlens::cli {

// What one method did (explain: one; compare: one per method).
struct ExplainRecord {
  const MethodInfo* method = nullptr;
  const Request* request = nullptr;  // targets, contrast, batch, options as given
  NoiseOptions noise;
  const Tensor* attribution = nullptr;
};

struct ReceiptInputs {
  ReceiptInputs(std::string command_name, std::vector<std::string> command_arguments)
      : command(std::move(command_name)), arguments(std::move(command_arguments)) {}
  std::string command;                 // "explain", "compare", "run", "info", ...
  std::vector<std::string> arguments;  // the command's arguments as given
  std::vector<std::string> files;      // further files read (e.g. images found in folders)
  const Tensor* input = nullptr;       // the tensor the model ran on, when there is one
  std::string score;                   // logit / prob / log-prob, when a method ran
  std::vector<ExplainRecord> explained;
};

// The build this binary is: version, compiler, ISA flags, -march=native or not, build type.
void write_build(Json& j);
// Writes key "receipt" with its object into the open JSON object `j`.
void write_receipt(Json& j, const ReceiptInputs& in);
// {"receipt": {...}} as a JSON document (for the HTML report).
std::string receipt_json(const ReceiptInputs& in);
// SHA-256 of a tensor's float32 values (little-endian bytes, row-major).
std::string tensor_sha256(const Tensor& t);

}  // namespace gradlens::cli
