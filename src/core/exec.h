/* External commands: a command line split into words like a shell would,
 * without a shell, and one run of it (no shell, stdin /dev/null, own process
 * group, no ACLM_* secrets, output captured, under a timeout). Shared by the
 * dns hook, deploy hooks and deploy targets (uacme hook_run()). */
#ifndef ACLM_CORE_EXEC_H
#define ACLM_CORE_EXEC_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/status.h"

#define ACLM_EXEC_CMD_MAX 4096
#define ACLM_EXEC_OUTPUT_MAX (64 * 1024) /* per stream; the rest is read and dropped */

/* Splits cmd into words as a POSIX shell does, without any expansion:
 * blanks separate words; '...' keeps everything literally; "..." keeps
 * everything but \\ \" \$ \` and backslash-newline; outside quotes a
 * backslash escapes the next character; "" and '' make an empty word.
 * $, `, *, ;, | and # are ordinary characters: no shell ever sees the words.
 * *argv is NULL-terminated, released with aclm_argv_free. An unterminated
 * quote or a trailing backslash -> ACLM_ERR_CONFIG naming the column (1-based);
 * no words -> ACLM_ERR_CONFIG. */
aclm_status aclm_split_argv(const char *cmd, char ***argv, struct aclm_err *err);
void aclm_argv_free(char **argv);

/* Test-only crash points: when ACLM_TEST_CRASH_AT names step, logs it and
 * kills the process there with SIGKILL, as a power cut would (no cleanup,
 * no atexit). Tests use them instead of timing. */
void aclm_test_crash_point(const char *step);

/* How a run ended, and what it wrote (each NUL-terminated, capped at
 * ACLM_EXEC_OUTPUT_MAX). Release with aclm_exec_result_free. */
struct aclm_exec_result {
	bool timed_out;            /* killed, with its process group, at the deadline */
	int status;                /* wait status: WIFEXITED, WEXITSTATUS, WTERMSIG */
	struct aclm_buf out;       /* stdout */
	struct aclm_buf err;       /* stderr */
};

/* Runs argv[0] (found in PATH when it has no '/') with argv, no shell;
 * stdin is /dev/null, stdout and stderr are captured; the child is the leader
 * of its own process group, which is killed when timeout_s (> 0) passes.
 * The child's environment is ours minus every ACLM_* variable, plus extra_env
 * ("K=V" strings, NULL-terminated, may be NULL), which replaces variables of
 * the same name and is the one way an ACLM_* variable reaches a child.
 * ACLM_OK means the command ran (whatever its exit status: see res); a
 * command that cannot be started -> ACLM_ERR_IO "cannot run PROG: REASON".
 * Thread-safe: reads environ, changes nothing shared. */
aclm_status aclm_exec(char *const argv[], const char *const *extra_env, long timeout_s,
		      struct aclm_exec_result *res, struct aclm_err *err);
void aclm_exec_result_free(struct aclm_exec_result *res);

/* The first non-empty line of stderr, else of stdout, else "(no output)". */
void aclm_exec_first_line(const struct aclm_exec_result *res, char *line, size_t len);

#endif
