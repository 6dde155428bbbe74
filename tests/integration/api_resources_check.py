"""Drives a running `aclm serve --no-scheduler` (test_api_resources.sh): argv = BASE_URL TMPDIR;
tokens and peers in the environment (ADMIN, VIEWER, OTHER: an admin of another tenant;
TLS_PORT and LEAF_FP: an openssl s_server and its leaf; HOOK_PORT and HOOK_SECRET: the
webhook receiver notify_http.py, writing TMPDIR/http/req-N.json; ACLM_HOME: the state
directory, whose aclm.conf [acme] points at aclm's own CA). Jobs are run with `aclm jobs run
--once`. Every check raises on failure with what was expected and what came back."""
import glob
import json
import os
import sqlite3
import subprocess
import sys

from api_client import Api, check, fail

BASE, TMP = sys.argv[1:3]
API = Api(BASE)
ADMIN, VIEWER, OTHER = os.environ["ADMIN"], os.environ["VIEWER"], os.environ["OTHER"]
probes = 0


def request(method, path, token=ADMIN, body=None):
    return API.request(method, path, token, body)


def expect(method, path, status, token=ADMIN, body=None):
    r = request(method, path, token, body)
    check(r.status == status, "%s %s: wanted %d, got %r" % (method, path, status, r))
    return r


def absent(method, path, absent_path, body=None, absent_body=None):
    """Another tenant's object answers exactly as an absent one."""
    global probes
    a = request(method, path, OTHER, body)
    b = request(method, absent_path, OTHER, absent_body if absent_body is not None else body)
    check(a.status == 404 and b.status == 404 and a.body == b.body,
          "cross-tenant %s %s: %r vs absent %r" % (method, path, a, b))
    probes += 1


def run_jobs():
    p = subprocess.run([os.environ["ACLM_BIN"], "jobs", "run", "--once"], capture_output=True,
                       text=True, timeout=600)
    check(p.returncode == 0, "aclm jobs run --once: %d %s" % (p.returncode, p.stderr[-2000:]))


def follow(r):
    """The job of a 202 answer, run until done."""
    check(r.status == 202, "wanted 202, got %r" % r)
    loc = r.header("Location")
    check(loc == "/api/v1/jobs/" + r.json()["job_id"], "Location %s" % loc)
    run_jobs()
    job = expect("GET", loc, 200).json()
    check(job["state"] == "done", "job %s: %s" % (loc, job))
    return job


def webhooks(event):
    """What the receiver got for event: (count, all signatures verified)."""
    reqs = [json.load(open(f)) for f in glob.glob(TMP + "/http/req-*.json")]
    hits = [r for r in reqs if r["body"].get("event") == event]
    return len(hits), all(r["status"] == 204 for r in hits)


# ---- channels (before the scan, whose alert goes to the stored one) ----
def channels():
    url = "http://127.0.0.1:%s/webhook" % os.environ["HOOK_PORT"]
    good = {"name": "apihook", "type": "webhook",
            "params": {"url": url, "secret_file": os.environ["HOOK_SECRET"]}}
    expect("POST", "/api/v1/channels", 403, token=VIEWER, body=good)
    r = expect("POST", "/api/v1/channels", 400,
               body={"name": "x", "type": "webhook", "params": {"url": url, "secret": "s3cr3t"}})
    check("never inline" in r.json()["detail"], "inline secret: %r" % r)
    r = expect("POST", "/api/v1/channels", 400,
               body={"name": "x", "type": "webhook",
                     "params": {"url": url, "secret_file": TMP + "/no-such-file"}})
    ch = expect("POST", "/api/v1/channels", 201, body=good).json()
    check(ch["params"]["url"] == url and ch["origin"] == "api", "channel %s" % ch)
    expect("POST", "/api/v1/channels", 409, body=good)
    r = expect("POST", "/api/v1/channels", 409, body=dict(good, name="confhook"))
    check("configuration" in r.json()["detail"], "a [notify.NAME] name: %r" % r)
    r = expect("POST", "/api/v1/channels/apihook/test", 200)
    check(r.json()["delivered"] is True, "test send %r" % r)
    check(webhooks("test") == (1, True), "the receiver got one signed test message: %s"
          % (webhooks("test"),))
    # Update, and a second channel to delete.
    expect("PUT", "/api/v1/channels/apihook", 200,
           body={"type": "webhook", "params": {"url": url, "secret_file": os.environ["HOOK_SECRET"],
                                               "timeout_ms": "5000"}})
    check(expect("GET", "/api/v1/channels/apihook", 200, token=VIEWER).json()["params"]
          ["timeout_ms"] == "5000", "updated params")
    expect("POST", "/api/v1/channels", 201,
           body={"name": "spare", "type": "slack", "params": {"url": url}})
    check(expect("GET", "/api/v1/channels", 200, token=OTHER).json()["items"] == [],
          "other tenant's channels")
    for m, suffix, body in (("GET", "", None), ("DELETE", "", None), ("POST", "/test", None),
                            ("PUT", "", {"type": "webhook", "params": {"url": url}})):
        absent(m, "/api/v1/channels/apihook" + suffix, "/api/v1/channels/nope" + suffix, body)
        absent(m, "/api/v1/channels/spare" + suffix, "/api/v1/channels/nope" + suffix, body)
    expect("DELETE", "/api/v1/channels/spare", 403, token=VIEWER)
    expect("DELETE", "/api/v1/channels/spare", 204)
    expect("GET", "/api/v1/channels/spare", 404)
    print("channels: ok")


