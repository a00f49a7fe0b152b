// The subcommands of `tinygptv`, one file each (src/cli/cmd_<name>.cpp).
// Each takes the arguments after its name, returns the exit code, and may throw
// tgv::Error, which cli_main prints as one line before exiting with status 1.
#pragma once

namespace tgv::cli {

int cmd_ask(int argc, char** argv);         // image + question -> answer (cmd_ask.cpp)
int cmd_chat(int argc, char** argv);        // multi-turn chat about one image (cmd_ask.cpp)
int cmd_dump(int argc, char** argv);        // one forward pass, every activation as .npy
int cmd_tokenize(int argc, char** argv);    // text -> ids (cmd_tokenize.cpp)
int cmd_detokenize(int argc, char** argv);  // ids -> text (cmd_tokenize.cpp)
int cmd_image(int argc, char** argv);       // image decode / preprocess
int cmd_convert(int argc, char** argv);     // published checkpoints -> model file
int cmd_info(int argc, char** argv);        // what a model file holds
int cmd_bench(int argc, char** argv);       // speed of the real code path beside the machine's limits
int cmd_quantize(int argc, char** argv);    // a model file in another dtype recipe
int cmd_quant_report(int argc, char** argv);  // what quantization costs (cmd_quant_report.cpp)
int cmd_compare(int argc, char** argv);     // two dump directories, activation by activation

int cli_main(int argc, char** argv);

}  // namespace tgv::cli
