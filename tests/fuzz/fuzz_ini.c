/* libFuzzer target: the configuration parser (aclm_config_load_string) on
 * arbitrary text, then every registered key read back, so that values the
 * parser accepted are also converted (integers, enums). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aclm_config *cfg = NULL;
	struct aclm_err err = { 0 };
	char *text = malloc(size + 1);

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (aclm_config_new(&cfg) != ACLM_OK)
		abort();
	if (aclm_config_load_string(cfg, text, "fuzz.conf", &err) == ACLM_OK) {
		for (const struct aclm_config_key *k = aclm_config_keys; k->section != NULL; k++) {
			if (k->type == ACLM_CFG_INT)
				(void)aclm_config_get_int(cfg, k->section, k->key);
			else
				(void)aclm_config_get(cfg, k->section, k->key);
			(void)aclm_config_origin(cfg, k->section, k->key);
		}
	}
	aclm_config_free(cfg);
	free(text);
	return 0;
}
