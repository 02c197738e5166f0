/* Build-agent mode: receive sources over vsock, build them in the sandbox,
 * return artifacts and a signed report. */
#ifndef CLEANROOM_INIT_AGENT_H
#define CLEANROOM_INIT_AGENT_H

_Noreturn void agent_main(void);

#endif