# ---- scans and endpoints ----
def scans_and_endpoints():
    tls_port = int(os.environ["TLS_PORT"])
    r = expect("POST", "/api/v1/scans", 201,
               body={"name": "loop", "targets": ["127.0.0.1"], "ports": str(tls_port),
                     "checks": "cert"})
    scan = r.json()
    check(scan["origin"] == "api" and scan["targets"] == ["127.0.0.1"], "scan %s" % scan)
    expect("POST", "/api/v1/scans", 403, token=VIEWER, body={"targets": ["127.0.0.1"]})
    r = expect("POST", "/api/v1/scans", 409, body={"name": "confscan", "targets": ["127.0.0.1"]})
    check("configuration" in r.json()["detail"], "a [scan.NAME] name: %r" % r)
    expect("POST", "/api/v1/scans/%s/run" % scan["id"], 403, token=VIEWER)
    job = follow(expect("POST", "/api/v1/scans/%s/run" % scan["id"], 202))
    check(job["result"]["endpoints"] == 1 and job["result"]["reachable"] == 1,
          "scan job result %s" % job["result"])
    runs = expect("GET", "/api/v1/scans/%s/runs" % scan["id"], 200, token=VIEWER).json()["items"]
    check(len(runs) == 1 and runs[0]["state"] == "done" and runs[0]["reachable"] == 1,
          "runs %s" % runs)
    eps = expect("GET", "/api/v1/endpoints", 200, token=VIEWER).json()["items"]
    mine = [e for e in eps if e["port"] == tls_port]
    check(len(mine) == 1, "endpoints %s" % eps)
    ep = mine[0]
    last = ep["last_observation"]
    check(last is not None and last["fingerprint_sha256"] == os.environ["LEAF_FP"],
          "last observation %s, leaf %s" % (last, os.environ["LEAF_FP"]))
    check(last["inventory_status"] == "unknown", "a leaf found only by scanning: %s" % last)
    one = expect("GET", "/api/v1/endpoints/%s" % ep["id"], 200).json()
    check(len(one["observations"]) == 1 and one["observations"][0]["cert_id"] == last["cert_id"],
          "endpoint %s" % one)
    cert = expect("GET", "/api/v1/certificates/%s" % last["cert_id"], 200).json()
    check(cert["fingerprint_sha256"] == os.environ["LEAF_FP"], "the leaf in the inventory")
    # The other tenant: nothing listed, everything absent.
    check(expect("GET", "/api/v1/endpoints", 200, token=OTHER).json()["items"] == [],
          "other tenant's endpoints")
    check(expect("GET", "/api/v1/scans", 200, token=OTHER).json()["items"] == [],
          "other tenant's scans")
    check(expect("GET", "/api/v1/jobs", 200, token=OTHER).json()["items"] == [],
          "other tenant's jobs")
    absent("GET", "/api/v1/endpoints/%s" % ep["id"], "/api/v1/endpoints/99999")
    absent("GET", "/api/v1/scans/%s" % scan["id"], "/api/v1/scans/99999")
    absent("POST", "/api/v1/scans/%s/run" % scan["id"], "/api/v1/scans/99999/run")
    absent("GET", "/api/v1/scans/%s/runs" % scan["id"], "/api/v1/scans/99999/runs")
    absent("GET", "/api/v1/jobs/%s" % job["id"], "/api/v1/jobs/99999")
    absent("GET", "/api/v1/certificates/%s" % last["cert_id"], "/api/v1/certificates/99999")
    # With an interval the scheduler's planner runs it, once per interval.
    per = expect("POST", "/api/v1/scans", 201,
                 body={"name": "periodic", "targets": ["127.0.0.1"], "ports": tls_port,
                       "checks": "cert", "interval": "1h"}).json()
    run_jobs()
    run_jobs()
    runs = expect("GET", "/api/v1/scans/%s/runs" % per["id"], 200).json()["items"]
    check(len(runs) == 1 and runs[0]["state"] == "done", "planned runs %s" % runs)
    # The unknown leaf raised an alert, delivered to the stored channel [alerts] names.
    alerts = expect("GET", "/api/v1/alerts", 200, token=VIEWER).json()["items"]
    check(any(a["kind"] == "unknown_cert" for a in alerts), "alerts %s" % alerts)
    check(expect("GET", "/api/v1/alerts", 200, token=OTHER).json()["items"] == [],
          "other tenant's alerts")
    run_jobs()
    check(webhooks("alert.unknown_cert") == (1, True),
          "the unknown_cert alert reached the stored channel: %s"
          % (webhooks("alert.unknown_cert"),))
    # The same name in the other tenant is its own scan.
    r = expect("POST", "/api/v1/scans", 201, token=OTHER,
               body={"name": "loop", "targets": ["127.0.0.2"]})
    check(r.json()["id"] != scan["id"], "a second tenant's scan is a new row")
    check(expect("GET", "/api/v1/scans/%s" % scan["id"], 200).json()["targets"] == ["127.0.0.1"],
          "the first tenant's scan is unchanged")
    print("scans and endpoints: ok")


