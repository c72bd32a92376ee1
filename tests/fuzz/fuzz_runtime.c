/*
 * fuzz_runtime.c: libFuzzer target for what runc and crun print and keep
 * (state and list output, runc state.json, crun status, runsc's state file) and for /proc's
 * stat and status, which `ocitap inspect` parses; and the fd keeper's
 * messages (lib/keeper.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ocitap-private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct ocitap_runtime_container c, *v;
	struct ocitap_proc_info p = { 0 };
	struct ocitap_error err;
	size_t n;

	if (ocitap_runtime_parse_state(buf, size, "runc", &c, &err) == 0) {
		if (!c.id)
			abort();
		ocitap_runtime_container_release(&c);
	}
	if (ocitap_runtime_parse_list(buf, size, "crun", &v, &n, &err) == 0)
		ocitap_runtime_containers_free(v, n);
	if (ocitap_runtime_parse_state_file(buf, size, "runc", "id", &c, &err) == 0) {
		if (c.pid <= 0)
			abort();
		ocitap_runtime_container_release(&c);
	}
	if (ocitap_runtime_parse_state_file(buf, size, "crun", "id", &c, &err) == 0)
		ocitap_runtime_container_release(&c);
	if (ocitap_runtime_parse_state_file(buf, size, "runsc", "id", &c, &err) == 0) {
		if (c.pid <= 0 && (!c.status || strcmp(c.status, "stopped") != 0))
			abort();
		ocitap_runtime_container_release(&c);
	}
	if (ocitap_proc_parse_stat(buf, size, &p) == 0 && p.pid <= 0)
		abort();
	(void)ocitap_proc_parse_status(buf, size, &p);
	{
		struct ocitap_keeper_msg m;
		char line[OCITAP_KEEPER_MSG_MAX + 1];

		/* what parses formats again, and that parses the same */
		if (ocitap_keeper_parse(buf, size, &m, &err) == 0 && m.verb != OCITAP_KEEPER_ERR) {
			struct ocitap_keeper_msg again;
			int n = ocitap_keeper_format(&m, line, sizeof(line));

			if (n < 0 || ocitap_keeper_parse(line, (size_t)n, &again, &err) < 0 || again.verb != m.verb ||
			    strcmp(again.key, m.key) != 0 || strcmp(again.id, m.id) != 0 || again.count != m.count)
				abort();
			if (m.key[0]) { /* ocitapd's keys: what parses formats back to the same key */
				char policy[OCITAP_KEEPER_NAME_MAX + 1], key[OCITAP_KEEPER_NAME_MAX + 1];
				uint64_t serial;
				bool init;

				if (ocitap_keeper_key_parse(m.key, &serial, &init, policy, sizeof(policy)) == 0) {
					if (ocitap_keeper_key_format(key, sizeof(key), serial, init, policy) < 0)
						abort();
					if (ocitap_keeper_key_parse(key, &serial, &init, line, sizeof(line)) < 0 ||
					    strcmp(line, policy) != 0)
						abort();
				}
			}
			if (m.id[0]) { /* a held connection's peer: what parses formats back the same */
				struct ocitap_keeper_peer peer, back;
				char id[OCITAP_KEEPER_NAME_MAX + 1];

				if (ocitap_keeper_peer_parse(m.id, &peer) == 0) {
					if (ocitap_keeper_peer_format(&peer, id, sizeof(id)) < 0 ||
					    ocitap_keeper_peer_parse(id, &back) < 0 || back.pid != peer.pid ||
					    back.uid != peer.uid || back.has_ns != peer.has_ns ||
					    memcmp(&back.ns, &peer.ns, sizeof(peer.ns)) != 0)
						abort();
				}
			}
		}
	}
	return 0;
}
