#include "agent.h"

#include "log.h"

_Noreturn void agent_main(void)
{
	init_fatal("agent", "build-agent mode is not implemented in this version");
}
