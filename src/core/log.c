/* Logging to stderr; JSON lines when asked (--log-format json). */
#include "core/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/time.h"

static enum aclm_log_level log_level = ACLM_LOG_WARN;
static enum aclm_log_format log_format = ACLM_LOG_TEXT;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void aclm_log_setup(enum aclm_log_level level, enum aclm_log_format format)
{
	log_level = level;
	log_format = format;
}

int aclm_log_level_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(s, level_names[i]) == 0)
			return (int)i;
	if (strcmp(s, "warning") == 0)
		return ACLM_LOG_WARN;
	return -1;
}

int aclm_log_format_parse(const char *s)
{
	if (strcmp(s, "text") == 0)
		return ACLM_LOG_TEXT;
	if (strcmp(s, "json") == 0)
		return ACLM_LOG_JSON;
	return -1;
}

static void log_emit(enum aclm_log_level level, bool note, const char *msg)
{
	char ts[ACLM_TIME_RFC3339_LEN];

	if (log_format == ACLM_LOG_JSON) {
		json_t *o = json_pack("{s:s, s:s, s:s}", "ts",
				      aclm_time_fmt(aclm_time_now(), ts), "level",
				      level_names[level], "msg", msg);
		char *line = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

		if (line != NULL)
			fprintf(stderr, "%s\n", line);
		free(line);
		json_decref(o);
		return;
	}
	if (note)
		fprintf(stderr, "%s\n", msg);
	else
		fprintf(stderr, "aclm: %s%s%s\n", level == ACLM_LOG_INFO ? "" : level_names[level],
			level == ACLM_LOG_INFO ? "" : ": ", msg);
}

void aclm_log(enum aclm_log_level level, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_emit(level, false, msg);
}

void aclm_log_note(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	if (log_level == ACLM_LOG_ERROR)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_emit(ACLM_LOG_INFO, true, msg);
}
