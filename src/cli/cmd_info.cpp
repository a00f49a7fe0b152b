// Placeholder until its issue lands: replaced by the real command.
#include "cli/commands.h"
#include "tinygptv/error.h"

namespace tgv::cli {
int cmd_info(int, char**) { fail("'cmd_info' is not implemented yet"); }
}  // namespace tgv::cli
