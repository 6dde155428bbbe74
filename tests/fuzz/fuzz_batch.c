/* libFuzzer target: `aclm issue --batch` files (client_batch_parse_text) on
 * arbitrary text; every job it returns must be complete. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct client_batch_job *jobs = NULL;
	struct aclm_err err = { 0 };
	size_t njobs = 0;
	char *text = malloc(size + 1);

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (client_batch_parse_text("fuzz.batch", text, "p256,rsa2048", "http-01", &jobs, &njobs,
				    &err) == ACLM_OK) {
		if (njobs == 0 || jobs == NULL)
			__builtin_trap();
		for (size_t i = 0; i < njobs; i++) {
			if (jobs[i].lineage == NULL || jobs[i].lineage[0] == '\0' ||
			    strchr(jobs[i].lineage, '/') != NULL || jobs[i].challenge == NULL ||
			    jobs[i].nnames == 0)
				__builtin_trap();
			for (size_t k = 0; k < jobs[i].nnames; k++)
				if (jobs[i].names[k] == NULL)
					__builtin_trap();
			client_batch_job_free(&jobs[i]);
		}
		free(jobs);
	} else if (jobs != NULL || njobs != 0 || err.msg[0] == '\0') {
		__builtin_trap();
	}
	free(text);
	return 0;
}
