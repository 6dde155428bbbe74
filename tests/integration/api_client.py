"""The REST API client of the Python checks (api_check.py, api_resources_check.py): one HTTPS
request per connection to `aclm serve` (its certificate is not verified: the checks pin it by
fingerprint where it matters), the response as Resp, failures as SystemExit("FAIL: ...")."""
import http.client
import json
import ssl


def fail(msg):
    raise SystemExit("FAIL: " + msg)


def check(cond, msg):
    if not cond:
        fail(msg)


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def __repr__(self):
        return "%d %s" % (self.status, self.body[:400])


class Api:
    """BASE_URL "https://HOST:PORT"; last_der: the server certificate of the last request."""

    def __init__(self, base, timeout=60):
        host, port = base.split("//")[1].split(":")
        self.host, self.port, self.timeout = host, int(port), timeout
        self.last_der = None

    def request(self, method, path, token=None, body=None, ctype=None, headers=None,
                cookie=None):
        conn = http.client.HTTPSConnection(self.host, self.port, context=tls_context(),
                                           timeout=self.timeout)
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        if cookie:
            h["Cookie"] = "aclm_session=" + cookie
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            ctype = ctype or "application/json"
        if ctype:
            h["Content-Type"] = ctype
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        out = Resp(r.status, r.getheaders(), r.read())
        self.last_der = conn.sock.getpeercert(binary_form=True) if conn.sock else None
        conn.close()
        return out