# ---- ACME: accounts and orders ----
def orders():
    name = "www.api.test"
    expect("POST", "/api/v1/orders", 403, token=VIEWER, body={"names": [name]})
    expect("POST", "/api/v1/orders", 400, body={"names": ["bad name!"]})
    expect("POST", "/api/v1/orders", 400, body={"names": [name], "challenge": "carrier-pigeon"})
    job = follow(expect("POST", "/api/v1/orders", 202, body={"names": [name]}))
    first = str(job["result"]["cert_id"])
    # A crash after the order, before "done" was recorded: the job runs again and must not
    # order a second certificate.
    db = sqlite3.connect(os.path.join(os.environ["ACLM_HOME"], "aclm.db"), timeout=30)
    db.execute("UPDATE jobs SET state = 'queued', result = NULL WHERE id = ?", (int(job["id"]),))
    db.commit()
    db.close()
    ncerts = len(expect("GET", "/api/v1/certificates?limit=1000", 200).json()["items"])
    run_jobs()
    again = expect("GET", "/api/v1/jobs/" + job["id"], 200).json()
    check(again["state"] == "done" and again["result"].get("skipped") == "already issued"
          and str(again["result"]["cert_id"]) == first, "issue job run twice: %s" % again)
    check(len(expect("GET", "/api/v1/certificates?limit=1000", 200).json()["items"]) == ncerts,
          "no second certificate")
    o = expect("GET", "/api/v1/orders/" + name, 200, token=VIEWER).json()
    check(o["cert_id"] == first and o["names"] == [name] and o["key_type"] == "p256",
          "order %s" % o)
    check(o["renewal"]["due"] is False, "a fresh certificate is not due: %s" % o["renewal"])
    check([x["lineage"] for x in expect("GET", "/api/v1/orders", 200).json()["items"]] == [name],
          "order list")
    cert = expect("GET", "/api/v1/certificates/" + first, 200).json()
    check(name in cert["sans"]["dns"] and "acme" in cert["sources"], "issued %s" % cert)
    accts = expect("GET", "/api/v1/acme/accounts", 200, token=VIEWER).json()["items"]
    check(len(accts) == 1 and accts[0]["status"] == "valid", "accounts %s" % accts)
    check(not any("key" in k for k in accts[0]), "an account shows no key: %s" % accts[0])
    expect("POST", "/api/v1/orders", 409, body={"names": [name]})
    # Renew now: a new certificate replaces the first.
    expect("POST", "/api/v1/orders/%s/renew" % name, 403, token=VIEWER)
    job = follow(expect("POST", "/api/v1/orders/%s/renew" % name, 202))
    second = str(job["result"]["cert_id"])
    check(second != first, "renewal issued a new certificate")
    check(expect("GET", "/api/v1/orders/" + name, 200).json()["cert_id"] == second,
          "the order's current certificate is the renewed one")
    # The other tenant sees none of it.
    check(expect("GET", "/api/v1/orders", 200, token=OTHER).json()["items"] == [],
          "other tenant's orders")
    check(expect("GET", "/api/v1/acme/accounts", 200, token=OTHER).json()["items"] == [],
          "other tenant's accounts")
    absent("GET", "/api/v1/orders/" + name, "/api/v1/orders/absent.test")
    absent("POST", "/api/v1/orders/%s/renew" % name, "/api/v1/orders/absent.test/renew")
    absent("POST", "/api/v1/orders/%s/revoke" % name, "/api/v1/orders/absent.test/revoke")
    absent("GET", "/api/v1/certificates/" + second, "/api/v1/certificates/99999")
    absent("GET", "/api/v1/certificates/%s/export" % second, "/api/v1/certificates/99999/export")
    absent("DELETE", "/api/v1/certificates/" + second, "/api/v1/certificates/99999")
    # Revoke the current certificate at the CA; a second time the CA refuses.
    expect("POST", "/api/v1/orders/%s/revoke" % name, 403, token=VIEWER)
    r = expect("POST", "/api/v1/orders/%s/revoke" % name, 200, body={"reason": "superseded"})
    check(r.json()["revoked"] == second, "revoked %s" % r.json())
    r = expect("POST", "/api/v1/orders/%s/revoke" % name, 502)
    check("revocation failed" in r.json()["detail"], "second revoke: %r" % r)
    print("orders: ok")
    return name, second


