/* aclm: the multi-command binary (placeholder until the CLI lands). */
#include <stdio.h>

int main(void)
{
	printf("aclm %s\n", ACLM_VERSION);
	return 0;
}
