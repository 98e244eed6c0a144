/* The admin console: virtual databases "pgbouncer" and "fairway", simple
 * query protocol, SHOW commands (show.c) and control commands. */
#ifndef FAIRWAY_ADMIN_H
#define FAIRWAY_ADMIN_H

struct client;
struct fairway;

/* Sends the console's welcome to an authenticated console client. */
void admin_welcome(struct client *c);
/* Handles whatever the console client has sent. */
void admin_process(struct client *c);
/* Completes PAUSE / WAIT_CLOSE commands whose condition now holds (tick). */
void admin_check_waits(struct fairway *fw);

#endif
