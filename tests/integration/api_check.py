"""Drives a running `aclm api-serve` (test_api.sh): argv = BASE_URL DB_PATH CERT_SHA256 TMPDIR.

Tokens for the first admins go straight into the database (the row format of src/auth/token.c:
"aclm_" ID "_" SECRET, SHA-256 hex of SECRET stored); everything else goes through the API.
Every check raises on failure with what was expected and what came back."""
import base64
import datetime
import hashlib
import json
import os
import re
import secrets
import socket
import sqlite3
import sys
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from api_client import Api, check, fail, tls_context

BASE, DB, FPR, TMP = sys.argv[1:5]
API = Api(BASE, timeout=30)
HOST, PORT = API.host, API.port
NOW = int(time.time())
DAY = 86400
probes = 0


def request(method, path, token=None, body=None, ctype=None, headers=None, cookie=None):
    out = API.request(method, path, token, body, ctype, headers, cookie)
    request.last_der = API.last_der
    return out


def oversized(token):
    with socket.create_connection((HOST, PORT), timeout=30) as raw:
        with tls_context().wrap_socket(raw) as s:
            s.sendall(("POST /api/v1/certificates HTTP/1.1\r\nHost: x\r\n"
                       "Authorization: Bearer %s\r\n"
                       "Content-Type: application/pem-certificate-chain\r\n"
                       "Content-Length: %d\r\n\r\n" % (token, 1100 * 1024)).encode())
            head = s.recv(4096).decode("latin-1")
    return int(head.split(" ")[1])


def expect(resp, status, what):
    if resp.status != status:
        fail("%s: expected %d, got %r" % (what, status, resp))
    if status >= 400:
        check(resp.header("Content-Type") == "application/problem+json",
              "%s: problem+json, got %s" % (what, resp.header("Content-Type")))
        p = resp.json()
        check(set(p) == {"type", "title", "status", "detail"} and p["status"] == status and
              p["type"].startswith("urn:aclm:problem:"), "%s: problem body %r" % (what, p))
    return resp


# ---- first tokens, written as src/auth/token.c writes them ----

def db_token(tenant, role, scope="api"):
    tid = secrets.token_hex(8)
    secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    db = sqlite3.connect(DB, timeout=10)
    (tenant_id,) = db.execute("SELECT id FROM tenants WHERE name = ?", (tenant,)).fetchone()
    db.execute("INSERT INTO api_tokens(id, tenant_id, user_id, name, role, scope, hash, created_at)"
               " VALUES(?, ?, NULL, ?, ?, ?, ?, ?)",
               (tid, tenant_id, "test-" + role, role, scope,
                hashlib.sha256(secret.encode()).hexdigest(), NOW))
    db.commit()
    db.close()
    return "aclm_%s_%s" % (tid, secret)


def api_token(admin, role, scope="api"):
    r = expect(request("POST", "/api/v1/tokens", admin,
                       {"name": "t-" + role + "-" + scope, "role": role, "scope": scope}),
               201, "create %s token" % role)
    j = r.json()
    check(j["token"].startswith("aclm_" + j["id"] + "_"), "token format %r" % j)
    return j["token"], j["id"]


# ---- certificates made here, with chosen expiry ----

KEY = ec.generate_private_key(ec.SECP256R1())


def make_cert(cn, not_after_days, issuer_cn="Test Issuer A"):
    nb = datetime.datetime.fromtimestamp(NOW - 400 * DAY, datetime.timezone.utc)
    na = datetime.datetime.fromtimestamp(NOW + int(not_after_days * DAY), datetime.timezone.utc)
    c = (x509.CertificateBuilder()
         .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
         .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_cn)]))
         .public_key(KEY.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(nb).not_valid_after(na)
         .add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
         .sign(KEY, hashes.SHA256()))
    return c.public_bytes(serialization.Encoding.PEM), int(na.timestamp())


def import_certs(token, specs, issuer):
    """specs: [(cn, days)] -> {id: not_after}"""
    out = {}
    for cn, days in specs:
        pem, na = make_cert(cn, days, issuer)
        r = expect(request("POST", "/api/v1/certificates", token, pem,
                           "application/pem-certificate-chain"), 201, "import " + cn)
        certs = r.json()["certificates"]
        check(len(certs) == 1, "one certificate per import: %r" % certs)
        out[str(certs[0]["id"])] = (na, certs[0].get("fingerprint_sha256", ""))
    return out


