/*
 * fuzz_process_state.c: libFuzzer target for the ContainerProcessState
 * parser, and for the SCM_RIGHTS reader: the input is sent over a real
 * socketpair with an fd, so the receive path and its fd accounting run too.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ocitap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ocitap_error err;
	struct ocitap_process_state ps, again;
	char *json = NULL;
	int sv[2], fd = -1;

	if (ocitap_process_state_parse((const char *)data, size, 0, NULL, OCITAP_FDS_UNKNOWN, &ps, &err) == 0) {
		if (ps.pid <= 0 || ps.n_fds > 16 || !ps.state.id)
			abort();
		if (ocitap_process_state_to_json(&ps, OCITAP_JSON_PRETTY, &json, &err) < 0)
			abort();
		if (ocitap_process_state_parse(json, strlen(json), 0, NULL, ps.n_fds, &again, &err) < 0)
			abort();
		ocitap_process_state_release(&again);
		ocitap_process_state_release(&ps);
		free(json);
	}

	/* the same bytes through the socket path, with one fd riding along */
	if (size > 0 && size < 150000 && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0) {
		int passed = dup(sv[0]);

		if (passed >= 0 && ocitap_scm_send(sv[0], data, size, &passed, 1, &err) == 0) {
			shutdown(sv[0], SHUT_WR);
			if (ocitap_scm_recv_process_state(sv[1], 0, NULL, 1000, &ps, &fd, &err) == 0) {
				if (fd < 0)
					abort();
				close(fd);
				ocitap_process_state_release(&ps);
			}
		}
		if (passed >= 0)
			close(passed);
		close(sv[0]);
		close(sv[1]);
	}
	return 0;
}
