/* Logging to stderr: levels, text or JSON lines. Never log key material. */
#ifndef ACLM_CORE_LOG_H
#define ACLM_CORE_LOG_H

enum aclm_log_level { ACLM_LOG_ERROR = 0, ACLM_LOG_WARN, ACLM_LOG_INFO, ACLM_LOG_DEBUG };
enum aclm_log_format { ACLM_LOG_TEXT = 0, ACLM_LOG_JSON };

void aclm_log_setup(enum aclm_log_level level, enum aclm_log_format format);
/* "error", "warn", "info", "debug" -> level; returns -1 when unknown. */
int aclm_log_level_parse(const char *s);
/* "text", "json" -> format; returns -1 when unknown. */
int aclm_log_format_parse(const char *s);

void aclm_log(enum aclm_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A status note for people (e.g. "imported 3 files: ..."): shown unless
 * the level is error (-q), as a JSON line under --log-format json. */
void aclm_log_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define log_error(...) aclm_log(ACLM_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) aclm_log(ACLM_LOG_WARN, __VA_ARGS__)
#define log_info(...) aclm_log(ACLM_LOG_INFO, __VA_ARGS__)
#define log_debug(...) aclm_log(ACLM_LOG_DEBUG, __VA_ARGS__)

#endif