# ---- targets and deployments ----
def deployments(lineage, cert_id):
    import hashlib
    import ssl as _ssl
    out = os.path.join(TMP, "deployed")
    os.makedirs(out, exist_ok=True)
    target = {"name": "files", "type": "file",
              "options": {"cert_path": out + "/cert.pem", "fullchain_path": out + "/full.pem"}}
    # A target writes files and runs commands here: the installation's admins only.
    expect("POST", "/api/v1/targets", 403, token=VIEWER, body=target)
    expect("POST", "/api/v1/targets", 403, token=OTHER, body=target)
    r = expect("POST", "/api/v1/targets", 400,
               body={"name": "x", "type": "file", "options": {"cert_path": "relative.pem"}})
    expect("POST", "/api/v1/targets", 201, body=target)
    expect("POST", "/api/v1/targets", 409, body=target)
    check([t["name"] for t in expect("GET", "/api/v1/targets", 200, token=VIEWER).json()["items"]]
          == ["files"], "target list")
    expect("POST", "/api/v1/deployments", 403, token=VIEWER,
           body={"lineage": lineage, "targets": ["files"]})
    job = follow(expect("POST", "/api/v1/deployments", 202,
                        body={"lineage": lineage, "targets": ["files"]}))
    states = [d["state"] for d in job["result"]["deployments"]]
    check(states == ["deployed"], "deploy job result %s" % job["result"])
    with open(out + "/cert.pem") as f:
        der = _ssl.PEM_cert_to_DER_cert(f.read())
    want = expect("GET", "/api/v1/certificates/" + cert_id, 200).json()["fingerprint_sha256"]
    check(hashlib.sha256(der).hexdigest() == want, "the file holds the lineage's certificate")
    deps = expect("GET", "/api/v1/deployments?lineage=" + lineage, 200, token=VIEWER).json()["items"]
    check(len(deps) == 1 and deps[0]["target"] == "files" and deps[0]["state"] == "deployed"
          and deps[0]["fingerprint"] == want, "deployments %s" % deps)
    # The other tenant: nothing listed; the target, the lineage and the certificate look absent.
    check(expect("GET", "/api/v1/targets", 200, token=OTHER).json()["items"] == [],
          "other tenant's targets")
    check(expect("GET", "/api/v1/deployments", 200, token=OTHER).json()["items"] == [],
          "other tenant's deployments")
    absent("GET", "/api/v1/targets/files", "/api/v1/targets/nope")
    expect("POST", "/api/v1/targets", 201, token=ADMIN,
           body={"name": "spare", "type": "file", "options": {"cert_path": out + "/spare.pem"}})
    absent("GET", "/api/v1/targets/spare", "/api/v1/targets/nope")
    # Our lineage, certificate or target in the other tenant's deployment: each as absent.
    absent("POST", "/api/v1/deployments", "/api/v1/deployments",
           body={"lineage": lineage, "targets": ["files"]},
           absent_body={"lineage": "absent.test", "targets": ["files"]})
    absent("POST", "/api/v1/deployments", "/api/v1/deployments",
           body={"cert": cert_id, "targets": ["files"]},
           absent_body={"cert": "99999", "targets": ["files"]})
    expect("DELETE", "/api/v1/targets/spare", 403, token=VIEWER)
    expect("DELETE", "/api/v1/targets/spare", 204)
    print("targets and deployments: ok")


