/*
 * inspect-process.h: the init process in `ocitap inspect` (inspect-process.c).
 */
#ifndef OCITAP_INSPECT_PROCESS_H
#define OCITAP_INSPECT_PROCESS_H

#include <json-c/json.h>
#include <stddef.h>

#include "ocitap-private.h"

/* A string array as JSON. */
struct json_object *inspect_strv_json(char *const *v, size_t n);
/* The process (host: the same pid seen from the host's namespaces, or NULL). */
struct json_object *inspect_process_json(const struct ocitap_proc_info *p, const struct ocitap_proc_info *host);
void inspect_print_process(const struct ocitap_proc_info *p, const struct ocitap_proc_info *host);

#endif
