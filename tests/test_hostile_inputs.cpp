// Hostile input (issue #17): the hand-made files of hostile_files.h through the real CLI (exit 2,
// one line on stderr naming the file or node; the two valid large graphs load and run, exit 0);
// checked shape arithmetic (Shape::numel, Reshape, Tile...) as Errors naming the node; the global
// memory limit (engine/memory.h) refusing before allocating and naming the node and the size;
// graph loading (Kahn's algorithm: order, cycles named on the cycle); and the regression inputs
// that fuzzing found (tests/data/hostile/regressions/*), each of which must give an Error (those
// in image-slow/ are valid images whose decode + ImageNet preprocessing must simply answer).
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "cli_runner.h"
#include "engine/error.h"
#include "engine/memory.h"
#include "engine/tape.h"
#include "graph_builder.h"
#include "hostile_files.h"
#include "io/atomic_file.h"
#include "io/image.h"
#include "io/npy.h"
#include "io/onnx.h"
#include "io/preprocess.h"
#include "layers/model.h"
#include "scratch_dir.h"
#include "support.h"

using namespace gradlens;
using namespace gradlens::test;
namespace fs = std::filesystem;

namespace {


// Writes a case's files and links under dir.
void materialise(const hostile::Case& c, const fs::path& dir) {
  for (const hostile::File& f : c.files) {
    fs::create_directories((dir / f.name).parent_path());
    write_file(dir / f.name, f.bytes);
  }
  for (const hostile::File& l : c.links) {
    fs::create_directories((dir / l.name).parent_path());
    fs::create_symlink(l.bytes, dir / l.name);
  }
}

// Restores the memory limit at scope exit.
struct LimitGuard {
  int64_t saved = memory_limit();
  ~LimitGuard() { set_memory_limit(saved); }
};

}  // namespace

TEST_CASE("hostile files: every one exits 2 with one line (the valid large graphs exit 0)") {
  if (!cli_built()) {
    MESSAGE("SKIPPED: the gradlens CLI binary is not built");
    return;
  }
  ScratchDir scratch;
  const char* keep = std::getenv("GRADLENS_HOSTILE_DIR");  // tools/hostile_table.sh
  for (const hostile::Case& c : hostile::cases()) {
    CAPTURE(c.name);
    const fs::path dir = keep ? fs::path(keep) / c.name : scratch.path() / c.name;
    fs::remove_all(dir);
    materialise(c, dir);
    std::vector<std::string> args;
    for (const std::string& a : c.command) args.push_back(a[0] == '@' ? (dir / a.substr(1)).string() : a);
    if (keep) {
      write_file(dir / "command.sh", cli_command(args) + "\n");
      continue;
    }
    const CliRun run = run_cli(scratch, args);
    const std::string& message = run.err;
    CAPTURE(message);
    CHECK(run.exit_code == c.exit_code);
    if (c.exit_code == 2) {
      CHECK(std::count(message.begin(), message.end(), '\n') == c.lines);
      CHECK(contains(message, c.expect));
    } else {
      CHECK(message.empty());
    }
  }
}

TEST_CASE("hostile: shape products that overflow int64 are Errors, never wrapped counts") {
  CHECK(contains(error_of([] { (void)Shape({int64_t(1) << 40, int64_t(1) << 40}).numel(); }), "overflows"));
  CHECK(contains(error_of([] { (void)Shape({4, (int64_t(1) << 62) + 1}).numel(); }), "overflows"));
  CHECK(Shape({0, int64_t(1) << 62, int64_t(1) << 62}).numel() == 0);
  // Through a model: the Reshape names itself, at run time and when folded at load.
  GraphBuilder b;
  b.input("x", {4});
  Graph g = b.build();
  g.initializers["s"] = Initializer::from_ints(Shape{2}, {4, (int64_t(1) << 62) + 1});
  NodeDef n;
  n.name = "the_reshape";
  n.op_type = "Reshape";
  n.inputs = {"x", "s"};
  n.outputs = {"y"};
  g.nodes.push_back(n);
  g.outputs.push_back({"y", {}});
  Model m(g);
  Tape tape;
  CHECK(contains(error_of([&] { m.forward(tape, Tensor(Shape{4}, {10, 20, 30, 40}), false); }), "the_reshape"));
}

