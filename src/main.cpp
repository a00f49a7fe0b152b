// tinygptv: TinyGPT-V on a plain CPU. The commands live in src/cli/.
#include "cli/commands.h"

int main(int argc, char** argv) { return tgv::cli::cli_main(argc, argv); }
