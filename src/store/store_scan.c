/* store/: the scan area's calls (store/store_scan.h), forwarded to the
 * backend's scan table; a backend without one says so. */
#include "store/store_scan.h"

#include "store/store_int.h"

static const struct store_scan_ops *scan_ops(const struct store *s)
{
	return store__ops(s)->scan;
}

aclm_status store_scan_endpoint_upsert(struct store *s, const struct store_scan_endpoint *e,
				       int64_t *id, struct aclm_err *err)
{
	const struct store_scan_ops *o = scan_ops(s);

	if (o == NULL || o->endpoint_upsert == NULL)
		return store__unsupported(s, "scan endpoints", err);
	return store__leave(s, o->endpoint_upsert(store__enter(s), e, id, err));
}

aclm_status store_scan_endpoint_list(struct store *s, int64_t tenant, store_scan_endpoint_cb cb,
				     void *arg, struct aclm_err *err)
{
	const struct store_scan_ops *o = scan_ops(s);

	if (o == NULL || o->endpoint_list == NULL)
		return store__unsupported(s, "scan endpoint listing", err);
	return store__leave(s, o->endpoint_list(store__enter(s), tenant, cb, arg, err));
}

aclm_status store_scan_observation_add(struct store *s, const struct store_scan_observation *ob,
				       int64_t *id, struct aclm_err *err)
{
	const struct store_scan_ops *o = scan_ops(s);

	if (o == NULL || o->observation_add == NULL)
		return store__unsupported(s, "scan observations", err);
	return store__leave(s, o->observation_add(store__enter(s), ob, id, err));
}

aclm_status store_scan_observation_last(struct store *s, int64_t tenant, int64_t endpoint_id,
					const char *ip, struct store_scan_observation *out,
					bool *found, struct aclm_err *err)
{
	const struct store_scan_ops *o = scan_ops(s);

	if (o == NULL || o->observation_last == NULL)
		return store__unsupported(s, "scan observation look-ups", err);
	return store__leave(s, o->observation_last(store__enter(s), tenant, endpoint_id, ip, out, found, err));
}

aclm_status store_scan_observation_list(struct store *s, int64_t tenant, int64_t endpoint_id,
					store_scan_observation_cb cb, void *arg,
					struct aclm_err *err)
{
	const struct store_scan_ops *o = scan_ops(s);

	if (o == NULL || o->observation_list == NULL)
		return store__unsupported(s, "scan observation listing", err);
	return store__leave(s, o->observation_list(store__enter(s), tenant, endpoint_id, cb, arg, err));
}

aclm_status store_scan_observation_conflict(struct store *s, int64_t tenant, const char *host,
					    int port, int64_t endpoint_id, const char *ip,
					    int64_t cert_id, int64_t scan_run_id, int64_t since,
					    struct store_scan_observation *out, bool *found,
					    struct aclm_err *err)
{
	const struct store_scan_ops *o = scan_ops(s);

	if (o == NULL || o->observation_conflict == NULL)
		return store__unsupported(s, "scan observation conflicts", err);
	return store__leave(s, o->observation_conflict(store__enter(s), tenant, host, port, endpoint_id, ip, cert_id,
				       scan_run_id, since, out, found, err));
}

aclm_status store_scan_cert_newer(struct store *s, int64_t tenant, const char *common_name,
				  const char *name, int64_t not_after, store_cert_cb cb, void *arg,
				  struct aclm_err *err)
{
	const struct store_scan_ops *o = scan_ops(s);

	if (o == NULL || o->cert_newer == NULL)
		return store__unsupported(s, "newer-certificate look-ups", err);
	return store__leave(s, o->cert_newer(store__enter(s), tenant, common_name, name, not_after, cb, arg, err));
}

aclm_status store_scan_endpoint_page(struct store *s, int64_t tenant, int64_t after_id,
				     int64_t limit, store_scan_endpoint_cb cb, void *arg,
				     struct aclm_err *err)
{
	const struct store_scan_ops *o = scan_ops(s);

	if (o == NULL || o->endpoint_page == NULL)
		return store__unsupported(s, "scan endpoint pages", err);
	return store__leave(s, o->endpoint_page(store__enter(s), tenant, after_id, limit, cb, arg, err));
}

aclm_status store_scan_endpoint_get(struct store *s, int64_t tenant, int64_t id,
				    struct store_scan_endpoint *out, struct aclm_err *err)
{
	const struct store_scan_ops *o = scan_ops(s);

	if (o == NULL || o->endpoint_get == NULL)
		return store__unsupported(s, "scan endpoint look-ups", err);
	return store__leave(s, o->endpoint_get(store__enter(s), tenant, id, out, err));
}

aclm_status store_scan_observation_recent(struct store *s, int64_t tenant, int64_t endpoint_id,
					  int64_t limit, store_scan_observation_cb cb, void *arg,
					  struct aclm_err *err)
{
	const struct store_scan_ops *o = scan_ops(s);

	if (o == NULL || o->observation_recent == NULL)
		return store__unsupported(s, "recent scan observations", err);
	return store__leave(s, o->observation_recent(store__enter(s), tenant, endpoint_id, limit, cb, arg, err));
}

aclm_status store_scan_observation_prev(struct store *s, int64_t tenant, int64_t endpoint_id,
					const char *ip, int64_t before_id,
					struct store_scan_observation *out, bool *found,
					struct aclm_err *err)
{
	const struct store_scan_ops *o = scan_ops(s);

	if (o == NULL || o->observation_prev == NULL)
		return store__unsupported(s, "previous scan observations", err);
	return store__leave(s, o->observation_prev(store__enter(s), tenant, endpoint_id, ip, before_id, out, found,
				   err));
}

aclm_status store_scan_run_page(struct store *s, int64_t tenant, int64_t scan_id,
				int64_t before_id, int64_t limit, store_scanrun_cb cb, void *arg,
				struct aclm_err *err)
{
	const struct store_scan_ops *o = scan_ops(s);

	if (o == NULL || o->run_page == NULL)
		return store__unsupported(s, "scan run pages", err);
	return store__leave(s, o->run_page(store__enter(s), tenant, scan_id, before_id, limit, cb, arg, err));
}