# ---- every job and certificate of the first tenant, probed from the other ----
def sweep():
    jobs = expect("GET", "/api/v1/jobs?limit=1000", 200).json()["items"]
    check({j["kind"] for j in jobs} >= {"scan", "issue", "renew", "deploy", "notify"},
          "jobs of every kind: %s" % sorted({j["kind"] for j in jobs}))
    for j in jobs:
        absent("GET", "/api/v1/jobs/" + j["id"], "/api/v1/jobs/99999")
    for c in expect("GET", "/api/v1/certificates?limit=1000", 200).json()["items"]:
        absent("GET", "/api/v1/certificates/" + c["id"], "/api/v1/certificates/99999")
    for e in expect("GET", "/api/v1/endpoints", 200).json()["items"]:
        absent("GET", "/api/v1/endpoints/" + e["id"], "/api/v1/endpoints/99999")


# ---- cursor pages of the lists that were one page (runs, accounts, orders, channels, targets,
# deployments): more rows for the first tenant and some for the other, inserted through the API
# where it can (channels, targets) and into the database otherwise; then every list is walked
# with limit 1 and 2 ----
def walk(path, limit, token=ADMIN):
    """The rows of every page from no cursor to next_cursor null, and the number of pages."""
    rows, pages, cursor = [], 0, None
    while True:
        url = path + ("&" if "?" in path else "?") + "limit=%d" % limit
        if cursor is not None:
            url += "&cursor=" + cursor
        body = expect("GET", url, 200, token=token).json()
        pages += 1
        check(len(body["items"]) <= limit, "%s: %d rows, limit %d" % (url, len(body["items"]), limit))
        rows += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return rows, pages
        check(len(body["items"]) == limit, "%s: a short page with a next_cursor" % url)
        check(pages < 50, "%s: the walk does not end" % path)


