// The hard edges of `tinygptv chat` and `ask`, on the built executable (TGV_BINARY)
// and the committed tiny model, its stdin and stdout on pipes (docs/limits.md):
//   - end of input, a closed stdin, blank lines: status 0, nothing answered;
//   - invalid UTF-8, a NUL byte, a question too long for the context (in tokens or
//     past 1 MiB, read without being kept): one line on
//     stderr each, and the next question is answered exactly as if they never came;
//   - Ctrl-C during an answer: the answer stops with what it had printed, chat reads
//     the next question; a second Ctrl-C ends the program; ask exits with 130.
//     The child is caught mid-answer deterministically: its stdout pipe holds one
//     page, so it blocks writing once 4096 bytes wait, and the signal comes then;
//   - the model file truncated between turns: one line naming it, status 1.
// Where a process cannot fork (WebAssembly under node: no fork, no signals), a Child
// runs the program once through std::system, with what the test wrote as its stdin,
// when its output is first read: the tests that write everything first still run; the
// two that talk to a running program (Ctrl-C, a file truncated between turns) need
// real processes and say so.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// How long a child may stay silent before the test calls it hung: generous, because
// under an emulator (make cross-test, scalar kernels under qemu) an 1800-token answer
// of the tiny model takes minutes. Not a speed check.
constexpr std::chrono::seconds kHang{900};

const std::string kModel = std::string(TGV_TEST_DATA) + "/models/tiny-pipeline.safetensors";
const std::string kImage = std::string(TGV_TEST_DATA) + "/../../weights/demo/scene.png";

fs::path temp_path(const std::string& tag) {
  static int n = 0;
  return fs::temp_directory_path() / ("tgv_test_chat_edges_" + std::to_string(::getpid()) + "_" + std::to_string(n++) + "_" + tag);
}

std::string read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

enum class Stdin { Pipe, Closed };

