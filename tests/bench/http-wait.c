/*
 * http-wait.c: waits until an HTTP server on 127.0.0.1:PORT answers GET PATH
 * with 200, trying every millisecond (make bench BENCH=scale10k times
 * ocitapd's start, exec to /healthz answering, with it: a loop of curl
 * processes would cost more than what it measures).
 * Usage: http-wait PORT PATH TIMEOUT_MS
 * Exit status 0 once answered 200, 1 when TIMEOUT_MS passed first.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One try: 1 when the answer's status line says 200. */
static int answered_200(int port, const char *path)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char req[512], line[64];
	size_t got = 0;
	ssize_t n;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok = 0;

	if (s < 0)
		return 0;
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 && write(s, req, strlen(req)) == (ssize_t)strlen(req)) {
		while (got < sizeof(line) - 1 && (n = read(s, line + got, sizeof(line) - 1 - got)) > 0)
			got += (size_t)n;
		line[got] = '\0';
		ok = strncmp(line, "HTTP/1.", 7) == 0 && strncmp(line + 8, " 200", 4) == 0;
	}
	close(s);
	return ok;
}

int main(int argc, char **argv)
{
	long until;
	int port;

	if (argc != 4 || (port = atoi(argv[1])) <= 0 || port > 65535 || argv[2][0] != '/' || atol(argv[3]) <= 0) {
		fprintf(stderr, "usage: http-wait PORT /PATH TIMEOUT_MS\n");
		return 2;
	}
	until = now_ms() + atol(argv[3]);
	while (!answered_200(port, argv[2])) {
		if (now_ms() > until) {
			fprintf(stderr, "http-wait: 127.0.0.1:%d%s did not answer 200 within %s ms\n", port, argv[2],
				argv[3]);
			return 1;
		}
		usleep(1000);
	}
	return 0;
}