def walked(path, key, want, foreign):
    """Walks path with limit 1 and 2: each of want (keys of the first tenant's rows) exactly
    once, across several pages, the last one ending with next_cursor null, none of foreign
    (the other tenant's)."""
    for limit in (1, 2):
        rows, pages = walk(path, limit)
        got = [key(r) for r in rows]
        check(sorted(got) == sorted(want), "%s limit %d: rows %s, wanted each of %s once"
              % (path, limit, got, want))
        check(not set(got) & set(foreign), "%s: the other tenant's %s" % (path, set(got) & set(foreign)))
        check(pages == -(-len(want) // limit), "%s limit %d: %d pages for %d rows"
              % (path, limit, pages, len(want)))
        check(pages >= 2, "%s limit %d: one page" % (path, limit))
    # Bad paging parameters: the same problems as every other list.
    for q in ("limit=0", "limit=x", "cursor=bad!", "cursor=" + "A" * 80):
        sep = "&" if "?" in path else "?"
        a = expect("GET", path + sep + q, 400)
        b = expect("GET", "/api/v1/jobs?" + q, 400)
        check(a.body == b.body, "%s?%s: %r, the jobs list says %r" % (path, q, a, b))
    return rows


def pages():
    db = sqlite3.connect(os.path.join(os.environ["ACLM_HOME"], "aclm.db"), timeout=30)
    me = db.execute("SELECT id FROM tenants WHERE name = 'default'").fetchone()[0]
    other = db.execute("SELECT id FROM tenants WHERE name = 'other'").fetchone()[0]
    ids = lambda sql, *a: [x[0] for x in db.execute(sql, a).fetchall()]
    url = "http://127.0.0.1:%s/webhook" % os.environ["HOOK_PORT"]
    for n in ("page1", "page2"):
        expect("POST", "/api/v1/channels", 201,
               body={"name": n, "type": "slack", "params": {"url": url}})
        expect("POST", "/api/v1/targets", 201,
               body={"name": n, "type": "file", "options": {"cert_path": TMP + "/" + n + ".pem"}})
    expect("POST", "/api/v1/channels", 201, token=OTHER,
           body={"name": "otherpage", "type": "slack", "params": {"url": url}})
    loop = ids("SELECT id FROM scans WHERE tenant_id = ? AND name = 'loop'", me)[0]
    with db:
        for t, key in ((me, "p1"), (me, "p2"), (other, "o1")):
            db.execute("INSERT INTO acme_accounts(tenant_id, server, key_id, url, contact, status,"
                       " created_at, updated_at) VALUES(?, 'https://ca.page.test/dir', ?,"
                       " 'https://ca.page.test/acct/' || ?, '[]', 'valid', 1, 1)", (t, key, key))
        for t, name in ((me, "page1.test"), (me, "page2.test"), (other, "otherpage.test")):
            db.execute("INSERT INTO lineages(tenant_id, name, server, names, key_type, options,"
                       " created_at, updated_at) VALUES(?, ?, 'https://ca.page.test/dir',"
                       " json_array(?), 'p256', '{}', 1, 1)", (t, name, name))
        # Two more runs of "loop", and one carrying the other tenant (never shown to us).
        for t in (me, me, other):
            db.execute("INSERT INTO scan_runs(tenant_id, scan_id, state, started_at)"
                       " VALUES(?, ?, 'done', 1)", (t, loop))
        db.execute("INSERT INTO targets(tenant_id, name, type, options, verify, created_at,"
                   " updated_at) VALUES(?, 'otherpage', 'file', '{}', '[]', 1, 1)", (other,))
        # A deployment to each new target, a second (newer) one to "files", one of the other's.
        for t, target in ((me, "page1"), (me, "page2"), (me, "files"), (other, "otherpage")):
            db.execute("INSERT INTO deployments(tenant_id, target_id, lineage, fingerprint, state,"
                       " started_at) SELECT ?, id, 'www.api.test', 'ab', 'deployed', 2"
                       " FROM targets WHERE tenant_id = ? AND name = ?", (t, t, target))
    runs = walked("/api/v1/scans/%d/runs" % loop, lambda r: int(r["id"]),
                  ids("SELECT id FROM scan_runs WHERE tenant_id = ? AND scan_id = ?", me, loop),
                  ids("SELECT id FROM scan_runs WHERE tenant_id = ?", other))
    check([int(r["id"]) for r in runs] == sorted((int(r["id"]) for r in runs), reverse=True),
          "runs newest first: %s" % [r["id"] for r in runs])
    walked("/api/v1/acme/accounts", lambda r: r["id"],
           ids("SELECT id FROM acme_accounts WHERE tenant_id = ?", me),
           ids("SELECT id FROM acme_accounts WHERE tenant_id = ?", other))
    walked("/api/v1/orders", lambda r: r["lineage"],
           ids("SELECT name FROM lineages WHERE tenant_id = ?", me),
           ids("SELECT name FROM lineages WHERE tenant_id = ?", other))
    walked("/api/v1/channels", lambda r: r["name"],
           ids("SELECT name FROM notify_channels WHERE tenant_id = ?", me), ["otherpage"])
    walked("/api/v1/targets", lambda r: r["name"],
           ids("SELECT name FROM targets WHERE tenant_id = ?", me), ["otherpage"])
    want = ids("SELECT DISTINCT t.name FROM deployments d JOIN targets t ON t.id = d.target_id"
               " WHERE d.tenant_id = ?", me)
    check(len(want) == 3, "deployed targets %s" % want)
    deps = walked("/api/v1/deployments", lambda r: r["target"], want, ["otherpage"])
    files = [d for d in deps if d["target"] == "files"]
    check(files[0]["fingerprint"] == "ab", "the last deployment of a target: %s" % files)
    walked("/api/v1/deployments?lineage=www.api.test", lambda r: r["target"], want, ["otherpage"])
    db.close()
    print("cursor pages of runs, accounts, orders, channels, targets, deployments: ok")


channels()
scans_and_endpoints()
deployments(*orders())
sweep()
pages()
check(probes >= 30, "probes %d" % probes)
print("cross-tenant probes: %d, none leaked" % probes)
