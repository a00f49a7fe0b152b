// Placeholder until its issue lands: replaced by the real command.
#include "cli/commands.h"
#include "tinygptv/error.h"

namespace tgv::cli {
int cmd_tokenize(int, char**) { fail("'cmd_tokenize' is not implemented yet"); }
int cmd_detokenize(int, char**) { fail("'cmd_detokenize' is not implemented yet"); }
}  // namespace tgv::cli
