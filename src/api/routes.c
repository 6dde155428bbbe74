/* api/routes: every route of the service, one line each: method, path
 * (with {id}), what the caller must be allowed, flags, metrics class and
 * handler. Adding a resource = lines here + one handler file. */
#include "api/api_int.h"

#include <event2/http.h>

#define GET EVHTTP_REQ_GET
#define POST EVHTTP_REQ_POST
#define DELETE EVHTTP_REQ_DELETE
#define PUT EVHTTP_REQ_PUT
#define V1 API__PREFIX

const struct api__route api__routes[] = {
	{ GET, "/healthz", AUTH_READ, API__PUBLIC, API__C_HEALTH, api__h_healthz },
	{ GET, "/readyz", AUTH_READ, API__PUBLIC, API__C_HEALTH, api__h_readyz },
	{ GET, "/metrics", AUTH_ADMIN, API__METRICS_SCOPE, API__C_METRICS, api__h_metrics },
	{ GET, V1 "/openapi.json", AUTH_READ, API__PUBLIC, API__C_OPENAPI, api__h_openapi },

	{ POST, V1 "/login", AUTH_READ, API__PUBLIC, API__C_AUTH, api__h_login },
	{ POST, V1 "/logout", AUTH_READ, 0, API__C_AUTH, api__h_logout },

	{ GET, V1 "/certificates", AUTH_READ, 0, API__C_CERTIFICATES, api__h_cert_list },
	{ POST, V1 "/certificates", AUTH_WRITE, 0, API__C_CERTIFICATES, api__h_cert_import },
	{ GET, V1 "/certificates/{id}", AUTH_READ, 0, API__C_CERTIFICATES, api__h_cert_get },
	{ DELETE, V1 "/certificates/{id}", AUTH_WRITE, 0, API__C_CERTIFICATES, api__h_cert_delete },
	{ GET, V1 "/certificates/{id}/export", AUTH_READ, 0, API__C_CERTIFICATES,
	  api__h_cert_export },

	{ GET, V1 "/tenants", AUTH_ADMIN_TENANTS, 0, API__C_TENANTS, api__h_tenant_list },
	{ POST, V1 "/tenants", AUTH_ADMIN_TENANTS, 0, API__C_TENANTS, api__h_tenant_create },

	{ GET, V1 "/users", AUTH_ADMIN, 0, API__C_USERS, api__h_user_list },
	{ POST, V1 "/users", AUTH_ADMIN, 0, API__C_USERS, api__h_user_create },
	{ DELETE, V1 "/users/{name}", AUTH_ADMIN, 0, API__C_USERS, api__h_user_delete },

	{ GET, V1 "/tokens", AUTH_ADMIN, 0, API__C_TOKENS, api__h_token_list },
	{ POST, V1 "/tokens", AUTH_ADMIN, 0, API__C_TOKENS, api__h_token_create },
	{ DELETE, V1 "/tokens/{id}", AUTH_ADMIN, 0, API__C_TOKENS, api__h_token_revoke },

	{ GET, V1 "/audit", AUTH_AUDIT, 0, API__C_AUDIT, api__h_audit_list },
	{ GET, V1 "/reports/summary", AUTH_READ, 0, API__C_REPORTS, api__h_report_summary },

	{ GET, V1 "/endpoints", AUTH_READ, 0, API__C_ENDPOINTS, api__h_endpoint_list },
	{ GET, V1 "/endpoints/{id}", AUTH_READ, 0, API__C_ENDPOINTS, api__h_endpoint_get },

	{ GET, V1 "/scans", AUTH_READ, 0, API__C_SCANS, api__h_scan_list },
	{ POST, V1 "/scans", AUTH_WRITE, 0, API__C_SCANS, api__h_scan_put },
	{ GET, V1 "/scans/{id}", AUTH_READ, 0, API__C_SCANS, api__h_scan_get },
	{ POST, V1 "/scans/{id}/run", AUTH_WRITE, 0, API__C_SCANS, api__h_scan_run },
	{ GET, V1 "/scans/{id}/runs", AUTH_READ, 0, API__C_SCANS, api__h_scan_runs },

	{ GET, V1 "/jobs", AUTH_READ, 0, API__C_JOBS, api__h_job_list },
	{ GET, V1 "/jobs/{id}", AUTH_READ, 0, API__C_JOBS, api__h_job_get },

	{ GET, V1 "/acme/accounts", AUTH_READ, 0, API__C_ACME, api__h_acme_account_list },
	{ GET, V1 "/orders", AUTH_READ, 0, API__C_ACME, api__h_order_list },
	{ POST, V1 "/orders", AUTH_WRITE, 0, API__C_ACME, api__h_order_create },
	{ GET, V1 "/orders/{lineage}", AUTH_READ, 0, API__C_ACME, api__h_order_get },
	{ POST, V1 "/orders/{lineage}/renew", AUTH_WRITE, 0, API__C_ACME, api__h_order_renew },
	{ POST, V1 "/orders/{lineage}/revoke", AUTH_WRITE, 0, API__C_ACME, api__h_order_revoke },

	{ GET, V1 "/channels", AUTH_READ, 0, API__C_CHANNELS, api__h_channel_list },
	{ POST, V1 "/channels", AUTH_WRITE, 0, API__C_CHANNELS, api__h_channel_create },
	{ GET, V1 "/channels/{name}", AUTH_READ, 0, API__C_CHANNELS, api__h_channel_get },
	{ PUT, V1 "/channels/{name}", AUTH_WRITE, 0, API__C_CHANNELS, api__h_channel_update },
	{ DELETE, V1 "/channels/{name}", AUTH_WRITE, 0, API__C_CHANNELS, api__h_channel_delete },
	{ POST, V1 "/channels/{name}/test", AUTH_WRITE, 0, API__C_CHANNELS, api__h_channel_test },

	{ GET, V1 "/alerts", AUTH_READ, 0, API__C_ALERTS, api__h_alert_list },

	/* A target names files to write and commands to run on this host:
	 * only the installation's admins (of the default tenant) define them. */
	{ GET, V1 "/targets", AUTH_READ, 0, API__C_DEPLOY, api__h_target_list },
	{ POST, V1 "/targets", AUTH_ADMIN_TENANTS, 0, API__C_DEPLOY, api__h_target_create },
	{ GET, V1 "/targets/{name}", AUTH_READ, 0, API__C_DEPLOY, api__h_target_get },
	{ DELETE, V1 "/targets/{name}", AUTH_ADMIN_TENANTS, 0, API__C_DEPLOY, api__h_target_delete },
	{ GET, V1 "/deployments", AUTH_READ, 0, API__C_DEPLOY, api__h_deploy_list },
	{ POST, V1 "/deployments", AUTH_WRITE, 0, API__C_DEPLOY, api__h_deploy_create },
};

const size_t api__routes_n = sizeof(api__routes) / sizeof(api__routes[0]);
