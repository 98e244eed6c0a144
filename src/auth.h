/* Client authentication: trust, any, plain, md5 and scram-sha-256 against
 * the auth_file; auth_type = hba (auth_hba_file picks the method, peer too);
 * and the console's peer-uid rule. */
#ifndef FAIRWAY_AUTH_H
#define FAIRWAY_AUTH_H

#include <stddef.h>
#include <stdint.h>

struct client;

/* Called once the startup packet is accepted: sends a challenge (the client
 * enters CL_AUTH) or decides at once (client_auth_done / client_fail). */
void auth_begin(struct client *c);
/* One password / SASL message ('p') from a client in CL_AUTH. */
void auth_handle(struct client *c, const uint8_t *body, size_t len);
/* Frees the client's authentication state. */
void auth_clear(struct client *c);

#endif
