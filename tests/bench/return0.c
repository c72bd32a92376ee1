/* return0.c: the hook benchmark's baseline: a process that does nothing,
 * linked like ocitap-hook (libocitap.a, json-c loaded). */
#include <json-c/json.h>

int main(void)
{
	/* a reference, so that json-c is loaded as it is for the hook */
	return json_c_version_num() == 0;
}