TEST_CASE("hostile: the memory limit refuses a tensor before allocating it, naming the node and the size") {
  LimitGuard guard;
  GraphBuilder b;
  b.input("x", {1, 4});
  Graph g = b.build();
  g.initializers["p"] = Initializer::from_ints(Shape{4}, {0, 0, 0, 1 << 22});
  NodeDef n;
  n.name = "the_pad";
  n.op_type = "Pad";
  n.inputs = {"x", "p"};
  n.outputs = {"y"};
  g.nodes.push_back(n);
  g.outputs.push_back({"y", {}});
  Model m(g);
  {
    Tape tape;  // 16 MiB of output (and a 32 MiB index map) fit the default limit
    CHECK(m.forward(tape, Tensor(Shape{1, 4}, {1, 2, 3, 4}), false).shape() == Shape({1, 4 + (1 << 22)}));
  }
  const int64_t before = memory_in_use();
  set_memory_limit(before + (int64_t(16) << 20));
  {
    Tape tape;  // its first 4 MiB arena block fits
    const std::string msg = error_of([&] { m.forward(tape, Tensor(Shape{1, 4}, {1, 2, 3, 4}), false); });
    CHECK(contains(msg, "node 'the_pad' (Pad)"));
    CHECK(contains(msg, "index map for [1,4194308] needs 64"));
    CHECK(contains(msg, "memory limit"));
  }
  CHECK(memory_in_use() == before);  // the tape's blocks were given back
  // Owning tensors count too, and give their bytes back.
  set_memory_limit(before + (int64_t(2) << 20));
  CHECK(contains(error_of([] { Tensor t(Shape{1 << 20}); }), "tensor [1048576] needs 4 MiB"));
  {
    Tensor small(Shape{1000});
    CHECK(memory_in_use() == before + 4032);
  }
  CHECK(memory_in_use() == before);
  CHECK(contains(error_of([] { set_memory_limit(0); }), "positive"));
}

TEST_CASE("hostile: graph loading sorts in file order when possible, reverse chains load, cycles name a node on them") {
  GraphBuilder b;
  b.input("x", {1, 4});
  const std::string r1 = b.node("Relu", {"x"});
  const std::string r2 = b.node("Sigmoid", {r1});
  b.node("Neg", {"x"}, {}, "side");
  const std::string r3 = b.node("Add", {r2, "side"});
  b.output(r3);
  Graph g = b.build();
  std::reverse(g.nodes.begin(), g.nodes.end());
  Model m(g);
  std::vector<std::string> order;
  for (const auto& l : m.layers()) order.push_back(l->node().op_type);
  // Ready nodes go smallest file index first: reversed, "side" (Neg) is listed before Relu.
  CHECK(order == std::vector<std::string>{"Neg", "Relu", "Sigmoid", "Add"});

  // A cycle behind a node: the error names a node on the cycle, not the one downstream of it.
  GraphBuilder c;
  c.input("x", {1, 4});
  c.node("Add", {"x", "b"}, {}, "a");
  c.node("Relu", {"a"}, {}, "b");
  c.node("Sigmoid", {"b"}, {}, "downstream");
  c.output("downstream");
  const std::string msg = error_of([&] { Model bad(c.build()); });
  CHECK(contains(msg, "is on a cycle"));
  CHECK((contains(msg, "node 'a'") || contains(msg, "node 'b'")));
  CHECK(!contains(msg, "downstream"));

  GraphBuilder d;
  d.input("x", {1, 4});
  d.node("Relu", {"nowhere"}, {}, "orphan");
  d.output("orphan");
  CHECK(contains(error_of([&] { Model bad(d.build()); }), "neither produced nor an initializer"));
}

TEST_CASE("hostile: images are recognised by their bytes; sizes are checked before decoding") {
  CHECK(contains(error_of([] { decode_image("GIF89a\x20\x4e\x20\x4e\x00\x00\x00", "g.png"); }),
                 "not a PNG, JPEG or BMP"));
  CHECK(contains(error_of([] { decode_image("P6\n2 2\n255\n............", "p.png"); }), "not a PNG"));
  CHECK(contains(error_of([] { decode_image(hostile::png_header(30000, 30000), "big.png"); }),
                 "exceeds the limit"));
  // 4096 × 4096 passes the pixel limit, not a 1 MiB memory limit.
  LimitGuard guard;
  set_memory_limit(int64_t(1) << 20);
  CHECK(contains(error_of([] { decode_image(hostile::png_header(4096, 4096), "mid.png"); }), "memory limit"));
}

