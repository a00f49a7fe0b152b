// Placeholder until its issue lands: replaced by the real command.
#include "cli/commands.h"
#include "tinygptv/error.h"

namespace tgv::cli {
int cmd_ask(int, char**) { fail("'cmd_ask' is not implemented yet"); }
int cmd_chat(int, char**) { fail("'cmd_chat' is not implemented yet"); }
}  // namespace tgv::cli
