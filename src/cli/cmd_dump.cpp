// Placeholder until its issue lands: replaced by the real command.
#include "cli/commands.h"
#include "tinygptv/error.h"

namespace tgv::cli {
int cmd_dump(int, char**) { fail("'cmd_dump' is not implemented yet"); }
}  // namespace tgv::cli
