/* Listening sockets: TCP on listen_addr:listen_port and the Unix socket
 * in unix_socket_dir; accepted sockets become clients. */
#ifndef FAIRWAY_LISTENER_H
#define FAIRWAY_LISTENER_H

#include <stdbool.h>

struct fairway;

/* Opens every configured listener; false (reason logged) if none could be
 * opened or a configured one failed. */
bool listener_open_all(struct fairway *fw);
/* Stops (or restarts) accepting on every listener (SUSPEND / RESUME). */
void listener_pause(struct fairway *fw, bool pause);
/* Closes the TCP listeners (the Unix socket stays for the console) or all. */
void listener_close(struct fairway *fw, bool include_unix);

#endif