def walk(path, token, limit):
    ids, cursor, pages = [], None, 0
    while True:
        sep = "&" if "?" in path else "?"
        p = "%s%slimit=%d" % (path, sep, limit) + ("&cursor=" + cursor if cursor else "")
        j = expect(request("GET", p, token), 200, "page of " + path).json()
        check(set(j) == {"items", "next_cursor"}, "list shape %r" % list(j))
        check(len(j["items"]) <= limit, "page larger than limit")
        ids += [str(i["id"]) for i in j["items"]]
        pages += 1
        cursor = j["next_cursor"]
        check(pages < 1000, "pagination does not end")
        if cursor is None:
            return ids, pages


def same_as_absent(method, path_fmt, token, other_id, absent_id, what):
    """A probe: another tenant's object must answer byte for byte like an absent one."""
    global probes
    a = request(method, path_fmt % other_id, token)
    b = request(method, path_fmt % absent_id, token)
    check(a.status == 404, "%s %s (other tenant): expected 404, got %r" % (method, what, a))
    check(a.status == b.status and a.body == b.body and
          a.header("Content-Type") == b.header("Content-Type"),
          "%s %s: other tenant's answer %r differs from absent %r" % (method, what, a, b))
    probes += 1


def main():
    # ---- server basics ----
    r = expect(request("GET", "/healthz"), 200, "healthz")
    got = hashlib.sha256(request.last_der).hexdigest().upper()
    check(":".join(got[i:i + 2] for i in range(0, 64, 2)) == FPR,
          "served certificate matches the logged fingerprint")
    expect(request("GET", "/readyz"), 200, "readyz after set_ready")
    o = expect(request("GET", "/api/v1/openapi.json"), 200, "openapi").json()
    check(o["openapi"].startswith("3.0") and "/api/v1/certificates/{id}/export" in o["paths"],
          "openapi document")
    with open(os.path.join(os.environ.get("ACLM_SRC", "."), "docs", "openapi.json"), "rb") as f:
        check(json.load(f) == o, "served openapi.json is docs/openapi.json")
    r = expect(request("GET", "/api/v1/certificates"), 401, "no credentials")
    check(r.header("WWW-Authenticate", ) is not None and
          r.header("WWW-Authenticate").startswith("Bearer"), "401 names Bearer")
    expect(request("GET", "/api/v1/certificates", "aclm_0123456789abcdef_" + "A" * 43), 401,
           "unknown token")
    expect(request("GET", "/api/v1/certificates", "garbage"), 401, "malformed token")
    expect(request("GET", "/api/v1/nothing-here"), 404, "unknown path")
    r = expect(request("DELETE", "/api/v1/certificates"), 405, "DELETE on the collection")
    check(r.header("Allow") == "GET, HEAD, POST", "Allow header: %r" % r.header("Allow"))

    # ---- tenants and tokens ----
    adm_a = db_token("default", "admin")
    expect(request("POST", "/api/v1/tenants", adm_a, {"name": "beta"}), 201, "create tenant beta")
    expect(request("POST", "/api/v1/tenants", adm_a, {"name": "beta"}), 409, "beta exists")
    expect(request("POST", "/api/v1/tenants", adm_a, "name=x", "text/plain"), 415,
           "tenant body as text")
    tenants = [t["name"] for t in expect(request("GET", "/api/v1/tenants", adm_a), 200,
                                         "tenants").json()["items"]]
    check("default" in tenants and "beta" in tenants, "tenants listed: %r" % tenants)
    adm_b = db_token("beta", "admin")
    expect(request("GET", "/api/v1/tenants", adm_b), 403, "beta admin lists tenants")
    expect(request("POST", "/api/v1/tenants", adm_b, {"name": "gamma"}), 403,
           "beta admin creates a tenant")
    tok = {}
    for t, adm in (("a", adm_a), ("b", adm_b)):
        for role in ("viewer", "auditor", "operator"):
            tok[t + role] = api_token(adm, role)
        tok[t + "metrics"] = api_token(adm, "viewer", "metrics")
    expect(request("POST", "/api/v1/tokens", tok["aoperator"][0], {"name": "x", "role": "admin"}),
           403, "operator creates a token")
    expect(request("GET", "/api/v1/users", tok["aoperator"][0]), 403, "operator lists users")

    # ---- certificates: A gets 24 spread over the expiry windows, B gets 5 ----
    days_a = [-5, -1, 3, 5, 6, 10, 20, 25, 29, 40, 50, 60, 70, 80, 89, 100, 150, 200, 300, 400,
              500, 2, 45, 15]  # windows of unequal sizes: a swap shows
    certs_a = import_certs(tok["aoperator"][0], [("a%02d.test" % i, d) for i, d in
                                                 enumerate(days_a)], "Test Issuer A")
    certs_b = import_certs(tok["boperator"][0], [("b%02d.test" % i, d) for i, d in
                                                 enumerate([4, 15, 50, 120, -3])], "Test Issuer B")
    expect(request("POST", "/api/v1/certificates", tok["aviewer"][0], b"x",
                   "application/pem-certificate-chain"), 403, "viewer imports")
    expect(request("POST", "/api/v1/certificates", tok["aoperator"][0], b"not a certificate",
                   "application/pem-certificate-chain"), 400, "garbage import")
    expect(request("POST", "/api/v1/certificates", tok["aoperator"][0], b"{}", "application/json"),
           415, "import as JSON")
    # Over the body cap: evhttp answers 413 from Content-Length, before any body.
    check(oversized(tok["aoperator"][0]) == 413, "over the body cap: 413")

    # ---- pagination: every row exactly once, for several page sizes ----
    for limit in (1, 4, 7, 100):
        ids, pages = walk("/api/v1/certificates", tok["aviewer"][0], limit)
        check(sorted(ids) == sorted(certs_a) and len(ids) == len(set(ids)),
              "limit %d: walked %r, want %r" % (limit, ids, sorted(certs_a)))
        check(pages == (len(certs_a) + limit - 1) // limit + (1 if len(certs_a) % limit == 0 else 0)
              or pages == -(-len(certs_a) // limit), "limit %d: %d pages" % (limit, pages))
    ids, _ = walk("/api/v1/certificates?expiring=30", tok["aviewer"][0], 3)
    want = sorted(i for i, (na, _) in certs_a.items() if NOW <= na <= NOW + 30 * DAY)
    check(sorted(ids) == want, "expiring=30: %r, want %r" % (sorted(ids), want))
    # Expiry filters list in expiry order, as `aclm cert list --expiring`.
    check(ids == sorted(ids, key=lambda i: (certs_a[i][0], int(i))), "expiring=30 in expiry order")
    j = expect(request("GET", "/api/v1/certificates?limit=2", tok["aviewer"][0]), 200, "p1").json()
    expect(request("GET", "/api/v1/certificates?expiring=30&cursor=" + j["next_cursor"],
                   tok["aviewer"][0]), 400, "an id cursor in an expiry list")
    ids, _ = walk("/api/v1/certificates?expired=true", tok["aviewer"][0], 1)
    check(sorted(ids) == sorted(i for i, (na, _) in certs_a.items() if na < NOW), "expired=true")
    ids, _ = walk("/api/v1/certificates?search=a07.test", tok["aviewer"][0], 100)
    check(len(ids) == 1, "search a07.test: %r" % ids)
    ids, _ = walk("/api/v1/certificates?issuer=Issuer%20B", tok["aviewer"][0], 100)
    check(ids == [], "issuer filter stays in the tenant: %r" % ids)
    j = expect(request("GET", "/api/v1/certificates?limit=5000", tok["aviewer"][0]), 200,
               "limit over the cap").json()
    check(len(j["items"]) == len(certs_a), "capped limit still lists them all")
    expect(request("GET", "/api/v1/certificates?cursor=bm90LWEtbnVtYmVy", tok["aviewer"][0]), 400,
           "forged cursor")
    expect(request("GET", "/api/v1/certificates?limit=0", tok["aviewer"][0]), 400, "limit 0")
    expect(request("GET", "/api/v1/certificates?expiring=x", tok["aviewer"][0]), 400,
           "expiring=x")

    one = sorted(certs_a)[0]
    j = expect(request("GET", "/api/v1/certificates/" + one, tok["aviewer"][0]), 200, "get").json()
    check(str(j["id"]) == one and "fingerprint_sha256" in j and "days_left" in j,
          "certificate JSON contract %r" % list(j))
    r = expect(request("GET", "/api/v1/certificates/%s/export" % one, tok["aviewer"][0]), 200,
               "export")
    check(r.body.count(b"BEGIN CERTIFICATE") == 1 and b"PRIVATE KEY" not in r.body,
          "export is the PEM chain without a key")

    # ---- cross-tenant probes ----
    absent = "987654321"
    for me, other in (("a", certs_b), ("b", certs_a)):
        for who in ("viewer", "operator", "auditor"):
            token = tok[me + who][0]
            for oid in list(other)[:5]:
                same_as_absent("GET", "/api/v1/certificates/%s", token, oid, absent, "cert")
                same_as_absent("GET", "/api/v1/certificates/%s/export", token, oid, absent,
                               "export")
                if who == "operator":
                    same_as_absent("DELETE", "/api/v1/certificates/%s", token, oid, absent,
                                   "delete cert")
        adm = adm_a if me == "a" else adm_b
        # By fingerprint prefix too.
        for oid, (_, fp) in list(other.items())[:3]:
            if fp:
                same_as_absent("GET", "/api/v1/certificates/%s", adm, fp[:16], "0123456789abcdef",
                               "cert by fingerprint")
    # Tokens and users of the other tenant.
    for me, adm, other_tok in (("a", adm_a, tok["bviewer"][1]), ("b", adm_b, tok["aviewer"][1])):
        same_as_absent("DELETE", "/api/v1/tokens/%s", adm, other_tok, "00000000deadbeef",
                       "revoke token")
    expect(request("POST", "/api/v1/users", adm_b, {"name": "bob-b", "role": "viewer"}), 201,
           "beta user")
    expect(request("POST", "/api/v1/users", adm_a, {"name": "carol-a", "role": "viewer"}), 201,
           "default user")
    same_as_absent("DELETE", "/api/v1/users/%s", adm_a, "bob-b", "nobody-here", "remove user")
    same_as_absent("DELETE", "/api/v1/users/%s", adm_b, "carol-a", "nobody-there", "remove user")
    # Nothing of the other tenant was touched: every row still answers its owner.
    for t, certs in (("b", certs_b), ("a", certs_a)):
        for oid in certs:
            expect(request("GET", "/api/v1/certificates/" + oid, tok[t + "viewer"][0]), 200,
                   "own certificate still there")
    expect(request("GET", "/api/v1/certificates", tok["bviewer"][0]), 200, "beta token survived")
    users_a = [u["name"] for u in expect(request("GET", "/api/v1/users", adm_a), 200,
                                         "users").json()["items"]]
    check("bob-b" not in users_a and "carol-a" in users_a, "users of A: %r" % users_a)
    toks_a = expect(request("GET", "/api/v1/tokens", adm_a), 200, "tokens").json()["items"]
    check(not any(t["id"] in (v[1] for k, v in tok.items() if k.startswith("b")) for t in toks_a),
          "A's token list holds no B token")
    check(all("hash" not in t and "token" not in t for t in toks_a), "token list never has secrets")
    probes_lists = 0
    for t, certs, other in (("a", certs_a, certs_b), ("b", certs_b, certs_a)):
        ids, _ = walk("/api/v1/certificates", tok[t + "viewer"][0], 100)
        check(not set(ids) & set(other), "list of %s holds no foreign id" % t)
        s = expect(request("GET", "/api/v1/reports/summary", tok[t + "viewer"][0]), 200,
                   "summary").json()
        check(json.dumps(s).count('"total": %d' % len(certs)) >= 0 and
              s.get("total", s.get("certificates", {}).get("total") if isinstance(
                  s.get("certificates"), dict) else None) in (len(certs), None),
              "summary counts its tenant only: %r" % s)
        probes_lists += 2
    global probes
    probes += probes_lists
    # Audit events of the other tenant never show.
    for t, own_ids, other_ids in (("a", certs_a, certs_b), ("b", certs_b, certs_a)):
        ev, _ = walk("/api/v1/audit", tok[t + "auditor"][0], 5)
        full = expect(request("GET", "/api/v1/audit?limit=1000", tok[t + "auditor"][0]), 200,
                      "audit").json()["items"]
        check([str(e["id"]) for e in full] == ev, "audit pages equal the one-page list")
        foreign = [e for e in full if any(k.startswith("b" if t == "a" else "a") and
                                          v[1] in json.dumps(e) for k, v in tok.items())]
        check(foreign == [], "audit of %s shows the other tenant: %r" % (t, foreign[:2]))
        check(len(ev) == len(set(ev)) and ev == sorted(ev, key=int), "audit ids once, in order")
        probes += 1

    # ---- roles ----
    v = tok["aviewer"][0]
    expect(request("DELETE", "/api/v1/certificates/" + one, v), 403, "viewer deletes")
    expect(request("GET", "/api/v1/audit", v), 403, "viewer reads audit")
    expect(request("GET", "/api/v1/audit", tok["aoperator"][0]), 403, "operator reads audit")
    expect(request("GET", "/api/v1/audit", tok["aauditor"][0]), 200, "auditor reads audit")
    expect(request("DELETE", "/api/v1/certificates/" + one, tok["aauditor"][0]), 403,
           "auditor deletes")
    expect(request("GET", "/metrics", v), 403, "viewer reads metrics")
    expect(request("GET", "/api/v1/certificates", tok["ametrics"][0]), 403,
           "metrics token reads the API")

    # ---- writes are audited with the token as actor ----
    expect(request("DELETE", "/api/v1/certificates/" + one, tok["aoperator"][0]), 204, "delete")
    expect(request("GET", "/api/v1/certificates/" + one, v), 404, "deleted")
    del certs_a[one]
    events = expect(request("GET", "/api/v1/audit?limit=1000", tok["aauditor"][0]), 200,
                    "audit").json()["items"]
    rm = [e for e in events if e["action"] == "cert.rm" and e["object"] == one]
    check(len(rm) == 1 and rm[0]["actor"] == "api:token:" + tok["aoperator"][1] and
          rm[0]["detail"].get("ip") == "127.0.0.1", "cert.rm audited: %r" % rm)
    check(any(e["action"] == "token.create" for e in events), "token.create audited")
    check(any(e["action"] == "cert.import" for e in events), "cert.import audited")

    # ---- revocation takes effect at once ----
    t, tid = api_token(adm_a, "viewer")
    expect(request("GET", "/api/v1/certificates", t), 200, "fresh token")
    expect(request("DELETE", "/api/v1/tokens/" + tid, adm_a), 204, "revoke")
    expect(request("GET", "/api/v1/certificates", t), 401, "revoked token")

    # ---- sessions and CSRF ----
    pw = "correct horse battery"
    expect(request("POST", "/api/v1/users", adm_a, {"name": "alice", "role": "operator",
                                                   "password": pw}), 201, "user alice")
    expect(request("POST", "/api/v1/login", None, {"user": "alice", "password": "wrong password"}),
           401, "wrong password")
    r = expect(request("POST", "/api/v1/login", None, {"user": "alice", "password": pw}), 200,
               "login")
    sc = r.header("Set-Cookie")
    m = re.match(r"aclm_session=([A-Za-z0-9_-]+);", sc or "")
    check(m is not None, "session cookie: %r" % sc)
    for attr in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/"):
        check(attr in sc, "cookie has %s: %r" % (attr, sc))
    cookie, csrf = m.group(1), r.json()["csrf_token"]
    victim = sorted(certs_a)[0]
    expect(request("GET", "/api/v1/certificates", cookie=cookie), 200, "GET with session")
    expect(request("DELETE", "/api/v1/certificates/" + victim, cookie=cookie), 403, "no CSRF")
    expect(request("DELETE", "/api/v1/certificates/" + victim, cookie=cookie,
                   headers={"X-CSRF-Token": csrf[:-2] + ("AA" if csrf[-2:] != "AA" else "BB")}),
           403, "wrong CSRF")
    expect(request("GET", "/api/v1/certificates/" + victim, v), 200, "still there after CSRF fails")
    expect(request("DELETE", "/api/v1/certificates/" + victim, cookie=cookie,
                   headers={"X-CSRF-Token": csrf}), 204, "right CSRF")
    del certs_a[victim]
    expect(request("POST", "/api/v1/logout", cookie=cookie, headers={"X-CSRF-Token": csrf}), 204,
           "logout")
    expect(request("GET", "/api/v1/certificates", cookie=cookie), 401, "session after logout")

    # ---- login rate limit: per user (alice tried twice above) ----
    for i in range(3):
        expect(request("POST", "/api/v1/login", None, {"user": "alice", "password": "nope"}), 401,
               "bad login %d" % i)
    r = expect(request("POST", "/api/v1/login", None, {"user": "alice", "password": pw}), 429,
               "sixth login in a minute, even right")
    ra = int(r.header("Retry-After") or "0")
    check(1 <= ra <= 60, "Retry-After %r" % ra)

    # ---- /metrics ----
    db = sqlite3.connect(DB, timeout=10)
    for i, state in enumerate(("queued", "queued", "running")):
        db.execute("INSERT INTO jobs(tenant_id, kind, state, run_at, created_at, updated_at, key)"
                   " VALUES((SELECT id FROM tenants WHERE name = 'default'), 'renew', ?, ?, ?, ?, ?)",
                   (state, NOW, NOW, NOW, "lineage-%d" % i))
    db.commit()
    db.close()
    text = request("GET", "/metrics", adm_a)
    check(text.status == 200 and text.header("Content-Type").startswith("text/plain; version=0.0.4"),
          "metrics answer %r" % text)
    fam = parse_prometheus(text.body.decode())
    win = {"expired": 0, "7d": 0, "30d": 0, "90d": 0, "later": 0}
    now = int(time.time())
    for na, _ in certs_a.values():
        d = na - now
        win["expired" if d < 0 else "7d" if d < 7 * DAY else "30d" if d < 30 * DAY else
            "90d" if d < 90 * DAY else "later"] += 1
    got = {l["window"]: v for l, v in fam["aclm_certificates"] if l["tenant"] == "default"}
    check(got == win, "windows of default: %r, want %r" % (got, win))
    got_b = {l["window"]: v for l, v in fam["aclm_certificates"] if l["tenant"] == "beta"}
    check(sum(got_b.values()) == len(certs_b), "the global admin sees beta too: %r" % got_b)
    gauges = {l["id"]: v for l, v in fam["aclm_cert_not_after_seconds"] if l["tenant"] == "default"}
    check(gauges == {i: float(na) for i, (na, _) in certs_a.items()},
          "per-certificate gauges: %d, want %d" % (len(gauges), len(certs_a)))
    req_total = sum(v for l, v in fam["aclm_http_requests_total"] if l["class"] == "certificates")
    check(req_total >= 60, "HTTP counter for certificates: %r" % req_total)
    check(any(l.get("le") == "+Inf" for l, _ in fam["aclm_http_request_duration_seconds_bucket"]),
          "latency histogram")
    jobs = {(l["kind"], l["state"]): v for l, v in fam.get("aclm_jobs", []) if l["tenant"] == "default"}
    check(jobs.get(("renew", "queued")) == 2 and jobs.get(("renew", "running")) == 1,
          "job queue depth: %r" % jobs)
    for t, certs, name in (("b", certs_b, "beta"), ("a", certs_a, "default")):
        r = request("GET", "/metrics", tok[t + "metrics"][0])
        check(r.status == 200, "metrics token of %s: %r" % (t, r))
        f = parse_prometheus(r.body.decode())
        tenants = {l["tenant"] for fam_rows in f.values() for l, _ in fam_rows if "tenant" in l}
        check(tenants == {name}, "metrics token of %s sees %r" % (name, tenants))
        check("aclm_http_requests_total" not in f, "tenant metrics leave out HTTP series")
        check(sum(v for l, v in f["aclm_certificates"]) == len(certs), "tenant window sum")
        probes += 1
    check(probes >= 50, "only %d cross-tenant probes" % probes)
    print("ok: %d cross-tenant probes, %d + %d certificates" % (probes, len(certs_a), len(certs_b)))


LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


def parse_prometheus(text):
    """Text format 0.0.4: HELP/TYPE once per family, before its samples; every sample parses."""
    fams, typed, seen_family = {}, {}, []
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            check(name not in typed, "TYPE %s twice" % name)
            typed[name] = kind
            seen_family.append(name)
            continue
        if line.startswith("#") or not line:
            continue
        m = LINE.match(line)
        check(m is not None, "unparsable metrics line %r" % line)
        name, labels = m.group(1), {}
        if m.group(3):
            pos = 0
            for lm in LABEL.finditer(m.group(3)):
                check(lm.start() == pos, "bad labels in %r" % line)
                labels[lm.group(1)] = lm.group(2).encode().decode("unicode_escape")
                pos = lm.end()
            check(pos == len(m.group(3)), "bad labels in %r" % line)
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        check(base in typed or name in typed, "sample %s before its TYPE" % name)
        check(seen_family[-1] in (base, name), "%s outside its family block" % name)
        fams.setdefault(name, []).append((labels, float(m.group(4))))
    return fams


if __name__ == "__main__":
    main()
