// ONNX reader: a ModelProto file → Graph (nodes, initializers, graph inputs and outputs), parsed
// with io/protobuf (no libprotobuf). Tensors are checked before anything is allocated: declared
// sizes must fit kMaxTensorElements and the bytes actually present (in the file or its external
// data file). Every problem is a gradlens::Error naming the file and the tensor, node or attribute.
// Conventions: integer tensors (initializers and tensor attributes such as Constant's `value`)
// keep their exact values (Initializer::ints, Attribute::ints beside Attribute::t); subgraph
// attributes (If/Loop/Scan) are rejected; value_info is checked but not kept; a graph input or
// output without a tensor shape has empty dims.
#pragma once
#include <string>
#include <string_view>

#include "layers/model.h"
#include "layers/node.h"

namespace gradlens {

// Reads an .onnx file; external tensor data is looked up next to it.
Graph load_onnx(const std::string& path);
// Parses a ModelProto held in memory. `source` names it in messages (and becomes Graph::source);
// external data locations are resolved relative to `base_dir`.
Graph load_onnx_buffer(std::string_view bytes, const std::string& base_dir,
                       const std::string& source = "<memory>");

// Reads a file holding one serialized TensorProto (the ONNX backend tests' input_0.pb,
// output_0.pb). When `name` is given it receives the tensor's name.
Initializer read_tensor_pb(const std::string& path, std::string* name = nullptr);

// IEEE half-precision bits → float (subnormals, infinities and NaN included).
float half_to_float(uint16_t bits);

}  // namespace gradlens
