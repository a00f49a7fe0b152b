// `tinygptv <command> ...`: the command table and the one place errors are printed.
// Every command runs with the SIGBUS handler of mapped files installed (a model file
// truncated while in use is a one-line error, mapped_file.h) and with its standard
// descriptors open (a closed one gets /dev/null); an allocation that fails
// (std::bad_alloc) is one line too, never an abort.
#include <fcntl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <vector>

#include "cli/commands.h"
#include "tinygptv/error.h"
#include "tinygptv/kernels.h"
#include "tinygptv/mapped_file.h"
#include "tinygptv/tokenizer.h"

namespace tgv::cli {

namespace {

struct Command {
  const char* name;
  int (*run)(int, char**);
  const char* usage;
};

const Command kCommands[] = {
    {"ask", cmd_ask, "ask --model M --image IMG [options] QUESTION   answer one question about an image"},
    {"chat", cmd_chat, "chat --model M --image IMG [options]            talk about an image (stdin/stdout)"},
    {"dump", cmd_dump, "dump --model M --image IMG --prompt TEXT --out DIR   write every activation as .npy"},
    {"tokenize", cmd_tokenize, "tokenize [--tokenizer DIR] TEXT                 print token ids"},
    {"detokenize", cmd_detokenize, "detokenize [--tokenizer DIR] ID...              print the text"},
    {"image", cmd_image, "image decode|preprocess IN ...                   PIL-exact decoding and preprocessing"},
    {"convert", cmd_convert, "convert --phi2 DIR --vit F --qformer F ... --out M   published checkpoints -> model"},
    {"info", cmd_info, "info --model M                                   tensors and config of a model file"},
    {"bench", cmd_bench, "bench --model M | --random full|tiny [options]   speed of each step beside the machine's limits"},
    {"quantize", cmd_quantize, "quantize IN OUT --dtype q4_0|q4_k|q8_0|... [--pure]   a model file in another dtype"},
    {"quant-report", cmd_quant_report, "quant-report --base B --model Q --image IMG ...   what quantization costs (errors, KL)"},
    {"compare", cmd_compare, "compare REF_DIR OTHER_DIR [--rtol R] [--names GLOB]   two dumps, first layer that differs"},
};

void usage(FILE* f) {
  std::fprintf(f, "usage: tinygptv <command> [options]\n\ncommands:\n");
  for (const auto& c : kCommands) std::fprintf(f, "  %s\n", c.usage);
  std::fprintf(f, "\nglobal: --reference (or TINYGPTV_REFERENCE=1) forces the scalar kernels\n");
}

}  // namespace

int cli_main(int argc, char** argv) {
  set_program_path(argc > 0 ? argv[0] : nullptr);  // where the default tokenizer is looked for
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  install_mapped_file_fault_handler();
  // A standard descriptor that is closed (`tinygptv chat <&-`) would go to the next
  // file opened, and chat would read the model file as questions: /dev/null takes it.
  for (int fd = 0; fd <= 2; fd++)
    if (::fcntl(fd, F_GETFD) < 0 && errno == EBADF) ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
  for (const auto& c : kCommands) {
    if (std::strcmp(argv[1], c.name) != 0) continue;
    // Global switches, accepted anywhere after the command name.
    std::vector<char*> rest;
    for (int i = 2; i < argc; i++) {
      if (!std::strcmp(argv[i], "--reference")) use_reference_kernels(true);
      else rest.push_back(argv[i]);
    }
    rest.push_back(nullptr);
    try {
      return c.run(static_cast<int>(rest.size()) - 1, rest.data());
    } catch (const Error& e) {
      std::fflush(stdout);
      std::fprintf(stderr, "tinygptv %s: error: %s\n", c.name, e.what());
      return 1;
    } catch (const std::bad_alloc&) {
      std::fflush(stdout);
      std::fprintf(stderr, "tinygptv %s: error: out of memory (an allocation failed: the model, image or context needs more memory "
                   "than this machine gave; docs/limits.md)\n", c.name);
      return 1;
    } catch (const std::exception& e) {
      std::fflush(stdout);
      std::fprintf(stderr, "tinygptv %s: error: %s\n", c.name, e.what());
      return 1;
    }
  }
  std::fprintf(stderr, "tinygptv: unknown command '%s' (try 'tinygptv help')\n", argv[1]);
  return 2;
}

}  // namespace tgv::cli
