// Test-only builders for ONNX protobuf messages (field numbers from onnx/onnx.proto), on top of
// PbWriter.
#pragma once
#include <string>
#include <vector>

#include "protobuf_writer.h"

namespace gradlens::test {

enum OnnxType : int {
  kFloat = 1, kUint8 = 2, kInt8 = 3, kUint16 = 4, kInt16 = 5, kInt32 = 6, kInt64 = 7,
  kString = 8, kBool = 9, kFloat16 = 10, kDouble = 11, kUint32 = 12, kUint64 = 13, kBfloat16 = 16,
};

// TensorProto header: name (8), dims (1, unpacked), data_type (2). Append the data yourself.
inline PbWriter tensor_proto(const std::string& name, const std::vector<int64_t>& dims, int type) {
  PbWriter t;
  for (int64_t d : dims) t.i64(1, d);
  t.u64(2, uint64_t(type));
  t.str(8, name);
  return t;
}

inline PbWriter float_tensor(const std::string& name, const std::vector<int64_t>& dims,
                             const std::vector<float>& values) {
  return tensor_proto(name, dims, kFloat).packed_floats(4, values);
}

// ValueInfoProto with a tensor type; an extent of -1 is written as the dim_param "N".
inline PbWriter value_info(const std::string& name, const std::vector<int64_t>& dims,
                           int elem_type = kFloat) {
  PbWriter shape;
  for (int64_t d : dims) {
    PbWriter dim;
    if (d < 0) dim.str(2, "N");
    else dim.i64(1, d);
    shape.msg(1, dim);
  }
  PbWriter tensor_type;
  tensor_type.u64(1, uint64_t(elem_type)).msg(2, shape);
  PbWriter type;
  type.msg(1, tensor_type);
  PbWriter v;
  v.str(1, name).msg(2, type);
  return v;
}

inline PbWriter node_proto(const std::string& op, const std::vector<std::string>& inputs,
                           const std::vector<std::string>& outputs, const std::string& name = "",
                           const std::vector<PbWriter>& attributes = {},
                           const std::string& domain = "") {
  PbWriter n;
  for (const auto& s : inputs) n.str(1, s);
  for (const auto& s : outputs) n.str(2, s);
  if (!name.empty()) n.str(3, name);
  n.str(4, op);
  for (const auto& a : attributes) n.msg(5, a);
  if (!domain.empty()) n.str(7, domain);
  return n;
}

// AttributeProto: name (1), type (20) and one value field.
inline PbWriter attribute(const std::string& name, int type) {
  PbWriter a;
  a.str(1, name).u64(20, uint64_t(type));
  return a;
}

struct OpsetId {
  std::string domain;
  int64_t version;
};

inline PbWriter model_proto(const PbWriter& graph, const std::vector<OpsetId>& opsets = {{"", 13}},
                            int64_t ir_version = 8) {
  PbWriter m;
  m.i64(1, ir_version).str(2, "gradlens-test").msg(7, graph);
  for (const auto& o : opsets) {
    PbWriter id;
    if (!o.domain.empty()) id.str(1, o.domain);
    id.i64(2, o.version);
    m.msg(8, id);
  }
  return m;
}

}  // namespace gradlens::test