// Each argument single-quoted for /bin/sh ('\'' for a quote).
std::string quoted(const std::string& a) {
  std::string q = "'";
  for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Whether this platform can fork a process and signal it.
bool interactive_children() {
  static const bool ok = [] {
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    if (pid < 0) return false;
    ::waitpid(pid, nullptr, 0);
    return true;
  }();
  return ok;
}

// tinygptv with stdin and stdout on pipes (ours: in, out) and stderr to a file.
struct Child {
  pid_t pid = -1;
  int in = -1, out = -1;
  fs::path err = temp_path("stderr");

  // Without fork (batch): the command line, the stdin written so far, the result.
  bool batch = false, stdin_closed_at_start = false, ran = false;
  std::string command, input, output;
  int batch_status = 0;

  Child(const std::vector<std::string>& args, Stdin stdin_mode = Stdin::Pipe, bool one_page_stdout = false) {
    if (!interactive_children()) {
      REQUIRE(!one_page_stdout);
      batch = true;
      stdin_closed_at_start = stdin_mode == Stdin::Closed;
      command = quoted(TGV_BINARY);
      for (const std::string& a : args) command += " " + quoted(a);
      // emscripten's runtime calls a redirected stdin a terminal: no prompts, as on a pipe.
      if (!args.empty() && args[0] == "chat") command += " --no-prompts";
      return;
    }
    int to_child[2], from_child[2];
    REQUIRE(::pipe(to_child) == 0);
    REQUIRE(::pipe(from_child) == 0);
    if (one_page_stdout) REQUIRE(::fcntl(from_child[1], F_SETPIPE_SZ, 4096) == 4096);
    std::vector<std::string> argv_s = {TGV_BINARY};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string err_path = err.string();
    std::fflush(nullptr);
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      if (stdin_mode == Stdin::Closed) ::close(0);
      else ::dup2(to_child[0], 0);
      ::dup2(from_child[1], 1);
      const int e = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(e, 2);
      for (int fd : {to_child[0], to_child[1], from_child[0], from_child[1], e}) ::close(fd);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(to_child[0]);
    ::close(from_child[1]);
    in = to_child[1];
    out = from_child[0];
    if (stdin_mode == Stdin::Closed) close_stdin();
  }
  // batch: runs the program once, stdin from what was written (or closed), stdout and
  // stderr to files.
  void run_batch() {
    if (ran) return;
    ran = true;
    const fs::path in_path = temp_path("stdin"), out_path = temp_path("stdout");
    std::ofstream(in_path, std::ios::binary) << input;
    const std::string cmd = command + (stdin_closed_at_start ? " <&-" : " <" + quoted(in_path.string())) + " >" +
                            quoted(out_path.string()) + " 2>" + quoted(err.string());
    batch_status = std::system(cmd.c_str());
    output = read_text(out_path);
    fs::remove(in_path);
    fs::remove(out_path);
  }
  ~Child() {
    if (batch) {
      fs::remove(err);
      return;
    }
    if (in >= 0) ::close(in);
    if (out >= 0) ::close(out);
    if (pid > 0) {  // a test that failed half-way: do not leave it running
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    fs::remove(err);
  }

  void write(const std::string& text) {
    if (batch) return void(input += text);
    size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(in, text.data() + done, text.size() - done);
      REQUIRE(n > 0);
      done += static_cast<size_t>(n);
    }
  }
  void close_stdin() {
    if (in >= 0) ::close(in);
    in = -1;
  }
  // Reads stdout until `stop(text so far)` or its end; fails after kHang without either.
  std::string read_until(const std::function<bool(const std::string&)>& stop) {
    if (batch) {
      run_batch();
      return output;
    }
    std::string text;
    const auto deadline = std::chrono::steady_clock::now() + kHang;
    char buf[4096];
    while (!stop(text)) {
      if (std::chrono::steady_clock::now() > deadline) FAIL("no end of output after " << kHang.count() << " s");
      pollfd p{out, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = ::read(out, buf, sizeof buf);
      if (n <= 0) break;  // end of its stdout
      text.append(buf, static_cast<size_t>(n));
    }
    return text;
  }
  std::string read_all() {
    return read_until([](const std::string&) { return false; });
  }
  // Waits until its one-page stdout pipe is full: nearly 4096 bytes wait (a write that
  // does not fit whole waits for room) and the count stays put (it is blocked writing).
  void wait_until_stdout_full() {
    const auto deadline = std::chrono::steady_clock::now() + kHang;
    int last = -1, same = 0;
    while (same < 5) {
      if (std::chrono::steady_clock::now() > deadline) FAIL("the answer did not fill the pipe in " << kHang.count() << " s");
      std::this_thread::sleep_for(100ms);
      int n = 0;
      if (::ioctl(out, FIONREAD, &n) != 0) FAIL("FIONREAD failed");
      same = n >= 4096 - 128 && n == last ? same + 1 : 0;
      last = n;
    }
  }
  int wait() {  // the raw waitpid status
    if (batch) {
      run_batch();
      return batch_status;
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    pid = -1;
    return status;
  }
  int exit_code() {
    const int status = wait();
    REQUIRE(WIFEXITED(status));
    return WEXITSTATUS(status);
  }
  std::string stderr_text() const { return read_text(err); }
};

std::vector<std::string> chat_args(int max_tokens, const std::string& model = kModel) {
  return {"chat", "--model", model, "--image", kImage, "--temp", "0", "--max-tokens", std::to_string(max_tokens)};
}

// chat's stdout for `input` on stdin (status 0 required).
std::string chat_output(const std::string& input, int max_tokens) {
  Child c(chat_args(max_tokens));
  c.write(input);
  c.close_stdin();
  const std::string out = c.read_all();
  CAPTURE(c.stderr_text());
  CHECK(c.exit_code() == 0);
  return out;
}

std::string words(int n) {
  std::string s = "Describe";
  for (int i = 0; i < n; i++) s += " word";
  return s;
}

// Length of the common prefix of a and b.
size_t common_prefix(const std::string& a, const std::string& b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) i++;
  return i;
}

}  // namespace

TEST_CASE("chat: end of input, a closed stdin, blank lines: status 0 and nothing answered") {
  for (const Stdin mode : {Stdin::Pipe, Stdin::Closed}) {
    Child c(chat_args(4), mode);
    c.close_stdin();
    CHECK(c.read_all().empty());
    CAPTURE(c.stderr_text());
    CHECK(c.exit_code() == 0);
  }
  CHECK(chat_output("\n   \n\t\r\n\n", 4).empty());
}

TEST_CASE("chat: refused questions are one line each, then the next is answered as if they never came") {
  const std::string reference = chat_output("What is this?\n", 6);
  REQUIRE(!reference.empty());
  Child c(chat_args(6));
  c.write("bad \xff byte\n");
  c.write(std::string("nul \0 byte\n", 11));
  c.write(words(2100) + "\n");
  c.write(std::string(3 << 20, 'a') + "\n");  // 3 MiB in one line: read, not kept
  c.write("What is this?\r\n");  // a CRLF line
  c.close_stdin();
  CHECK(c.read_all() == reference);
  const std::string err = c.stderr_text();
  CAPTURE(err);
  CHECK(c.exit_code() == 0);
  CHECK(err.find("tinygptv chat: error: the question is not valid UTF-8 (at byte 4)\n") != std::string::npos);
  CHECK(err.find("tinygptv chat: error: the question contains a NUL byte (at byte 4)\n") != std::string::npos);
  CHECK(err.find("tinygptv chat: error: the question is too long: this turn's prompt is ") != std::string::npos);
  CHECK(err.find("tinygptv chat: error: the question is 1048577 bytes, more than the 1048576 a question may have") != std::string::npos);
}

TEST_CASE("ask: a blank question, or one too long for the context, is one line and status 1") {
  {
    Child c({"ask", "--model", kModel, "--image", kImage, "   "});
    CHECK(c.read_all().empty());
    CHECK(c.exit_code() == 1);
    CHECK(c.stderr_text().find("tinygptv ask: error: ask: no question given") != std::string::npos);
  }
  {
    Child c({"ask", "--model", kModel, "--image", kImage, words(2100)});
    CHECK(c.read_all().empty());
    CHECK(c.exit_code() == 1);
    CHECK(c.stderr_text().find("tinygptv ask: error: the question is too long") != std::string::npos);
  }
}

TEST_CASE("Ctrl-C during an answer: it stops with what it had printed; chat goes on, ask exits 130; twice ends chat") {
  if (!interactive_children()) {
    MESSAGE("this platform cannot fork or signal a process (WebAssembly under node): checked on the others");
    return;
  }
  const int max_tokens = 1800;
  Child ref({"ask", "--model", kModel, "--image", kImage, "--temp", "0", "--max-tokens", std::to_string(max_tokens), "What is this?"});
  const std::string whole = ref.read_all();  // the answer and "\n"
  REQUIRE(ref.exit_code() == 0);
  REQUIRE(whole.size() > 2 * 4096);  // long enough to be caught in the middle

  SUBCASE("chat: the answer stops, the next question is answered") {
    Child c(chat_args(max_tokens), Stdin::Pipe, /*one_page_stdout*/ true);
    c.write("What is this?\n");
    c.wait_until_stdout_full();
    REQUIRE(::kill(c.pid, SIGINT) == 0);
    c.write("What is this?\n");
    c.close_stdin();
    const std::string out = c.read_all();
    const std::string err = c.stderr_text();
    CAPTURE(err);
    CHECK(c.exit_code() == 0);
    // What it had: the page in the pipe and at most the token being written then.
    const size_t part = common_prefix(out, whole);
    CHECK(part >= 4096 - 128);
    CHECK(part < 4096 + 256);
    REQUIRE(part < out.size());
    CHECK(out[part] == '\n');  // then the line ends
    CHECK(out.substr(part + 1).size() > 4096);  // and the second question got its answer
    CHECK(err.find("(answer stopped: Ctrl-C") != std::string::npos);
  }
  SUBCASE("chat: a second Ctrl-C before the answer has stopped ends the program") {
    Child c(chat_args(max_tokens), Stdin::Pipe, /*one_page_stdout*/ true);
    c.write("What is this?\n");
    c.wait_until_stdout_full();
    REQUIRE(::kill(c.pid, SIGINT) == 0);
    std::this_thread::sleep_for(500ms);  // the first is handled (the child waits on the pipe)
    REQUIRE(::kill(c.pid, SIGINT) == 0);
    c.read_all();
    const int status = c.wait();
    CAPTURE(status);
    CHECK(WIFSIGNALED(status));
    if (WIFSIGNALED(status)) CHECK(WTERMSIG(status) == SIGINT);
  }
  SUBCASE("ask: the answer stops, status 130") {
    Child c({"ask", "--model", kModel, "--image", kImage, "--temp", "0", "--max-tokens", std::to_string(max_tokens), "What is this?"},
            Stdin::Pipe, /*one_page_stdout*/ true);
    c.wait_until_stdout_full();
    REQUIRE(::kill(c.pid, SIGINT) == 0);
    const std::string out = c.read_all();
    CHECK(c.exit_code() == 130);
    const size_t part = common_prefix(out, whole);
    CHECK(part >= 4096 - 128);
    CHECK(part < 4096 + 256);
    CHECK(out.size() <= part + 1);  // the answer so far, then its line's end
    CHECK(out.back() == '\n');
  }
}

TEST_CASE("chat: the model file truncated between turns is one line naming it, status 1") {
  if (!interactive_children()) {
    MESSAGE("this platform cannot fork a process to talk to (WebAssembly under node): checked on the others");
    return;
  }
  const fs::path model = temp_path("model.safetensors");
  fs::copy_file(kModel, model);
  const std::string first = chat_output("What is this?\n", 4);
  REQUIRE(!first.empty());
  Child c(chat_args(4, model.string()));
  c.write("What is this?\n");
  CHECK(c.read_until([&](const std::string& t) { return t.size() >= first.size(); }) == first);  // the first turn is done
  fs::resize_file(model, fs::file_size(model) / 2);
  c.write("And now?\n");
  c.close_stdin();
  c.read_all();
  const std::string err = c.stderr_text();
  CAPTURE(err);
  CHECK(c.exit_code() == 1);
  CHECK(err.find("tinygptv chat: error: " + model.string() + " changed on disk after it was loaded") != std::string::npos);
  fs::remove(model);
}
