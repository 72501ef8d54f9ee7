// Hand-made hostile input files (issue #17), built byte by byte with the test builders: each is a
// small file that asks gradlens for an absurd size, an overflowing shape, a cycle, an escape from
// the model's folder or a malformed image. test_hostile_inputs.cpp loads each through the library
// and through the CLI (exit 2, one line); tools/hostile_table.sh measures time and memory of the
// CLI runs for the README (the test writes the files to $GRADLENS_HOSTILE_DIR when it is set).
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "onnx_builder.h"

namespace gradlens::test::hostile {

// AttributeProto types (onnx.proto): INT 2, INTS 7.
inline PbWriter int_attribute(const std::string& name, int64_t v) {
  return attribute(name, 2).i64(3, v);
}
inline PbWriter ints_attribute(const std::string& name, const std::vector<int64_t>& v) {
  PbWriter a = attribute(name, 7);
  for (int64_t x : v) a.i64(8, x);
  return a;
}
inline PbWriter int64_tensor(const std::string& name, const std::vector<int64_t>& dims,
                             const std::vector<int64_t>& values) {
  return tensor_proto(name, dims, kInt64).packed_varints(7, values);
}

// A .npy (format 1.0) with dtype `descr` ("<f4", "|u1", ...), this shape and `payload` as its
// data bytes (may be fewer or more than the shape says).
inline std::string npy_raw(const std::string& descr, const std::vector<int64_t>& shape, const std::string& payload) {
  std::string dims;
  for (int64_t d : shape) dims += std::to_string(d) + ",";
  if (shape.size() > 1) dims.pop_back();
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  while ((10 + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY\x01";
  out += '\0';
  out += char(header.size() & 0xff);
  out += char(header.size() >> 8);
  return out + header + payload;
}
// The same for '<f4' `values`.
inline std::string npy_bytes(const std::vector<int64_t>& shape, const std::vector<float>& values) {
  return npy_raw("<f4", shape, std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
}

// Big-endian 32-bit, for PNG chunks.
inline std::string be32(uint32_t v) {
  return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}
// PNG signature + an IHDR chunk (8-bit RGB) declaring width × height, and nothing else.
inline std::string png_header(uint32_t width, uint32_t height) {
  std::string ihdr = "IHDR" + be32(width) + be32(height) + std::string("\x08\x02\x00\x00\x00", 5);
  return std::string("\x89PNG\r\n\x1a\n", 8) + be32(13) + ihdr + be32(0);
}

struct File {
  std::string name;   // path inside the scratch folder
  std::string bytes;
};

struct Case {
  std::string name;                   // short id, the README table's first column
  std::string what;                   // one line: what the file does
  std::vector<File> files;            // written into the folder
  std::vector<File> links;            // symlinks: name → target (relative to the folder)
  std::vector<std::string> command;   // CLI arguments; "@x" is the folder's file x
  int exit_code = 2;                  // 0 for valid (large) files that must load quickly
  std::string expect;                 // part of the one-line error
  int lines = 1;                      // stderr lines (image inputs: the file's line + a summary)
};

// A graph with float input x of `dims` and outputs `outputs`.
inline PbWriter graph_with(const std::vector<PbWriter>& nodes, const std::vector<PbWriter>& inits,
                           const std::vector<int64_t>& x_dims, const std::vector<std::string>& outputs) {
  PbWriter g;
  for (const PbWriter& n : nodes) g.msg(1, n);
  g.str(2, "hostile");
  for (const PbWriter& t : inits) g.msg(5, t);
  if (!x_dims.empty()) g.msg(11, value_info("x", x_dims));
  for (const std::string& o : outputs) g.msg(12, value_info(o, {}));
  return g;
}
inline std::string model(const std::vector<PbWriter>& nodes, const std::vector<PbWriter>& inits,
                         const std::vector<int64_t>& x_dims, const std::vector<std::string>& outputs,
                         int64_t opset = 13) {
  return model_proto(graph_with(nodes, inits, x_dims, outputs), {{"", opset}}).bytes();
}

// A model y = GlobalAveragePool(x) flattened, x [1, 3, 8, 8]: the image cases' model.
inline std::string image_model() {
  return model({node_proto("GlobalAveragePool", {"x"}, {"g"}, "gap"),
                node_proto("Flatten", {"g"}, {"y"}, "flat")},
               {}, {1, 3, 8, 8}, {"y"});
}
// y = Relu(x), x [1, 4]: the .npy cases' model.
inline std::string relu_model() {
  return model({node_proto("Relu", {"x"}, {"y"}, "relu")}, {}, {1, 4}, {"y"});
}

inline std::vector<Case> cases() {
  const int64_t big = int64_t(1) << 62;
  std::vector<Case> all;
  const std::string x4 = npy_bytes({4}, {10, 20, 30, 40});
  const std::string x14 = npy_bytes({1, 4}, {1, 2, 3, 4});

  all.push_back({"dims_2^31x2^31", "initializer declaring dims [2^31, 2^31] (no data)",
                 {{"m.onnx", model({node_proto("Identity", {"w"}, {"y"}, "id")},
                                   {tensor_proto("w", {int64_t(1) << 31, int64_t(1) << 31}, kFloat)},
                                   {}, {"y"})}},
                 {}, {"info", "@m.onnx"}, 2, "more than"});
  all.push_back({"initializer_short", "initializer with dims [1000] holding 2 floats",
                 {{"m.onnx", model({node_proto("Identity", {"w"}, {"y"}, "id")},
                                   {float_tensor("w", {1000}, {1.f, 2.f})}, {}, {"y"})}},
                 {}, {"info", "@m.onnx"}, 2, "holds 2 values"});
  all.push_back({"reshape_wrap", "Reshape [4] → [4, 2^62+1], then Slice (element count wraps int64)",
                 {{"m.onnx", model({node_proto("Reshape", {"x", "s"}, {"r"}, "the_reshape"),
                                    node_proto("Slice", {"r", "b", "e"}, {"y"}, "the_slice")},
                                   {int64_tensor("s", {2}, {4, big + 1}), int64_tensor("b", {1}, {0}),
                                    int64_tensor("e", {1}, {1})},
                                   {4}, {"y"})},
                  {"x.npy", x4}},
                 {}, {"run", "@m.onnx", "@x.npy", "--json"}, 2, "the_reshape"});
  all.push_back({"expand_overflow", "Expand of a constant to [2^40, 2^40] (folded at load)",
                 {{"m.onnx", model({node_proto("Expand", {"c", "s"}, {"y"}, "the_expand")},
                                   {float_tensor("c", {1}, {1.f}),
                                    int64_tensor("s", {2}, {int64_t(1) << 40, int64_t(1) << 40})},
                                   {}, {"y"})}},
                 {}, {"info", "@m.onnx"}, 2, "the_expand"});
  all.push_back({"expand_64GB", "Expand of a constant to [2^13, 2^20] (a 64 GB index map)",
                 {{"m.onnx", model({node_proto("Expand", {"c", "s"}, {"y"}, "the_expand")},
                                   {float_tensor("c", {1}, {1.f}),
                                    int64_tensor("s", {2}, {int64_t(1) << 13, int64_t(1) << 20})},
                                   {}, {"y"})}},
                 {}, {"info", "@m.onnx"}, 2, "memory limit"});
  all.push_back({"constant_of_shape_16GB", "ConstantOfShape [65536, 65536] float (16 GB)",
                 {{"m.onnx", model({node_proto("ConstantOfShape", {"s"}, {"y"}, "the_constant")},
                                   {int64_tensor("s", {2}, {65536, 65536})}, {}, {"y"})}},
                 {}, {"info", "@m.onnx"}, 2, "memory limit"});
  all.push_back({"range_2^40", "Range(0, 2^40, 1) in int64",
                 {{"m.onnx", model({node_proto("Range", {"a", "l", "d"}, {"y"}, "the_range")},
                                   {int64_tensor("a", {}, {0}), int64_tensor("l", {}, {int64_t(1) << 40}),
                                    int64_tensor("d", {}, {1})},
                                   {}, {"y"})}},
                 {}, {"info", "@m.onnx"}, 2, "the_range"});
  all.push_back({"pad_2^31", "Pad of x [1, 4] by 2^31 − 8 at run time (8 GB out, 16 GB map)",
                 {{"m.onnx", model({node_proto("Pad", {"x", "p"}, {"y"}, "the_pad")},
                                   {int64_tensor("p", {4}, {0, 0, 0, (int64_t(1) << 31) - 8})},
                                   {1, 4}, {"y"})},
                  {"x.npy", x14}},
                 {}, {"run", "@m.onnx", "@x.npy", "--json"}, 2, "memory limit"});
  all.push_back({"tile_2^80", "Tile of a [1, 1] constant by [2^40, 2^40]",
                 {{"m.onnx", model({node_proto("Tile", {"c", "r"}, {"y"}, "the_tile")},
                                   {float_tensor("c", {1, 1}, {1.f}),
                                    int64_tensor("r", {2}, {int64_t(1) << 40, int64_t(1) << 40})},
                                   {}, {"y"})}},
                 {}, {"info", "@m.onnx"}, 2, "the_tile"});
  all.push_back({"conv_pads_2^62", "Conv with pads [2^62, 0, 0, 0]",
                 {{"m.onnx", model({node_proto("Conv", {"x", "w"}, {"y"}, "the_conv",
                                               {ints_attribute("pads", {big, 0, 0, 0})})},
                                   {float_tensor("w", {1, 1, 1, 1}, {1.f})}, {1, 1, 4, 4}, {"y"})}},
                 {}, {"info", "@m.onnx"}, 2, "the_conv"});
  all.push_back({"maxpool_dilation_2^62", "MaxPool with dilations [2^62, 1]",
                 {{"m.onnx", model({node_proto("MaxPool", {"x"}, {"y"}, "the_pool",
                                               {ints_attribute("kernel_shape", {2, 2}),
                                                ints_attribute("dilations", {big, 1})})},
                                   {}, {1, 1, 4, 4}, {"y"})}},
                 {}, {"info", "@m.onnx"}, 2, "the_pool"});
  all.push_back({"maxpool_kernel_30000", "valid: MaxPool kernel 30000 × 30000, pads 15000, on x [1, 1, 4, 4]",
                 {{"m.onnx", model({node_proto("MaxPool", {"x"}, {"y"}, "the_pool",
                                               {ints_attribute("kernel_shape", {30000, 30000}),
                                                ints_attribute("pads", {15000, 15000, 15000, 15000})})},
                                   {}, {1, 1, 4, 4}, {"y"})},
                  {"x.npy", npy_bytes({1, 1, 4, 4}, std::vector<float>(16, 1.f))}},
                 {}, {"run", "@m.onnx", "@x.npy", "--json"}, 0, ""});
  all.push_back({"conv_transpose_output_2^40", "ConvTranspose with output_shape [2^40, 2^40]",
                 {{"m.onnx", model({node_proto("ConvTranspose", {"x", "w"}, {"y"}, "the_deconv",
                                               {ints_attribute("output_shape", {int64_t(1) << 40, int64_t(1) << 40})})},
                                   {float_tensor("w", {1, 1, 1, 1}, {1.f})}, {1, 1, 4, 4}, {"y"})}},
                 {}, {"info", "@m.onnx"}, 2, "the_deconv"});
  all.push_back({"cycle", "two nodes feeding each other: Add(x, b) → a, Relu(a) → b",
                 {{"m.onnx", model({node_proto("Add", {"x", "b"}, {"a"}, "the_add"),
                                    node_proto("Relu", {"a"}, {"b"}, "the_relu"),
                                    node_proto("Identity", {"b"}, {"y"}, "after")},
                                   {}, {1, 4}, {"y"})}},
                 {}, {"info", "@m.onnx"}, 2, "on a cycle"});
  {
    std::vector<PbWriter> chain;  // 100,000 Relu nodes, listed last-first
    const int n = 100000;
    for (int i = n - 1; i >= 0; --i)
      chain.push_back(node_proto("Relu", {i ? "t" + std::to_string(i - 1) : "x"},
                                 {i == n - 1 ? "y" : "t" + std::to_string(i)}, "relu" + std::to_string(i)));
    all.push_back({"chain_100000_reversed", "valid: 100,000 Relu nodes listed in reverse order",
                   {{"m.onnx", model(chain, {}, {1, 4}, {"y"})}, {"x.npy", x14}},
                   {}, {"run", "@m.onnx", "@x.npy", "--json"}, 0, ""});
  }
  {
    std::vector<PbWriter> nodes;  // 20,000 outputs, each a Relu of x
    std::vector<std::string> outs;
    for (int i = 0; i < 20000; ++i) {
      outs.push_back("y" + std::to_string(i));
      nodes.push_back(node_proto("Relu", {"x"}, {outs.back()}, "relu" + std::to_string(i)));
    }
    all.push_back({"outputs_20000", "valid: 20,000 graph outputs",
                   {{"m.onnx", model(nodes, {}, {1, 4}, outs)}, {"x.npy", x14}},
                   {}, {"run", "@m.onnx", "@x.npy", "--json"}, 0, ""});
  }
  {
    // External data: a symlink inside the folder pointing outside it, and a '..' location.
    auto external = [](const std::string& location) {
      PbWriter entry;
      entry.str(1, "location").str(2, location);
      PbWriter t = tensor_proto("w", {4}, kFloat);
      t.msg(13, entry).u64(14, 1);
      return model({node_proto("Identity", {"w"}, {"y"}, "id")}, {t}, {}, {"y"});
    };
    all.push_back({"external_symlink", "external data: weights.bin is a symlink to a file outside the folder",
                   {{"outside.bin", std::string(16, 'S')}, {"ext/m.onnx", external("weights.bin")}},
                   {{"ext/weights.bin", "../outside.bin"}}, {"info", "@ext/m.onnx"}, 2, "outside the model's directory"});
    all.push_back({"external_dotdot", "external data location '../outside.bin'",
                   {{"outside.bin", std::string(16, 'S')}, {"ext/m.onnx", external("../outside.bin")}},
                   {}, {"info", "@ext/m.onnx"}, 2, "leaves the model's directory"});
  }
  all.push_back({"npy_10^12", ".npy declaring (1000000, 1000000) float32, 8 bytes of data",
                 {{"m.onnx", relu_model()}, {"x.npy", npy_bytes({1000000, 1000000}, {1.f, 2.f})}},
                 {}, {"run", "@m.onnx", "@x.npy", "--json"}, 2, "x.npy"});
  all.push_back({"png_30000x30000_header", "PNG header declaring 30000 × 30000 (33 bytes)",
                 {{"m.onnx", image_model()}, {"big.png", png_header(30000, 30000)}},
                 {}, {"explain", "@m.onnx", "@big.png", "--method", "saliency", "--json", "--quiet"}, 2, "exceeds the limit", 2});
  {
    // A real 8×8 PNG (stb_image_write output built in the test) would need io/; a PNG whose
    // IDAT is cut: header + IHDR for 8×8 + the first bytes of a zlib stream.
    std::string truncated = png_header(8, 8) + be32(20) + "IDAT" + std::string("\x78\x9c\x63\x60", 4);
    all.push_back({"png_truncated", "PNG cut inside its first IDAT chunk",
                   {{"m.onnx", image_model()}, {"cut.png", truncated}},
                   {}, {"explain", "@m.onnx", "@cut.png", "--method", "saliency", "--json", "--quiet"}, 2, "cut.png", 2});
  }
  {
    std::string gif = "GIF89a";
    gif += std::string("\x20\x4e\x20\x4e\x00\x00\x00", 7);  // 20000 × 20000, no colour table
    all.push_back({"gif_as_png", "GIF header declaring 20000 × 20000, named .png (14 bytes)",
                   {{"m.onnx", image_model()}, {"g.png", gif}},
                   {}, {"explain", "@m.onnx", "@g.png", "--method", "saliency", "--json", "--quiet"}, 2, "not a PNG, JPEG or BMP", 2});
  }
  {
    // JPEG whose DHT table counts sum to 654 codes (stb 2.27 writes past its 257-entry arrays).
    std::string dht = std::string("\x10", 1);  // AC table 0
    const unsigned char counts[16] = {0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 99, 99, 99, 99, 255};
    dht.append(reinterpret_cast<const char*>(counts), 16);
    dht += std::string(654, '\x01');
    const size_t len = dht.size() + 2;
    std::string jpg = std::string("\xFF\xD8\xFF\xC4", 4) + char(len >> 8) + char(len & 0xff) + dht +
                      std::string("\xFF\xD9", 2);
    all.push_back({"jpeg_huffman_654", "JPEG whose Huffman table declares 654 codes (stb #1289)",
                   {{"m.onnx", image_model()}, {"h.jpg", jpg}},
                   {}, {"explain", "@m.onnx", "@h.jpg", "--method", "saliency", "--json", "--quiet"}, 2, "Huffman", 2});
  }
  return all;
}

}  // namespace gradlens::test::hostile