// Inputs that crashed, hung or allocated without bound before (issue #17's findings, and what
// fuzzing finds from now on): each must be refused with an Error.
TEST_CASE("hostile: regression inputs give an Error, never a crash") {
  const fs::path root = fs::path(GRADLENS_TEST_DATA) / "hostile" / "regressions";
  LimitGuard guard;
  set_memory_limit(int64_t(1) << 30);
  int replayed = 0;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    const std::string path = e.path().string(), kind = e.path().parent_path().filename().string();
    CAPTURE(path);
    const std::string bytes = slurp(e.path());
    bool answered = false;  // by an Error; image-slow/ files may also answer with a result
    try {
      if (kind == "onnx") {
        Model m(load_onnx_buffer(bytes, root.string(), path));
        if (m.graph().inputs.size() == 1) {
          Shape s;
          for (int64_t d : m.graph().inputs[0].dims) s.push_back(d < 0 ? 1 : std::min<int64_t>(d, 8));
          Tape tape;
          (void)m.forward(tape, Tensor(s, 0.5f), false);
        }
      } else if (kind == "npy") {
        const fs::path tmp = fs::temp_directory_path() / ("gradlens_regression_" + std::to_string(getpid()) + ".npy");
        write_file(tmp, bytes);
        try {
          (void)read_npy(tmp.string());
        } catch (...) {
          fs::remove(tmp);
          throw;
        }
        fs::remove(tmp);
      } else if (kind == "image") {
        (void)decode_image(bytes, path);
      } else if (kind == "image-slow") {
        // Valid but huge for their bytes: decoding and ImageNet preprocessing must answer (a
        // result or an Error) at the cost of the 224 × 224 crop, not of the full resize.
        const Tensor image = decode_image(bytes, path);
        const PreparedImage p = prepare_image(image, preset_preprocessing("imagenet", 3, 0, 0), path);
        CHECK(p.input.shape() == Shape{3, 224, 224});
        answered = true;
      }
    } catch (const Error&) {
      answered = true;
    }
    CHECK(answered);
    ++replayed;
  }
  CHECK(replayed >= 10);
}

TEST_CASE("hostile: output sets appear whole or not at all (AtomicFileSet, AtomicDirectory)") {
  ScratchDir scratch;
  const fs::path a = scratch.path() / "a.npy", b = scratch.path() / "missing" / "b.png";
  {
    AtomicFileSet files;
    write_npy(files.stage(a.string()), Tensor(Shape{2}, {1.f, 2.f}));
    CHECK(contains(error_of([&] { write_file_atomically(files.stage(b.string()), "x"); }), "b.png"));
  }  // not committed: the staged a.npy is gone and a.npy never appeared
  CHECK(fs::is_empty(scratch.path()));
  {
    AtomicFileSet files;
    write_npy(files.stage(a.string()), Tensor(Shape{2}, {1.f, 2.f}));
    files.commit();
  }
  CHECK(read_npy(a.string()).shape() == Shape{2});

  const fs::path dir = scratch.path() / "out";
  {
    AtomicDirectory staged(dir.string());
    write_file_atomically(staged.path("one.txt"), "1");
  }  // an error before commit: nothing
  CHECK(!fs::exists(dir));
  CHECK(std::distance(fs::directory_iterator(scratch.path()), fs::directory_iterator()) == 1);  // a.npy
  {
    AtomicDirectory staged(dir.string());
    write_file_atomically(staged.path("one.txt"), "1");
    write_file_atomically(staged.path("two.txt"), "2");
    staged.commit();
  }
  CHECK(slurp(dir / "two.txt") == "2");
  {  // into an existing folder: its other files stay, ours are replaced
    write_file(dir / "mine.txt", "m");
    AtomicDirectory staged(dir.string());
    write_file_atomically(staged.path("one.txt"), "new");
    staged.commit();
  }
  CHECK(slurp(dir / "one.txt") == "new");
  CHECK(slurp(dir / "mine.txt") == "m");
  CHECK(std::distance(fs::directory_iterator(scratch.path()), fs::directory_iterator()) == 2);  // no staging left
}
