/* api/h_health: /healthz (alive: 200 while serving), /readyz (503 until the
 * service says it is ready) and the OpenAPI document. */
#include "api/api_int.h"

void api__h_healthz(struct api__req *r)
{
	api__reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

void api__h_readyz(struct api__req *r)
{
	if (atomic_load(&r->w->srv->ready))
		api__reply_json(r, 200, json_pack("{s:s}", "status", "ready"));
	else
		api__problem(r, 503, "not-ready", "starting: not ready yet");
}

void api__h_openapi(struct api__req *r)
{
	api__reply_raw(r, 200, "application/json", api__openapi_json, api__openapi_json_len);
}
