#include "io/atomic_file.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "engine/error.h"

namespace gradlens {

namespace fs = std::filesystem;

namespace {

// Paths of temporaries in progress, readable from a signal handler: fixed slots, each published
// by an atomic flag after its text is written.
constexpr int kSlots = 64;
constexpr size_t kPathMax = 4096;
char g_paths[kSlots][kPathMax];
std::atomic<int> g_state[kSlots];  // 0 free, 1 file, 2 folder
std::mutex g_slot_mutex;
struct sigaction g_previous[3];
const int kSignals[3] = {SIGINT, SIGTERM, SIGHUP};

void remove_folder(const char* path) {  // one level: staging folders hold only files
  if (DIR* d = opendir(path)) {
    char child[kPathMax];
    while (dirent* e = readdir(d)) {
      if (!std::strcmp(e->d_name, ".") || !std::strcmp(e->d_name, "..")) continue;
      if (std::snprintf(child, sizeof child, "%s/%s", path, e->d_name) < int(sizeof child)) unlink(child);
    }
    closedir(d);
  }
  rmdir(path);
}

void on_signal(int sig) {
  for (int i = 0; i < kSlots; ++i) {
    const int state = g_state[i].load();
    if (state == 1) unlink(g_paths[i]);
    if (state == 2) remove_folder(g_paths[i]);
  }
  for (int k = 0; k < 3; ++k)
    if (kSignals[k] == sig) sigaction(sig, &g_previous[k], nullptr);
  raise(sig);
}

void install_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (int k = 0; k < 3; ++k) {
      struct sigaction action {};
      action.sa_handler = on_signal;
      sigemptyset(&action.sa_mask);
      sigaction(kSignals[k], &action, &g_previous[k]);
      // Keep an ignored signal ignored (nohup).
      if (g_previous[k].sa_handler == SIG_IGN) sigaction(kSignals[k], &g_previous[k], nullptr);
    }
  });
}

// Registers a temporary (kind 1 file, 2 folder); -1 when every slot is taken (then only the
// ordinary exit paths clean it).
int track(const std::string& path, int kind) {
  install_handlers();
  if (path.size() >= kPathMax) return -1;
  std::lock_guard<std::mutex> lock(g_slot_mutex);
  for (int i = 0; i < kSlots; ++i) {
    if (g_state[i].load() != 0) continue;
    std::memcpy(g_paths[i], path.c_str(), path.size() + 1);
    g_state[i].store(kind);
    return i;
  }
  return -1;
}

void untrack(int slot) {
  if (slot >= 0) g_state[slot].store(0);
}

std::string temporary_name(const std::string& path) { return path + ".tmp." + std::to_string(getpid()); }

}  // namespace

void write_file_atomically(const std::string& path, const std::vector<ByteChunk>& chunks) {
  const std::string tmp = temporary_name(path);
  const int slot = track(tmp, 1);
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) {
    const int open_errno = errno;
    untrack(slot);
    fail(path, ": cannot write (", std::strerror(open_errno), ")");
  }
  bool ok = true;
  for (const ByteChunk& c : chunks) ok = ok && (c.size == 0 || std::fwrite(c.data, 1, c.size, f) == c.size);
  ok = std::fflush(f) == 0 && ok;
  const int write_errno = errno;
  ok = std::fclose(f) == 0 && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    untrack(slot);
    fail(path, ": write failed (", std::strerror(write_errno), ")");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int rename_errno = errno;
    std::remove(tmp.c_str());
    untrack(slot);
    fail(path, ": cannot replace the file (", std::strerror(rename_errno), ")");
  }
  untrack(slot);
}

// --- AtomicFileSet ---------------------------------------------------------------------------

std::string AtomicFileSet::stage(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  std::error_code ec;
  GL_CHECK(parent.empty() || fs::is_directory(parent, ec), path, ": the folder ", parent.string(),
           " does not exist");
  const std::string tmp = path + ".staged." + std::to_string(getpid());
  staged_.emplace_back(tmp, path);
  slots_.push_back(track(tmp, 1));
  return tmp;
}

void AtomicFileSet::commit() {
  for (const auto& [tmp, path] : staged_)
    GL_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, path, ": cannot move the file into place (",
             std::strerror(errno), ")");
  staged_.clear();
  for (int s : slots_) untrack(s);
  slots_.clear();
}

AtomicFileSet::~AtomicFileSet() {
  for (const auto& entry : staged_) std::remove(entry.first.c_str());
  for (int s : slots_) untrack(s);
}

// --- AtomicDirectory -------------------------------------------------------------------------

AtomicDirectory::AtomicDirectory(std::string dir) : dir_(std::move(dir)) {
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
  const fs::path target(dir_);
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(parent, ec);
  GL_CHECK(!ec, dir_, ": cannot create the parent folder (", ec.message(), ")");
  GL_CHECK(!fs::exists(target, ec) || fs::is_directory(target, ec), dir_, ": exists and is not a folder");
  staging_ = (parent / ("." + target.filename().string() + ".tmp." + std::to_string(getpid()))).string();
  fs::remove_all(staging_, ec);
  fs::create_directory(staging_, ec);
  GL_CHECK(!ec, dir_, ": cannot create a staging folder beside it (", ec.message(), ")");
  slot_ = track(staging_, 2);
}

void AtomicDirectory::commit() {
  std::error_code ec;
  if (!fs::exists(dir_, ec) && std::rename(staging_.c_str(), dir_.c_str()) == 0) {
    committed_ = true;
    untrack(slot_);
    return;
  }
  // DIR exists (perhaps with other files): every staged file is complete; move them in.
  fs::create_directories(dir_, ec);
  GL_CHECK(!ec, dir_, ": cannot create directory (", ec.message(), ")");
  for (const auto& entry : fs::directory_iterator(staging_)) {
    const fs::path to = fs::path(dir_) / entry.path().filename();
    fs::rename(entry.path(), to, ec);
    GL_CHECK(!ec, to.string(), ": cannot move the file into place (", ec.message(), ")");
  }
  fs::remove(staging_, ec);
  committed_ = true;
  untrack(slot_);
}

AtomicDirectory::~AtomicDirectory() {
  if (!committed_) {
    std::error_code ec;
    fs::remove_all(staging_, ec);
  }
  untrack(slot_);
}

}  // namespace gradlens
