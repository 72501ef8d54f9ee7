#include "io/onnx.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "engine/error.h"
#include "engine/memory.h"
#include "io/protobuf.h"

namespace gradlens {

namespace fs = std::filesystem;

namespace {

// TensorProto.DataType values from onnx.proto.
enum DataType : int32_t {
  kUndefined = 0, kFloat = 1, kUint8 = 2, kInt8 = 3, kUint16 = 4, kInt16 = 5, kInt32 = 6,
  kInt64 = 7, kString = 8, kBool = 9, kFloat16 = 10, kDouble = 11, kUint32 = 12, kUint64 = 13,
  kBfloat16 = 16,
};

const char* data_type_name(int32_t t) {
  switch (t) {
    case kUndefined: return "UNDEFINED";
    case kFloat: return "FLOAT";
    case kUint8: return "UINT8";
    case kInt8: return "INT8";
    case kUint16: return "UINT16";
    case kInt16: return "INT16";
    case kInt32: return "INT32";
    case kInt64: return "INT64";
    case kString: return "STRING";
    case kBool: return "BOOL";
    case kFloat16: return "FLOAT16";
    case kDouble: return "DOUBLE";
    case kUint32: return "UINT32";
    case kUint64: return "UINT64";
    case 14: return "COMPLEX64";
    case 15: return "COMPLEX128";
    case kBfloat16: return "BFLOAT16";
    default: return "unknown";
  }
}

// Bytes per element of a supported type; 0 when gradlens cannot represent the type.
size_t element_size(int32_t t) {
  switch (t) {
    case kUint8: case kInt8: case kBool: return 1;
    case kUint16: case kInt16: case kFloat16: case kBfloat16: return 2;
    case kFloat: case kInt32: case kUint32: return 4;
    case kInt64: case kUint64: case kDouble: return 8;
    default: return 0;
  }
}

bool is_integer_type(int32_t t) {
  return t != kFloat && t != kFloat16 && t != kBfloat16 && t != kDouble;
}

// Where messages come from and where external data lives.
struct Context {
  std::string source;
  fs::path base_dir;
};

// A TensorProto as read from the wire, before its data are checked and converted.
struct TensorFields {
  std::string name;
  std::vector<int64_t> dims;
  int32_t data_type = kUndefined;
  bool has_data_type = false;
  std::vector<float> float_data;
  std::vector<int64_t> int32_data, int64_data, uint64_data;
  std::vector<double> double_data;
  std::string_view raw_data;
  bool has_raw = false;
  bool has_strings = false;
  int32_t data_location = 0;  // 0 DEFAULT, 1 EXTERNAL
  std::vector<std::pair<std::string, std::string>> external_data;
};

std::pair<std::string, std::string> read_string_entry(pb::Reader r) {
  std::pair<std::string, std::string> kv;
  while (r.next()) {
    if (r.field() == 1) kv.first = r.as_string();
    else if (r.field() == 2) kv.second = r.as_string();
  }
  return kv;
}

void read_tensor_fields(pb::Reader r, TensorFields& t) {
  while (r.next()) {
    switch (r.field()) {
      case 1: r.append_varints(t.dims); break;
      case 2: t.data_type = r.as_int32(); t.has_data_type = true; break;
      case 4: r.append_floats(t.float_data); break;
      case 5: r.append_varints(t.int32_data); break;
      case 6: r.as_bytes(); t.has_strings = true; break;
      case 7: r.append_varints(t.int64_data); break;
      case 8: t.name = r.as_string(); break;
      case 9: t.raw_data = r.as_bytes(); t.has_raw = true; break;
      case 10: r.append_doubles(t.double_data); break;
      case 11: r.append_varints(t.uint64_data); break;
      case 13: t.external_data.push_back(read_string_entry(r.as_message())); break;
      case 14: t.data_location = r.as_int32(); break;
      default: break;  // segment, doc_string, metadata_props, unknown fields
    }
  }
}

uint64_t parse_decimal(const std::string& s, const std::string& what, const Context& ctx) {
  GL_CHECK(!s.empty() && s.size() <= 19 && s.find_first_not_of("0123456789") == std::string::npos,
           ctx.source, ": ", what, ": external data value '", s, "' is not a non-negative integer");
  return std::stoull(s);
}

// Reads [offset, offset + length) of the tensor's external data file, after checking that the
// file holds those bytes and that they are exactly the `want` bytes the dims call for.
std::string read_external(const TensorFields& t, size_t want, const std::string& what,
                          const Context& ctx) {
  std::string location;
  uint64_t offset = 0, length = 0;
  bool has_length = false;
  for (const auto& [key, value] : t.external_data) {
    if (key == "location") location = value;
    else if (key == "offset") offset = parse_decimal(value, what, ctx);
    else if (key == "length") { length = parse_decimal(value, what, ctx); has_length = true; }
  }
  GL_CHECK(!location.empty(), ctx.source, ": ", what, ": external data without a location");
  fs::path rel(location);
  GL_CHECK(rel.is_relative(), ctx.source, ": ", what, ": external data location '", location,
           "' must be relative to the model's directory");
  for (const auto& part : rel)
    GL_CHECK(part != "..", ctx.source, ": ", what, ": external data location '", location,
             "' leaves the model's directory");
  fs::path file = ctx.base_dir / rel;
  std::error_code ec;
  GL_CHECK(fs::is_regular_file(file, ec), ctx.source, ": ", what, ": external data file '",
           file.string(), "' not found");
  // No symlink escape: the file, all links resolved, must lie inside the model's directory.
  const fs::path real_dir = fs::canonical(ctx.base_dir.empty() ? fs::path(".") : fs::path(ctx.base_dir), ec);
  const fs::path real_file = ec ? fs::path() : fs::canonical(file, ec);
  auto inside = [&] {
    auto d = real_dir.begin(), f = real_file.begin();
    for (; d != real_dir.end(); ++d, ++f)
      if (f == real_file.end() || *d != *f) return false;
    return f != real_file.end();
  };
  GL_CHECK(!ec && inside(), ctx.source, ": ", what, ": external data location '", location,
           "' resolves outside the model's directory (to '", real_file.string(), "')");
  uint64_t size = fs::file_size(file, ec);
  GL_CHECK(!ec, ctx.source, ": ", what, ": cannot read the size of '", file.string(), "'");
  GL_CHECK(offset <= size, ctx.source, ": ", what, ": external data offset ", offset,
           " is past the end of '", file.string(), "' (", size, " bytes)");
  if (!has_length) length = size - offset;
  GL_CHECK(length <= size - offset, ctx.source, ": ", what, ": external data [", offset, ", +",
           length, ") runs past the end of '", file.string(), "' (", size, " bytes)");
  GL_CHECK(length == want, ctx.source, ": ", what, ": external data holds ", length,
           " bytes, the dims call for ", want);
  check_memory(int64_t(length), ("external data of " + what).c_str());
  std::ifstream in(real_file, std::ios::binary);
  std::string bytes(size_t(length), '\0');
  in.seekg(std::streamoff(offset));
  in.read(bytes.data(), std::streamsize(length));
  GL_CHECK(in && in.gcount() == std::streamsize(length), ctx.source, ": ", what,
           ": could not read external data from '", file.string(), "'");
  return bytes;
}

// Element i of little-endian raw bytes as double / exact integer.
template <class T>
T load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

double raw_as_double(int32_t type, const char* p) {
  switch (type) {
    case kFloat: return load<float>(p);
    case kDouble: return load<double>(p);
    case kFloat16: return half_to_float(load<uint16_t>(p));
    case kBfloat16: {
      uint32_t bits = uint32_t(load<uint16_t>(p)) << 16;
      float f;
      std::memcpy(&f, &bits, 4);
      return f;
    }
    default: return 0;
  }
}

int64_t raw_as_int(int32_t type, const char* p) {
  switch (type) {
    case kUint8: return load<uint8_t>(p);
    case kInt8: return load<int8_t>(p);
    case kBool: return load<uint8_t>(p) != 0;
    case kUint16: return load<uint16_t>(p);
    case kInt16: return load<int16_t>(p);
    case kInt32: return load<int32_t>(p);
    case kUint32: return load<uint32_t>(p);
    case kInt64: return load<int64_t>(p);
    case kUint64: return int64_t(load<uint64_t>(p));
    default: return 0;
  }
}

// Checks a TensorProto's type, dims and data, then converts it. `what` names the tensor.
Initializer convert_tensor(const TensorFields& t, const std::string& what, const Context& ctx) {
  const int32_t type = t.data_type;
  GL_CHECK(!t.has_strings || type == kString, ctx.source, ": ", what,
           ": string_data in a tensor of type ", data_type_name(type));
  const size_t esize = element_size(type);
  GL_CHECK(esize != 0, ctx.source, ": ", what, ": data type ", data_type_name(type), " (", type,
           ") is not supported");
  GL_CHECK(int(t.dims.size()) <= kMaxRank, ctx.source, ": ", what, ": rank ", t.dims.size(),
           " exceeds ", kMaxRank);
  int64_t numel = 1;
  for (int64_t d : t.dims) {
    GL_CHECK(d >= 0, ctx.source, ": ", what, ": negative dimension ", d);
    GL_CHECK(!__builtin_mul_overflow(numel, d, &numel) && numel <= kMaxTensorElements,
             ctx.source, ": ", what, ": ", t.dims.size(), "-d tensor has more than ",
             kMaxTensorElements, " elements");
  }
  const size_t want_bytes = size_t(numel) * esize;

  // Locate the data and check its size before anything is allocated.
  std::string external;
  std::string_view raw;
  bool use_raw = false;
  if (t.data_location == 1) {
    external = read_external(t, want_bytes, what, ctx);
    raw = external;
    use_raw = true;
  } else if (t.has_raw) {
    GL_CHECK(t.raw_data.size() == want_bytes, ctx.source, ": ", what, ": raw_data holds ",
             t.raw_data.size(), " bytes, the dims call for ", want_bytes, " (", numel, " x ",
             data_type_name(type), ")");
    raw = t.raw_data;
    use_raw = true;
  }
  size_t typed_count = 0;
  if (!use_raw) {
    switch (type) {
      case kFloat: typed_count = t.float_data.size(); break;
      case kDouble: typed_count = t.double_data.size(); break;
      case kInt64: typed_count = t.int64_data.size(); break;
      case kUint32: case kUint64: typed_count = t.uint64_data.size(); break;
      default: typed_count = t.int32_data.size(); break;  // int32, smaller ints, bool, halves
    }
    GL_CHECK(typed_count == size_t(numel), ctx.source, ": ", what, ": holds ", typed_count,
             " values, the dims ", Shape(t.dims).str(), " call for ", numel);
  }

  Shape shape(t.dims);
  if (is_integer_type(type)) {
    std::vector<int64_t> ints(static_cast<size_t>(numel));
    for (size_t i = 0; i < ints.size(); ++i) {
      int64_t v;
      if (use_raw) {
        v = raw_as_int(type, raw.data() + i * esize);
      } else if (type == kInt64) {
        v = t.int64_data[i];
      } else if (type == kUint32 || type == kUint64) {
        v = t.uint64_data[i];
      } else {
        // int32_data holds each value as an int32; narrower types are read back at their width.
        int32_t w = int32_t(uint32_t(t.int32_data[i]));
        switch (type) {
          case kUint8: v = uint8_t(w); break;
          case kInt8: v = int8_t(w); break;
          case kBool: v = w != 0; break;
          case kUint16: v = uint16_t(w); break;
          case kInt16: v = int16_t(w); break;
          default: v = w; break;
        }
      }
      GL_CHECK(!(type == kUint64 && v < 0), ctx.source, ": ", what, ": UINT64 value ",
               uint64_t(v), " does not fit in int64");
      ints[i] = v;
    }
    return Initializer::from_ints(shape, std::move(ints));
  }
  Tensor value(shape);
  for (int64_t i = 0; i < numel; ++i) {
    double v;
    if (use_raw) v = raw_as_double(type, raw.data() + size_t(i) * esize);
    else if (type == kFloat) v = t.float_data[size_t(i)];
    else if (type == kDouble) v = t.double_data[size_t(i)];
    else  // FLOAT16 / BFLOAT16 bits sit in the low 16 bits of an int32_data value
      v = raw_as_double(type, reinterpret_cast<const char*>(&t.int32_data[size_t(i)]));
    value[i] = float(v);
  }
  return Initializer(value);
}

Initializer read_tensor(pb::Reader r, const std::string& what, const Context& ctx) {
  TensorFields t;
  read_tensor_fields(r, t);
  return convert_tensor(t, what, ctx);
}

// ValueInfoProto → name, dims (dim_param or a missing extent → -1) and whether the element type
// is integer.
ValueInfo read_value_info(pb::Reader r, const Context& ctx) {
  ValueInfo info;
  while (r.next()) {
    if (r.field() == 1) {
      info.name = r.as_string();
    } else if (r.field() == 2) {  // TypeProto
      pb::Reader type = r.as_message();
      while (type.next()) {
        if (type.field() != 1) continue;  // only tensor_type carries a shape we use
        pb::Reader tensor_type = type.as_message();
        while (tensor_type.next()) {
          if (tensor_type.field() == 1) {  // elem_type
            const int32_t t = tensor_type.as_int32();
            info.is_integer = t != kUndefined && t != kString && is_integer_type(t);
          }
          if (tensor_type.field() != 2) continue;  // shape
          pb::Reader shape = tensor_type.as_message();
          while (shape.next()) {
            if (shape.field() != 1) continue;  // dim
            pb::Reader dim = shape.as_message();
            int64_t extent = -1;
            while (dim.next()) {
              if (dim.field() == 1) {
                extent = dim.as_int64();
                GL_CHECK(extent >= 0, ctx.source, ": value '", info.name,
                         "': negative dimension ", extent);
              } else if (dim.field() == 2) {
                dim.as_bytes();
                extent = -1;
              }
            }
            info.dims.push_back(extent);
          }
        }
      }
    }
  }
  return info;
}

std::pair<std::string, Attribute> read_attribute(pb::Reader r, const std::string& node,
                                                 const Context& ctx) {
  std::string name, ref_attr_name;
  int32_t type = 0;
  Attribute a;
  bool has_f = false, has_i = false, has_s = false, has_t = false, has_g = false;
  bool has_floats = false, has_ints = false, has_strings = false, has_other = false;
  pb::Reader tensor("", ctx.source);
  while (r.next()) {
    switch (r.field()) {
      case 1: name = r.as_string(); break;
      case 20: type = r.as_int32(); break;
      case 21: ref_attr_name = r.as_string(); break;
      case 2: a.f = r.as_float(); has_f = true; break;
      case 3: a.i = r.as_int64(); has_i = true; break;
      case 4: a.s = r.as_string(); has_s = true; break;
      case 5: tensor = r.as_message(); has_t = true; break;
      case 6: case 11: r.as_bytes(); has_g = true; break;
      case 7: r.append_floats(a.floats); has_floats = true; break;
      case 8: r.append_varints(a.ints); has_ints = true; break;
      case 9: a.strings.push_back(r.as_string()); has_strings = true; break;
      case 10: case 14: case 15: case 22: case 23: r.as_bytes(); has_other = true; break;
      default: break;  // doc_string, unknown fields
    }
  }
  const std::string what = str("node '", node, "' attribute '", name, "'");
  GL_CHECK(!name.empty(), ctx.source, ": node '", node, "': attribute without a name");
  GL_CHECK(ref_attr_name.empty(), ctx.source, ": ", what, ": refers to a function attribute '",
           ref_attr_name, "' (functions are not supported)");
  if (type == 0) {  // IR v1 files carry no type: infer it from the field that is set
    type = has_f ? 1 : has_i ? 2 : has_s ? 3 : has_t ? 4 : has_g ? 5 : has_floats ? 6
         : has_ints ? 7 : has_strings ? 8 : 0;
    if (type == 0 && has_other) type = 9;
  }
  switch (type) {
    case 1: a.type = Attribute::Type::float_; break;
    case 2: a.type = Attribute::Type::int_; break;
    case 3: a.type = Attribute::Type::string; break;
    case 4: {
      GL_CHECK(has_t, ctx.source, ": ", what, ": TENSOR attribute without a tensor");
      Initializer init = read_tensor(tensor, what, ctx);
      a.type = Attribute::Type::tensor;
      a.t = init.value;
      a.ints.clear();
      if (init.is_integer) a.ints = std::move(init.ints);  // exact values of an integer tensor
      break;
    }
    case 5: case 10:
      fail(ctx.source, ": ", what, ": graph attributes (subgraphs) are not supported");
    case 6: a.type = Attribute::Type::floats; break;
    case 7: a.type = Attribute::Type::ints; break;
    case 8: a.type = Attribute::Type::strings; break;
    default:
      fail(ctx.source, ": ", what, ": attribute type ", type, " is not supported");
  }
  return {name, a};
}

NodeDef read_node(pb::Reader r, const Context& ctx) {
  NodeDef node;
  std::vector<pb::Reader> attributes;
  while (r.next()) {
    switch (r.field()) {
      case 1: node.inputs.push_back(r.as_string()); break;
      case 2: node.outputs.push_back(r.as_string()); break;
      case 3: node.name = r.as_string(); break;
      case 4: node.op_type = r.as_string(); break;
      case 5: attributes.push_back(r.as_message()); break;
      case 7: node.domain = r.as_string(); break;
      default: break;
    }
  }
  if (node.name.empty() && !node.outputs.empty()) node.name = node.outputs[0];
  GL_CHECK(!node.op_type.empty(), ctx.source, ": node '", node.name, "' has no op_type");
  for (auto& ar : attributes) {
    auto [name, attribute] = read_attribute(ar, node.name, ctx);
    GL_CHECK(node.attributes.emplace(name, std::move(attribute)).second, ctx.source, ": node '",
             node.name, "': attribute '", name, "' given twice");
  }
  return node;
}

void read_graph(pb::Reader r, Graph& g, std::vector<ValueInfo>& declared_inputs,
                const Context& ctx) {
  while (r.next()) {
    switch (r.field()) {
      case 1: g.nodes.push_back(read_node(r.as_message(), ctx)); break;
      case 2: g.name = r.as_string(); break;
      case 5: {
        TensorFields t;
        read_tensor_fields(r.as_message(), t);
        const std::string what = str("initializer '", t.name, "'");
        GL_CHECK(!t.name.empty(), ctx.source, ": an initializer has no name");
        Initializer init = convert_tensor(t, what, ctx);
        GL_CHECK(g.initializers.emplace(t.name, std::move(init)).second, ctx.source, ": ", what,
                 " is given twice");
        break;
      }
      case 11: declared_inputs.push_back(read_value_info(r.as_message(), ctx)); break;
      case 12: g.outputs.push_back(read_value_info(r.as_message(), ctx)); break;
      case 13: read_value_info(r.as_message(), ctx); break;  // checked; Graph keeps no value_info
      case 15: fail(ctx.source, ": graph '", g.name, "': sparse initializers are not supported");
      default: break;  // doc_string, quantization_annotation, metadata, unknown fields
    }
  }
}

// Wire type each ModelProto field number must have; -1 for numbers ModelProto does not use.
int model_field_wire(uint32_t field) {
  switch (field) {
    case 1: case 5: return int(pb::WireType::varint);                      // ir_version, model_version
    case 2: case 3: case 4: case 6: case 7: case 8: case 14: case 20: case 25: case 26:
      return int(pb::WireType::bytes);                                     // strings and messages
    default: return -1;
  }
}

Graph parse_model(std::string_view bytes, const Context& ctx) {
  GL_CHECK(!bytes.empty(), ctx.source, ": empty file, not an ONNX model");
  pb::Reader r(bytes, ctx.source);
  std::vector<pb::Reader> graphs;
  std::map<std::string, int64_t> opsets;
  try {
    bool first = true;
    while (r.next()) {
      // ONNX writers never give a ModelProto field another wire type, and always start with a
      // ModelProto field: anything else (a PNG, text, a TensorProto) is not a model.
      const int wire = model_field_wire(r.field());
      GL_CHECK(wire == int(r.wire()) || (wire < 0 && !first), ctx.source,
               ": field ", r.field(), " at byte ", r.offset(), " does not belong to a ModelProto");
      first = false;
      if (r.field() == 7) {
        graphs.push_back(r.as_message());
      } else if (r.field() == 8) {
        pb::Reader op = r.as_message();
        std::string domain;
        int64_t version = 0;
        while (op.next()) {
          if (op.field() == 1) domain = op.as_string();
          else if (op.field() == 2) version = op.as_int64();
        }
        opsets[domain == "ai.onnx" ? "" : domain] = version;
      }
    }
  } catch (const Error& e) {
    std::string detail = e.what();
    if (detail.rfind(ctx.source + ": ", 0) == 0) detail = detail.substr(ctx.source.size() + 2);
    fail(ctx.source, ": not an ONNX model, or a corrupt one (", detail, ")");
  }
  GL_CHECK(!graphs.empty(), ctx.source, ": not an ONNX model (no graph)");

  Graph g;
  g.source = ctx.source;
  std::vector<ValueInfo> declared_inputs;
  for (const auto& gr : graphs) read_graph(gr, g, declared_inputs, ctx);
  for (auto& in : declared_inputs)
    if (!g.initializers.count(in.name)) g.inputs.push_back(std::move(in));
  // Files without opset_import predate it and use opset 1.
  const int64_t default_opset = opsets.count("") ? opsets.at("") : 1;
  for (auto& node : g.nodes) {
    const std::string domain = node.domain == "ai.onnx" ? "" : node.domain;
    auto it = opsets.find(domain);
    node.opset = it != opsets.end() ? it->second : default_opset;
  }
  return g;
}

std::string read_file(const std::string& path) {
  std::error_code ec;
  GL_CHECK(fs::exists(path, ec), path, ": no such file");
  GL_CHECK(fs::is_regular_file(path, ec), path, ": not a regular file");
  check_memory(int64_t(fs::file_size(path, ec)), (path + ": reading the file").c_str());
  std::ifstream in(path, std::ios::binary);
  GL_CHECK(in.good(), path, ": cannot open for reading");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  GL_CHECK(!in.bad(), path, ": read error");
  return bytes;
}

std::string parent_dir(const std::string& path) {
  fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

}  // namespace

float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exponent = (h >> 10) & 0x1f;
  uint32_t mantissa = h & 0x3ff;
  uint32_t bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);  // infinity or NaN (payload kept)
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);  // rebias 15 → 127
  } else if (mantissa == 0) {
    bits = sign;  // ±0
  } else {
    // Subnormal half: shift the mantissa up until its leading 1 becomes the implicit bit.
    int e = -1;
    do {
      mantissa <<= 1;
      ++e;
    } while (!(mantissa & 0x400));
    bits = sign | (uint32_t(112 - e) << 23) | ((mantissa & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

Graph load_onnx_buffer(std::string_view bytes, const std::string& base_dir,
                       const std::string& source) {
  return parse_model(bytes, Context{source, fs::path(base_dir)});
}

Graph load_onnx(const std::string& path) {
  const std::string bytes = read_file(path);
  return load_onnx_buffer(bytes, parent_dir(path), path);
}

Initializer read_tensor_pb(const std::string& path, std::string* name) {
  const std::string bytes = read_file(path);
  Context ctx{path, fs::path(parent_dir(path))};
  GL_CHECK(!bytes.empty(), path, ": empty file, not a TensorProto");
  pb::Reader r(bytes, path);
  TensorFields t;
  read_tensor_fields(r, t);
  GL_CHECK(t.has_data_type, path, ": not a TensorProto (no data type)");
  if (name) *name = t.name;
  return convert_tensor(t, str("tensor '", t.name, "'"), ctx);
}

}  // namespace gradlens
