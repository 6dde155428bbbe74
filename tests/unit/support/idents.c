/* ACME order identifiers written short in tests ("dns:NAME", "ip:ADDR"). */
#include <stdbool.h>
#include <string.h>

#include "testsupport.h"

json_t *ts_identifiers(const char *const *spec, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		bool ip = strncmp(spec[i], "ip:", 3) == 0;

		json_array_append_new(a, json_pack("{s:s, s:s}", "type", ip ? "ip" : "dns", "value",
						   spec[i] + (ip ? 3 : 4)));
	}
	return a;
}
