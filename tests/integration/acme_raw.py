#!/usr/bin/env python3
"""acme_raw: an ACME (RFC 8555) request builder independent of aclm's own client, for sending
malformed requests to `aclm ca serve`. It runs a table of cases, each a mutation of a request that
would otherwise succeed, and checks the HTTP status and problem type of each answer; after every
case the directory must still answer (the server keeps serving). One line per case; exit 1 if any
case fails. Standard library + python3-cryptography only.

  acme_raw.py main --dir URL --roots PEM --http-port N
  acme_raw.py eab  --dir URL --roots PEM --http-port N --eab-kid K --eab-hmac FILE
                   --corp-kid K --corp-hmac FILE   (the CA runs with --eab-required; the corp key
                   was created with --allow '*.corp.example')
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import http.server
import ipaddress
import json
import os
import ssl
import sys
import threading
import time
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

URN = "urn:ietf:params:acme:error:"
POLL_S = 30


class SetupError(Exception):
    """A step that a case needs (not the step it tests) did not work."""


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_json(obj):
    return b64u(json.dumps(obj, separators=(",", ":")).encode())


def int_bytes(n):
    return n.to_bytes(max(1, (n.bit_length() + 7) // 8), "big")


def b64u_decode(text):
    text = text.strip()
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# ---- keys and JWS (RFC 7515, RFC 7518, RFC 8037) ----

class Key:
    """An account or certificate key: its JWK, its JWS alg, and JWS-form signatures."""

    def __init__(self, kind="p256"):
        self.kind = kind
        if kind == "p256":
            self.priv = ec.generate_private_key(ec.SECP256R1())
            self.alg = "ES256"
        elif kind == "secp256k1":
            self.priv = ec.generate_private_key(ec.SECP256K1())
            self.alg = "ES256K"
        elif kind.startswith("rsa"):
            self.priv = rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:]))
            self.alg = "RS256"
        elif kind == "ed25519":
            self.priv = ed25519.Ed25519PrivateKey.generate()
            self.alg = "EdDSA"
        else:
            raise ValueError(kind)

    def jwk(self):
        pub = self.priv.public_key()
        if self.kind == "ed25519":
            raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            return {"crv": "Ed25519", "kty": "OKP", "x": b64u(raw)}
        if self.kind.startswith("rsa"):
            nums = pub.public_numbers()
            return {"e": b64u(int_bytes(nums.e)), "kty": "RSA", "n": b64u(int_bytes(nums.n))}
        nums = pub.public_numbers()
        return {"crv": "P-256", "kty": "EC", "x": b64u(nums.x.to_bytes(32, "big")),
                "y": b64u(nums.y.to_bytes(32, "big"))}

    def thumbprint(self):
        # RFC 7638 §3: the required members, sorted, no whitespace.
        text = json.dumps(self.jwk(), sort_keys=True, separators=(",", ":")).encode()
        return b64u(hashlib.sha256(text).digest())

    def sign(self, data):
        if self.kind == "ed25519":
            return self.priv.sign(data)
        if self.kind.startswith("rsa"):
            return self.priv.sign(data, padding.PKCS1v15(), hashes.SHA256())
        # RFC 7518 §3.4: ECDSA signatures are r || s, each 32 octets for P-256.
        r, s = utils.decode_dss_signature(self.priv.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def sign_der(self, data):
        """An ECDSA signature in DER (the wrong form for JWS)."""
        return self.priv.sign(data, ec.ECDSA(hashes.SHA256()))


# ---- HTTP ----

class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers            # lowercased name -> list of values
        self.body = body
        self.json = None
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            pass

    def header(self, name):
        v = self.headers.get(name.lower())
        return v[0] if v else None

    @property
    def location(self):
        return self.header("Location")

    @property
    def ptype(self):
        """The problem type without the ACME URN prefix, or None when not a problem document."""
        ctype = (self.header("Content-Type") or "").split(";")[0].strip()
        if ctype != "application/problem+json" or not isinstance(self.json, dict):
            return None
        t = self.json.get("type")
        if isinstance(t, str) and t.startswith(URN):
            return t[len(URN):]
        return t

    def summary(self):
        s = "%d/%s" % (self.status, self.ptype or "-")
        if isinstance(self.json, dict) and self.ptype is not None:
            s += " (%s)" % str(self.json.get("detail", ""))[:160]
        return s


class Conn:
    """One ACME server: plain requests, nonces, signed requests."""

    def __init__(self, dir_url, roots):
        self.dir_url = dir_url
        u = urllib.parse.urlsplit(dir_url)
        self.host, self.port = u.hostname, u.port
        self.base = "%s://%s" % (u.scheme, u.netloc)
        self.ctx = ssl.create_default_context(cafile=roots)
        self.nonce = None
        r = self.request("GET", dir_url)
        if r.status != 200 or not isinstance(r.json, dict):
            raise SetupError("directory: %s" % r.summary())
        self.dir = r.json

    def request(self, method, url, body=None, headers=None):
        u = urllib.parse.urlsplit(url)
        path = u.path + ("?" + u.query if u.query else "")
        c = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=30)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            hdrs = {}
            for k, v in r.getheaders():
                hdrs.setdefault(k.lower(), []).append(v)
        finally:
            c.close()
        resp = Resp(r.status, hdrs, data)
        if resp.header("Replay-Nonce"):
            self.nonce = resp.header("Replay-Nonce")
        return resp

    def new_nonce(self):
        if self.nonce is None:
            r = self.request("HEAD", self.dir["newNonce"])
            if self.nonce is None:
                raise SetupError("newNonce: no Replay-Nonce (%d)" % r.status)
        n, self.nonce = self.nonce, None
        return n

    def alive(self):
        """The directory still answers: 200 and a JSON object naming newNonce."""
        try:
            r = self.request("GET", self.dir_url)
        except OSError as e:
            return "directory: %s" % e
        if r.status != 200 or not isinstance(r.json, dict) or "newNonce" not in r.json:
            return "directory: %s" % r.summary()
        return None

    def jws(self, url, payload, key, kid=None, prot=None, drop=(), payload_b64=None,
            sign_over=None, sig=None):
        """The flattened JWS (RFC 8555 §6.2) as a dict; each argument after kid mutates it."""
        h = {"alg": key.alg, "nonce": None, "url": url}
        if kid is not None:
            h["kid"] = kid
        else:
            h["jwk"] = key.jwk()
        h.update(prot or {})
        for k in drop:
            h.pop(k, None)
        if "nonce" in h and h["nonce"] is None:
            h["nonce"] = self.new_nonce()
        pb = payload_b64 if payload_b64 is not None else \
            ("" if payload is None else b64u_json(payload))
        hb = b64u_json(h)
        if sig is None:
            sig = b64u(key.sign(("%s.%s" % (hb, pb if sign_over is None else sign_over)).encode()))
        return {"protected": hb, "payload": pb, "signature": sig}

    def send(self, url, body, ctype="application/jose+json", method="POST"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.request(method, url, data, {"Content-Type": ctype} if ctype else {})

    def post(self, url, payload, key, kid=None, **mut):
        return self.send(url, self.jws(url, payload, key, kid, **mut))


# ---- accounts, orders, validation ----

class Account:
    def __init__(self, key, url):
        self.key = key
        self.url = url


class Http01:
    """Answers the VA's http-01 requests from a token -> key authorization table."""

    def __init__(self, port):
        tokens = self.tokens = {}

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                prefix = "/.well-known/acme-challenge/"
                ka = tokens.get(self.path[len(prefix):]) if self.path.startswith(prefix) else None
                body = (ka or "not found").encode()
                self.send_response(200 if ka else 404)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.srv.daemon_threads = True
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()


class Ctx:
    def __init__(self, conn, http01):
        self.c = conn
        self.http01 = http01
        self.run = b64u(os.urandom(6)).lower().replace("_", "x").replace("-", "y")
        self.n = 0

    def name(self, tag):
        """A fresh DNS name (challtestsrv resolves every name to 127.0.0.1)."""
        self.n += 1
        return "%s%d-%s.example.test" % (tag, self.n, self.run)

    def new_account(self, key=None, payload=None, want=201):
        key = key or Key()
        r = self.c.post(self.c.dir["newAccount"], payload if payload is not None
                        else {"termsOfServiceAgreed": True}, key)
        if r.status != want or not r.location:
            raise SetupError("newAccount: %s" % r.summary())
        return Account(key, r.location)

    def get(self, acct, url):
        """POST-as-GET (RFC 8555 §6.3)."""
        return self.c.post(url, None, acct.key, acct.url)

    def new_order(self, acct, idents, extra=None):
        payload = {"identifiers": [{"type": t, "value": v} for t, v in idents]}
        payload.update(extra or {})
        return self.c.post(self.c.dir["newOrder"], payload, acct.key, acct.url)

    def order_ok(self, acct, idents, extra=None):
        r = self.new_order(acct, idents, extra)
        if r.status != 201 or not r.location:
            raise SetupError("newOrder %s: %s" % (idents, r.summary()))
        return r.location, r.json

    def authz(self, acct, url):
        r = self.get(acct, url)
        if r.status != 200:
            raise SetupError("authorization: %s" % r.summary())
        return r.json

    def validate(self, acct, authz_url):
        a = self.authz(acct, authz_url)
        if a["status"] == "valid":
            return
        ch = [c for c in a["challenges"] if c["type"] == "http-01"]
        if not ch:
            raise SetupError("no http-01 challenge for %s" % a["identifier"])
        self.http01.tokens[ch[0]["token"]] = ch[0]["token"] + "." + acct.key.thumbprint()
        r = self.c.post(ch[0]["url"], {}, acct.key, acct.url)
        if r.status != 200:
            raise SetupError("challenge: %s" % r.summary())
        deadline = time.time() + POLL_S
        while time.time() < deadline:
            a = self.authz(acct, authz_url)
            if a["status"] == "valid":
                return
            if a["status"] != "pending":
                raise SetupError("authorization %s: %s" % (a["status"], a["challenges"]))
            time.sleep(0.2)
        raise SetupError("authorization still pending after %d s" % POLL_S)

    def poll_order(self, acct, url, want):
        deadline = time.time() + POLL_S
        while time.time() < deadline:
            r = self.get(acct, url)
            if r.status != 200:
                raise SetupError("order: %s" % r.summary())
            if r.json["status"] == want:
                return r.json
            if r.json["status"] not in ("pending", "processing", "ready"):
                raise SetupError("order %s: %s" % (r.json["status"], r.json.get("error")))
            time.sleep(0.2)
        raise SetupError("order not %s after %d s" % (want, POLL_S))

    def ready_order(self, acct, names):
        """An order for these DNS names whose authorizations are valid: (url, order)."""
        url, order = self.order_ok(acct, [("dns", n) for n in names])
        for a in order["authorizations"]:
            self.validate(acct, a)
        return url, self.poll_order(acct, url, "ready")

    def finalize(self, acct, order, csr_der):
        return self.c.post(order["finalize"], {"csr": b64u(csr_der)}, acct.key, acct.url)

    def issue(self, acct, names):
        """A certificate for names: (x509 certificate, DER)."""
        url, order = self.ready_order(acct, names)
        r = self.finalize(acct, order, csr(names, Key()))
        if r.status != 200:
            raise SetupError("finalize: %s" % r.summary())
        order = self.poll_order(acct, url, "valid")
        r = self.get(acct, order["certificate"])
        if r.status != 200:
            raise SetupError("certificate: %s" % r.summary())
        # The leaf is the first PEM block (load_pem_x509_certificates needs cryptography 39).
        cert = x509.load_pem_x509_certificate(r.body.split(b"-----END CERTIFICATE-----")[0] +
                                              b"-----END CERTIFICATE-----\n")
        return cert, cert.public_bytes(serialization.Encoding.DER)


def csr(names, key):
    """A DER CSR (RFC 2986) naming names (str: DNS; bytes: an IP address in text) in its
    subjectAltName, with key's public key, signed by key."""
    sans = [x509.IPAddress(ipaddress.ip_address(n.decode())) if isinstance(n, bytes)
            else x509.DNSName(n) for n in names]
    req = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([])) \
        .add_extension(x509.SubjectAlternativeName(sans), critical=False) \
        .sign(key.priv, hashes.SHA256())
    return req.public_bytes(serialization.Encoding.DER)


def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = int_bytes(n)
    return bytes([0x80 | len(b)]) + b


def der_tlv(tag, content):
    return bytes([tag]) + der_len(len(content)) + content


def der_parse(data, off=0):
    """(tag, content start, content end) of the DER element at off."""
    tag, n = data[off], data[off + 1]
    off += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(data[off:off + k], "big")
        off += k
    return tag, off, off + n


def csr_parts(der):
    """The three elements of a CertificationRequest: info, algorithm, signature (DER each)."""
    _, start, end = der_parse(der)
    parts, off = [], start
    while off < end:
        _, s, e = der_parse(der, off)
        parts.append(der[off:e])
        off = e
    return parts


def csr_foreign_key(names, key, signer):
    """A CSR whose info names key but that signer signed: well-formed, yet its self-signature
    (RFC 2986 §4.2) does not verify with the key it carries."""
    info_key = csr_parts(csr(names, key))[0]
    sig = signer.sign_der(info_key) if signer.kind == "p256" else \
        signer.priv.sign(info_key, padding.PKCS1v15(), hashes.SHA256())
    alg = csr_parts(csr(names, signer))[1]
    return der_tlv(0x30, info_key + alg + der_tlv(0x03, b"\x00" + sig))


def csr_broken_sig(names, key):
    der = bytearray(csr(names, key))
    der[-1] ^= 0x01  # the last octet of the signature's s (ECDSA) — still parseable DER
    return bytes(der)


def ari_id(cert):
    """RFC 9773 §4.1: base64url(AKI keyIdentifier) "." base64url(serial DER content octets)."""
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    n = cert.serial_number
    return b64u(aki.key_identifier) + "." + b64u(n.to_bytes((n.bit_length() + 8) // 8, "big"))


# ---- the case table ----

class Case:
    """name; fn(ctx) -> Resp or (Resp, error text or None); the wanted status (int or tuple)
    and problem type (None: a success, not a problem document)."""

    def __init__(self, name, fn, status, ptype):
        self.name, self.fn, self.status, self.ptype = name, fn, status, ptype


def check(case, r, extra):
    want = case.status if isinstance(case.status, tuple) else (case.status,)
    wtypes = case.ptype if isinstance(case.ptype, tuple) else (case.ptype,)
    errs = []
    if r.status not in want:
        errs.append("status")
    if case.ptype is None:
        if r.ptype is not None:
            errs.append("a problem document")
    else:
        if r.ptype not in wtypes:
            errs.append("type")
        # RFC 7807 §3.1: "status", when present, is the HTTP status.
        elif "status" in r.json and r.json["status"] != r.status:
            errs.append("problem status %s" % r.json["status"])
    if extra:
        errs.append(extra)
    return errs


def run_cases(ctx, cases):
    failed = 0
    for case in cases:
        extra = None
        try:
            out = case.fn(ctx)
            r, extra = out if isinstance(out, tuple) else (out, None)
            errs = check(case, r, extra)
            got = r.summary()
        except SetupError as e:
            errs, got = ["setup"], "setup failed: %s" % e
        except (OSError, http.client.HTTPException) as e:
            errs, got = ["connection"], "%s: %s" % (type(e).__name__, e)
        down = ctx.c.alive()
        if down:
            errs.append("server stopped serving: %s" % down)
        want = "%s/%s" % ("|".join(str(s) for s in (case.status if isinstance(case.status, tuple)
                                                    else (case.status,))),
                          "|".join(case.ptype) if isinstance(case.ptype, tuple)
                          else (case.ptype or "-"))
        if errs:
            failed += 1
            print("FAIL %s: want %s, got %s [%s]" % (case.name, want, got, "; ".join(errs)))
        else:
            print("PASS %s: got %s" % (case.name, got))
        sys.stdout.flush()
    return failed


# -- JWS and transport (RFC 8555 §6.2-6.5). Each mutates a newOrder of account A that would be
# accepted unmutated (the "control" case shows it). --

def std_b64_with_plus_or_slash(ctx):
    """A protected header whose standard base64 holds '+' or '/' (not base64url)."""
    for i in range(1, 40):
        h = {"alg": "ES256", "kid": ctx.a.url, "nonce": ctx.c.new_nonce(),
             "url": ctx.c.dir["newOrder"], "x": "?" * i + ">" * i}
        text = base64.b64encode(json.dumps(h).encode()).decode().rstrip("=")
        if "+" in text or "/" in text:
            return text
        ctx.c.nonce = h["nonce"]
    raise SetupError("no '+' or '/' in any encoding")


def order_payload(ctx):
    return {"identifiers": [{"type": "dns", "value": ctx.name("jws")}]}


def order_jws(ctx, **mut):
    return ctx.c.jws(ctx.c.dir["newOrder"], order_payload(ctx), ctx.a.key, ctx.a.url, **mut)


def send_order(ctx, body, **kw):
    return ctx.c.send(ctx.c.dir["newOrder"], body, **kw)


def c_control_order(ctx):
    return send_order(ctx, order_jws(ctx))


def c_bad_b64_protected(ctx):
    hb = std_b64_with_plus_or_slash(ctx)
    pb = b64u_json(order_payload(ctx))
    return send_order(ctx, {"protected": hb, "payload": pb,
                            "signature": b64u(ctx.a.key.sign(("%s.%s" % (hb, pb)).encode()))})


def c_bad_b64_payload(ctx):
    # Base64 with padding: RFC 7515 §2 base64url omits the trailing "=".
    text = json.dumps(order_payload(ctx)).encode()
    if len(text) % 3 == 0:
        text += b" "
    return send_order(ctx, order_jws(ctx, payload_b64=base64.urlsafe_b64encode(text).decode()))


def c_bad_b64_signature(ctx):
    body = order_jws(ctx)
    sig = b64u_decode(body["signature"])
    body["signature"] = base64.b64encode(sig).decode()  # 64 octets: always ends in "=="
    return send_order(ctx, body)


def c_protected_not_json(ctx):
    body = order_jws(ctx)
    body["protected"] = b64u(b"alg=ES256")
    return send_order(ctx, body)


def c_body_not_json(ctx):
    return send_order(ctx, b'{"protected": "eyJ')


def c_unprotected_header(ctx):
    body = order_jws(ctx)
    body["header"] = {"kid": ctx.a.url}   # RFC 8555 §6.2: no JWS Unprotected Header
    return send_order(ctx, body)


def c_general_serialization(ctx):
    body = order_jws(ctx)
    gen = {"payload": body["payload"],
           "signatures": [{"protected": body["protected"], "signature": body["signature"]}]}
    return send_order(ctx, gen)


def c_alg_none(ctx):
    return send_order(ctx, order_jws(ctx, prot={"alg": "none"}, sig=""))


def c_alg_hs256(ctx):
    body = order_jws(ctx, prot={"alg": "HS256"}, sig="x")
    mac = hmac.new(b"k" * 32, ("%s.%s" % (body["protected"], body["payload"])).encode(),
                   hashlib.sha256).digest()
    body["signature"] = b64u(mac)
    return send_order(ctx, body)


def c_alg_lists_algorithms(ctx):
    r = send_order(ctx, order_jws(ctx, prot={"alg": "HS256"}))
    algs = r.json.get("algorithms") if isinstance(r.json, dict) else None
    return r, (None if isinstance(algs, list) and "ES256" in algs
               else "no \"algorithms\" array naming ES256 in the problem (RFC 8555 §6.2)")


def c_alg_rs256_ec_key(ctx):
    return send_order(ctx, order_jws(ctx, prot={"alg": "RS256"}))


def c_wrong_nonce(ctx):
    r = send_order(ctx, order_jws(ctx, prot={"nonce": b64u(os.urandom(16))}))
    # RFC 8555 §6.5: a badNonce answer carries a fresh nonce for the retry.
    return r, None if r.header("Replay-Nonce") else "no Replay-Nonce on badNonce"


def c_no_nonce(ctx):
    return send_order(ctx, order_jws(ctx, drop=("nonce",)))


def c_nonce_not_b64u(ctx):
    # RFC 8555 §6.5.2: a nonce that is not base64url is rejected as malformed.
    return send_order(ctx, order_jws(ctx, prot={"nonce": "not*a+nonce/at=all"}))


def c_replayed_nonce(ctx):
    nonce = ctx.c.new_nonce()
    r = ctx.c.post(ctx.a.url, None, ctx.a.key, ctx.a.url, prot={"nonce": nonce})
    if r.status != 200:
        raise SetupError("first use of the nonce: %s" % r.summary())
    return send_order(ctx, order_jws(ctx, prot={"nonce": nonce}))


def c_wrong_url(ctx):
    return send_order(ctx, order_jws(ctx, prot={"url": ctx.c.dir["newAccount"]}))


def c_unknown_kid(ctx):
    return send_order(ctx, order_jws(ctx, prot={"kid": ctx.c.base + "/acme/acct/" +
                                                b64u(os.urandom(16))}))


def c_kid_not_account_url(ctx):
    return send_order(ctx, order_jws(ctx, prot={"kid": "https://elsewhere.example/x/1"}))


def c_jwk_and_kid(ctx):
    return send_order(ctx, order_jws(ctx, prot={"jwk": ctx.a.key.jwk()}))


def c_neither_jwk_nor_kid(ctx):
    return send_order(ctx, order_jws(ctx, drop=("kid",)))


def c_jwk_on_kid_endpoint(ctx):
    return send_order(ctx, ctx.c.jws(ctx.c.dir["newOrder"], order_payload(ctx), ctx.a.key))


def c_kid_on_new_account(ctx):
    url = ctx.c.dir["newAccount"]
    return ctx.c.send(url, ctx.c.jws(url, {"termsOfServiceAgreed": True}, ctx.a.key, ctx.a.url))


def c_oversized(ctx):
    p = order_payload(ctx)
    p["padding"] = "x" * 70000
    return send_order(ctx, ctx.c.jws(ctx.c.dir["newOrder"], p, ctx.a.key, ctx.a.url))


def c_payload_not_json(ctx):
    return send_order(ctx, order_jws(ctx, payload_b64=b64u(b"identifiers=dns:a.example")))


def c_payload_array(ctx):
    return send_order(ctx, order_jws(ctx, payload_b64=b64u_json(
        [{"identifiers": [{"type": "dns", "value": ctx.name("arr")}]}])))


def c_sig_other_bytes(ctx):
    return send_order(ctx, order_jws(ctx, sign_over=b64u_json(order_payload(ctx))))


def c_es256_der_sig(ctx):
    body = order_jws(ctx)
    body["signature"] = b64u(ctx.a.key.sign_der(("%s.%s" % (body["protected"],
                                                             body["payload"])).encode()))
    return send_order(ctx, body)


def c_no_content_type(ctx):
    return send_order(ctx, order_jws(ctx), ctype=None)


def c_wrong_content_type(ctx):
    return send_order(ctx, order_jws(ctx), ctype="application/json")


def c_get_post_resource(ctx):
    r = ctx.c.request("GET", ctx.c.dir["newOrder"])
    return r, None if r.header("Allow") and "POST" in r.header("Allow") else "no Allow: POST"


def c_unknown_path(ctx):
    return ctx.c.request("GET", ctx.c.base + "/acme/no-such-thing")


def c_path_outside_acme(ctx):
    return ctx.c.request("GET", ctx.c.base + "/favicon.ico")


# -- accounts (RFC 8555 §7.3) --

def new_account_req(ctx, key, payload):
    return ctx.c.post(ctx.c.dir["newAccount"], payload, key)


def c_eddsa_account(ctx):
    return new_account_req(ctx, Key("ed25519"), {"termsOfServiceAgreed": True})


def c_rsa1024_account(ctx):
    return new_account_req(ctx, ctx.rsa1024, {"termsOfServiceAgreed": True})


def c_secp256k1_account(ctx):
    return new_account_req(ctx, ctx.k1, {"termsOfServiceAgreed": True})


def c_contact_tel(ctx):
    return new_account_req(ctx, Key(), {"termsOfServiceAgreed": True,
                                        "contact": ["tel:+12025550100"]})


def c_contact_two_addresses(ctx):
    return new_account_req(ctx, Key(), {"termsOfServiceAgreed": True,
                                        "contact": ["mailto:a@b.example,c@d.example"]})


def c_only_return_existing(ctx):
    return new_account_req(ctx, Key(), {"onlyReturnExisting": True})


def c_other_account_url(ctx):
    return ctx.get(ctx.b, ctx.a.url)


def c_deactivated_kid(ctx):
    d = ctx.new_account()
    r = ctx.c.post(d.url, {"status": "deactivated"}, d.key, d.url)
    if r.status != 200 or r.json.get("status") != "deactivated":
        raise SetupError("deactivation: %s" % r.summary())
    return ctx.new_order(d, [("dns", ctx.name("deact"))])


def key_change_jws(ctx, acct, new_key, account_url=None):
    url = ctx.c.dir["keyChange"]
    inner = ctx.c.jws(url, {"account": account_url or acct.url, "oldKey": acct.key.jwk()},
                      new_key, drop=("nonce",))
    return ctx.c.post(url, inner, acct.key, acct.url)


def c_key_change_in_use(ctx):
    r = key_change_jws(ctx, ctx.a, ctx.b.key)
    # RFC 8555 §7.3.5: 409 and the account that has the key in Location.
    return r, None if r.location == ctx.b.url else "Location %r, not %r" % (r.location, ctx.b.url)


def c_key_change_wrong_account(ctx):
    return key_change_jws(ctx, ctx.a, Key(), account_url=ctx.b.url)


# -- orders and authorizations (RFC 8555 §7.4, §7.1.3; RFC 8738) --

def c_unknown_profile(ctx):
    return ctx.new_order(ctx.a, [("dns", ctx.name("prof"))], {"profile": "no-such-profile"})


def c_ident_email(ctx):
    return ctx.new_order(ctx.a, [("email", "ops@example.test")])


def c_dns_underscore(ctx):
    return ctx.new_order(ctx.a, [("dns", "under_score.example.test")])


def c_dns_double_dot(ctx):
    return ctx.new_order(ctx.a, [("dns", "a..example.test")])


def c_ip_as_dns(ctx):
    return ctx.new_order(ctx.a, [("dns", "192.0.2.1")])


def c_ipv6_as_dns(ctx):
    return ctx.new_order(ctx.a, [("dns", "2001:db8::1")])


def c_ip_not_ip(ctx):
    return ctx.new_order(ctx.a, [("ip", "a.example.test")])


def c_no_identifiers(ctx):
    return ctx.new_order(ctx.a, [])


def c_other_account_order(ctx):
    url, _ = ctx.order_ok(ctx.a, [("dns", ctx.name("mine"))])
    return ctx.get(ctx.b, url)


def c_other_account_authz(ctx):
    _, order = ctx.order_ok(ctx.a, [("dns", ctx.name("mine"))])
    return ctx.get(ctx.b, order["authorizations"][0])


def challenge_types(ctx, idents):
    _, order = ctx.order_ok(ctx.a, idents)
    a = ctx.authz(ctx.a, order["authorizations"][0])
    return sorted(c["type"] for c in a["challenges"]), a


def c_wildcard_only_dns01(ctx):
    types, a = challenge_types(ctx, [("dns", "*." + ctx.name("wild"))])
    ctx.wild_authz = a
    r = ctx.get(ctx.a, a["challenges"][0]["url"])
    return r, (None if types == ["dns-01"]
               else "challenges %s (RFC 8555 §7.1.3: dns-01 only)" % types)


def c_wildcard_http01(ctx):
    url = ctx.wild_authz["challenges"][0]["url"].rsplit("/", 1)[0] + "/http-01"
    return ctx.c.post(url, {}, ctx.a.key, ctx.a.url)


def c_ip_no_dns01(ctx):
    types, a = challenge_types(ctx, [("ip", "127.0.0.1")])
    ctx.ip_authz = a
    r = ctx.get(ctx.a, a["challenges"][0]["url"])
    return r, (None if "dns-01" not in types and "http-01" in types
               else "challenges %s (RFC 8738 §7: no dns-01)" % types)


def c_ip_dns01(ctx):
    url = ctx.ip_authz["challenges"][0]["url"].rsplit("/", 1)[0] + "/dns-01"
    return ctx.c.post(url, {}, ctx.a.key, ctx.a.url)


def c_finalize_not_ready(ctx):
    n = ctx.name("early")
    _, order = ctx.order_ok(ctx.a, [("dns", n)])
    return ctx.finalize(ctx.a, order, csr([n], Key()))


def finalize_with(ctx, make):
    """A ready order for two names, finalized with the CSR make(names) builds."""
    names = [ctx.name("fin"), ctx.name("fin")]
    _, order = ctx.ready_order(ctx.a, names)
    return ctx.finalize(ctx.a, order, make(names))


def c_csr_missing_name(ctx):
    return finalize_with(ctx, lambda names: csr(names[:1], Key()))


def c_csr_extra_name(ctx):
    return finalize_with(ctx, lambda names: csr(names + [ctx.name("extra")], Key()))


def c_csr_rsa1024(ctx):
    return finalize_with(ctx, lambda names: csr(names, ctx.rsa1024))


def c_csr_secp256k1(ctx):
    return finalize_with(ctx, lambda names: csr(names, ctx.k1))


def c_csr_account_key(ctx):
    return finalize_with(ctx, lambda names: csr(names, ctx.a.key))


def c_csr_bad_signature(ctx):
    return finalize_with(ctx, lambda names: csr_broken_sig(names, Key()))


def c_csr_signed_by_other_key(ctx):
    return finalize_with(ctx, lambda names: csr_foreign_key(names, Key(), Key()))


def c_csr_not_der(ctx):
    return finalize_with(ctx, lambda names: b"this is not a CSR")


def c_finalize_ok(ctx):
    names = [ctx.name("ok")]
    url, order = ctx.ready_order(ctx.a, names)
    r = ctx.finalize(ctx.a, order, csr(names, Key()))
    return r, None if r.status != 200 or r.json.get("status") == "valid" else \
        "order status %s" % r.json.get("status")


# -- certificates: ARI (RFC 9773), replaces, revocation (RFC 8555 §7.6) --

def c_ari_ok(ctx):
    r = ctx.c.request("GET", ctx.c.dir["renewalInfo"] + "/" + ari_id(ctx.cert))
    return r, None if isinstance(r.json, dict) and "suggestedWindow" in r.json else \
        "no suggestedWindow"


def c_ari_malformed(ctx):
    return ctx.c.request("GET", ctx.c.dir["renewalInfo"] + "/not-a-certificate-id")


def c_ari_bad_serial(ctx):
    return ctx.c.request("GET", ctx.c.dir["renewalInfo"] + "/" + ari_id(ctx.cert).split(".")[0] +
                         ".%%%")


def c_ari_unknown(ctx):
    aki = ari_id(ctx.cert).split(".")[0]
    return ctx.c.request("GET", ctx.c.dir["renewalInfo"] + "/" + aki + "." +
                         b64u(b"\x01" + os.urandom(15)))


def c_replaces_first(ctx):
    return ctx.new_order(ctx.a, [("dns", ctx.cert_names[0])], {"replaces": ari_id(ctx.cert)})


def c_replaces_again(ctx):
    return ctx.new_order(ctx.a, [("dns", ctx.cert_names[0])], {"replaces": ari_id(ctx.cert)})


def c_replaces_other_account(ctx):
    return ctx.new_order(ctx.b, [("dns", ctx.cert_names[0])], {"replaces": ari_id(ctx.cert2)})


def revoke(ctx, acct, der, reason=None, key=None):
    p = {"certificate": b64u(der)}
    if reason is not None:
        p["reason"] = reason
    url = ctx.c.dir["revokeCert"]
    if acct is None:
        return ctx.c.post(url, p, key)
    return ctx.c.post(url, p, acct.key, acct.url)


def c_revoke_reason7(ctx):
    return revoke(ctx, ctx.a, ctx.cert_der, 7)   # RFC 5280 §5.3.1: 7 is not assigned


def c_revoke_reason2(ctx):
    return revoke(ctx, ctx.a, ctx.cert_der, 2)   # cACompromise: not the subscriber's to say


def c_revoke_other_account(ctx):
    return revoke(ctx, ctx.b, ctx.cert_der, 4)


def c_revoke_unrelated_jwk(ctx):
    return revoke(ctx, None, ctx.cert_der, 4, key=Key())


def c_revoke_not_cert(ctx):
    return revoke(ctx, ctx.a, b"not a certificate", 4)


def c_revoke_ok(ctx):
    return revoke(ctx, ctx.a, ctx.cert_der, 4)


def c_revoke_twice(ctx):
    return revoke(ctx, ctx.a, ctx.cert_der, 4)


def main_cases():
    C = Case
    return [
        C("control: a well-formed newOrder", c_control_order, 201, None),
        C("protected header not base64url ('+' '/')", c_bad_b64_protected, 400, "malformed"),
        C("payload base64 with '=' padding", c_bad_b64_payload, 400, "malformed"),
        C("signature standard base64 with padding", c_bad_b64_signature, 400, "malformed"),
        C("protected header not JSON", c_protected_not_json, 400, "malformed"),
        C("body not JSON", c_body_not_json, 400, "malformed"),
        C("unprotected JWS header", c_unprotected_header, 400, "malformed"),
        C("general JWS serialization", c_general_serialization, 400, "malformed"),
        C("alg none", c_alg_none, 400, "badSignatureAlgorithm"),
        C("alg HS256 (a MAC)", c_alg_hs256, 400, "badSignatureAlgorithm"),
        C("badSignatureAlgorithm lists the algorithms", c_alg_lists_algorithms, 400,
          "badSignatureAlgorithm"),
        C("alg RS256 with an EC key", c_alg_rs256_ec_key, 400, "badSignatureAlgorithm"),
        C("wrong nonce", c_wrong_nonce, 400, "badNonce"),
        C("no nonce", c_no_nonce, 400, "badNonce"),
        C("nonce not base64url", c_nonce_not_b64u, 400, "malformed"),
        C("replayed nonce", c_replayed_nonce, 400, "badNonce"),
        C("wrong url", c_wrong_url, 403, "unauthorized"),
        C("unknown kid", c_unknown_kid, 400, "accountDoesNotExist"),
        C("kid not an account URL", c_kid_not_account_url, 400,
          ("malformed", "accountDoesNotExist")),
        C("both jwk and kid", c_jwk_and_kid, 400, "malformed"),
        C("neither jwk nor kid", c_neither_jwk_nor_kid, 400, "malformed"),
        C("jwk on a kid endpoint (newOrder)", c_jwk_on_kid_endpoint, 400, "malformed"),
        C("kid on newAccount", c_kid_on_new_account, 400, "malformed"),
        C("oversized body (70 kB)", c_oversized, 413, "malformed"),
        C("payload not JSON", c_payload_not_json, 400, "malformed"),
        C("payload a JSON array", c_payload_array, 400, "malformed"),
        C("signature over other bytes", c_sig_other_bytes, 400, "malformed"),
        C("ES256 signature of wrong length (DER)", c_es256_der_sig, 400, "malformed"),
        C("missing Content-Type", c_no_content_type, 415, "malformed"),
        C("Content-Type application/json", c_wrong_content_type, 415, "malformed"),
        C("GET on a POST resource", c_get_post_resource, 405, "malformed"),
        C("unknown path under /acme/", c_unknown_path, 404, "malformed"),
        C("path outside /acme/", c_path_outside_acme, 404, "malformed"),
        C("control: EdDSA account", c_eddsa_account, 201, None),
        C("RSA-1024 account key", c_rsa1024_account, 400, "badPublicKey"),
        C("secp256k1 account key (alg ES256K)", c_secp256k1_account, 400,
          ("badSignatureAlgorithm", "badPublicKey")),
        C("contact tel:", c_contact_tel, 400, "unsupportedContact"),
        C("contact mailto:a@b,c@d", c_contact_two_addresses, 400, "invalidContact"),
        C("onlyReturnExisting for an unknown key", c_only_return_existing, 400,
          "accountDoesNotExist"),
        C("POST-as-GET another account's URL", c_other_account_url, 403, "unauthorized"),
        C("kid of a deactivated account", c_deactivated_kid, 403, "unauthorized"),
        C("key-change to a key already in use", c_key_change_in_use, 409, "malformed"),
        C("key-change naming another account", c_key_change_wrong_account, 400, "malformed"),
        C("unknown profile", c_unknown_profile, 400, "invalidProfile"),
        C("identifier type email", c_ident_email, 400, "unsupportedIdentifier"),
        C("DNS name with '_'", c_dns_underscore, 400, "rejectedIdentifier"),
        C("DNS name with '..'", c_dns_double_dot, 400, "rejectedIdentifier"),
        C("IPv4 literal as a dns identifier", c_ip_as_dns, 400, "rejectedIdentifier"),
        C("IPv6 literal as a dns identifier", c_ipv6_as_dns, 400, "rejectedIdentifier"),
        C("a name as an ip identifier", c_ip_not_ip, 400, "malformed"),
        C("no identifiers", c_no_identifiers, 400, "malformed"),
        C("POST-as-GET another account's order", c_other_account_order, (403, 404),
          ("malformed", "unauthorized")),
        C("POST-as-GET another account's authorization", c_other_account_authz, (403, 404),
          ("malformed", "unauthorized")),
        C("wildcard: only dns-01 offered", c_wildcard_only_dns01, 200, None),
        C("wildcard with http-01", c_wildcard_http01, 404, "malformed"),
        C("IP identifier: no dns-01 offered", c_ip_no_dns01, 200, None),
        C("IP identifier with dns-01", c_ip_dns01, 404, "malformed"),
        C("finalize before the order is ready", c_finalize_not_ready, 403, "orderNotReady"),
        C("CSR missing a name of the order", c_csr_missing_name, 400, "badCSR"),
        C("CSR with an extra name", c_csr_extra_name, 400, "badCSR"),
        C("CSR with an RSA-1024 key", c_csr_rsa1024, 400, "badCSR"),
        C("CSR with a secp256k1 key", c_csr_secp256k1, 400, "badCSR"),
        C("CSR with the account key", c_csr_account_key, 400, "badCSR"),
        C("CSR with a broken signature", c_csr_bad_signature, 400, "badCSR"),
        C("CSR signed by another key than its own", c_csr_signed_by_other_key, 400, "badCSR"),
        C("CSR not DER", c_csr_not_der, 400, "badCSR"),
        C("control: finalize with a good CSR", c_finalize_ok, 200, None),
        C("control: ARI for an issued certificate", c_ari_ok, 200, None),
        C("ARI with a malformed id", c_ari_malformed, 400, "malformed"),
        C("ARI with a serial that is not base64url", c_ari_bad_serial, 400, "malformed"),
        C("ARI for an unknown serial", c_ari_unknown, 404, "malformed"),
        C("control: newOrder replacing a certificate", c_replaces_first, 201, None),
        C("newOrder replacing it again", c_replaces_again, 409, "alreadyReplaced"),
        C("newOrder replacing another account's certificate", c_replaces_other_account,
          (400, 403), ("malformed", "unauthorized")),
        C("revoke with reason 7", c_revoke_reason7, 400, "badRevocationReason"),
        C("revoke with reason 2 (cACompromise)", c_revoke_reason2, 400, "badRevocationReason"),
        C("revoke by an account that did not order it", c_revoke_other_account, 403,
          "unauthorized"),
        C("revoke signed by an unrelated key (jwk)", c_revoke_unrelated_jwk, 403,
          "unauthorized"),
        C("revoke something that is not a certificate", c_revoke_not_cert, 400, "malformed"),
        C("control: revoke", c_revoke_ok, 200, None),
        C("revoke twice", c_revoke_twice, 400, "alreadyRevoked"),
    ]


def main_setup(ctx):
    ctx.a = ctx.new_account()
    ctx.b = ctx.new_account()
    ctx.rsa1024 = Key("rsa1024")
    ctx.k1 = Key("secp256k1")
    ctx.wild_authz = ctx.ip_authz = None
    ctx.cert_names = [ctx.name("cert")]
    ctx.cert, ctx.cert_der = ctx.issue(ctx.a, ctx.cert_names)
    ctx.cert2, _ = ctx.issue(ctx.a, [ctx.name("cert")])


# -- External Account Binding (RFC 8555 §7.3.4), with the CA's --eab-required --

def eab_jws(ctx, key, kid, hmac_key, url=None, payload_key=None, alg="HS256"):
    prot = b64u_json({"alg": alg, "kid": kid, "url": url or ctx.c.dir["newAccount"]})
    payload = b64u_json((payload_key or key).jwk())
    mac = hmac.new(hmac_key, ("%s.%s" % (prot, payload)).encode(), hashlib.sha256).digest()
    return {"protected": prot, "payload": payload, "signature": b64u(mac)}


def eab_account(ctx, eab, key=None):
    key = key or Key()
    p = {"termsOfServiceAgreed": True}
    if eab is not None:
        p["externalAccountBinding"] = eab(key)
    return ctx.c.post(ctx.c.dir["newAccount"], p, key)


def c_dir_eab_required(ctx):
    r = ctx.c.request("GET", ctx.c.dir_url)
    return r, None if r.json.get("meta", {}).get("externalAccountRequired") is True else \
        "meta.externalAccountRequired is not true"


def c_eab_missing(ctx):
    return eab_account(ctx, None)


def c_eab_wrong_hmac(ctx):
    return eab_account(ctx, lambda k: eab_jws(ctx, k, ctx.eab_kid, os.urandom(32)))


def c_eab_unknown_kid(ctx):
    return eab_account(ctx, lambda k: eab_jws(ctx, k, b64u(os.urandom(16)), ctx.eab_hmac))


def c_eab_other_key(ctx):
    return eab_account(ctx, lambda k: eab_jws(ctx, k, ctx.eab_kid, ctx.eab_hmac,
                                              payload_key=Key()))


def c_eab_wrong_url(ctx):
    return eab_account(ctx, lambda k: eab_jws(ctx, k, ctx.eab_kid, ctx.eab_hmac,
                                              url=ctx.c.dir["newOrder"]))


def c_eab_alg_es256(ctx):
    return eab_account(ctx, lambda k: eab_jws(ctx, k, ctx.eab_kid, ctx.eab_hmac, alg="ES256"))


def c_eab_ok(ctx):
    return eab_account(ctx, lambda k: eab_jws(ctx, k, ctx.eab_kid, ctx.eab_hmac))


def c_eab_reused(ctx):
    return eab_account(ctx, lambda k: eab_jws(ctx, k, ctx.eab_kid, ctx.eab_hmac))


def c_corp_account(ctx):
    key = Key()
    r = eab_account(ctx, lambda k: eab_jws(ctx, k, ctx.corp_kid, ctx.corp_hmac), key)
    if r.status == 201:
        ctx.corp = Account(key, r.location)
    return r


def corp_order(ctx, ident):
    if ctx.corp is None:
        raise SetupError("no account bound to the corp EAB key")
    return ctx.new_order(ctx.corp, [ident])


def c_corp_outside(ctx):
    return corp_order(ctx, ("dns", "other.example"))


def c_corp_inside(ctx):
    return corp_order(ctx, ("dns", "a.corp.example"))


def c_corp_apex(ctx):
    return corp_order(ctx, ("dns", "corp.example"))


def c_corp_ip(ctx):
    return corp_order(ctx, ("ip", "127.0.0.1"))


def eab_cases():
    C = Case
    return [
        C("control: directory says externalAccountRequired", c_dir_eab_required, 200, None),
        C("newAccount without EAB", c_eab_missing, 400, "externalAccountRequired"),
        C("EAB with a wrong HMAC", c_eab_wrong_hmac, 403, "unauthorized"),
        C("EAB with an unknown kid", c_eab_unknown_kid, 403, "unauthorized"),
        C("EAB binding another key", c_eab_other_key, 403, "unauthorized"),
        C("EAB url not newAccount", c_eab_wrong_url, 403, "unauthorized"),
        C("EAB alg ES256 (not a MAC)", c_eab_alg_es256, 400, "badSignatureAlgorithm"),
        C("control: EAB bound", c_eab_ok, 201, None),
        C("EAB key reused by another account key", c_eab_reused, 403, "unauthorized"),
        C("control: account bound to the '*.corp.example' key", c_corp_account, 201, None),
        C("name outside the account's patterns", c_corp_outside, 400, "rejectedIdentifier"),
        C("name inside the account's patterns", c_corp_inside, 201, None),
        C("the pattern's apex (corp.example)", c_corp_apex, 400, "rejectedIdentifier"),
        C("IP address outside the account's patterns", c_corp_ip, 400, "rejectedIdentifier"),
    ]


def read_hmac(path):
    with open(path) as f:
        return b64u_decode(f.read())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("phase", choices=("main", "eab"))
    ap.add_argument("--dir", required=True)
    ap.add_argument("--roots", required=True)
    ap.add_argument("--http-port", type=int, required=True)
    ap.add_argument("--eab-kid")
    ap.add_argument("--eab-hmac")
    ap.add_argument("--corp-kid")
    ap.add_argument("--corp-hmac")
    args = ap.parse_args()

    try:
        ctx = Ctx(Conn(args.dir, args.roots), Http01(args.http_port))
        if args.phase == "main":
            main_setup(ctx)
            cases = main_cases()
        else:
            ctx.eab_kid, ctx.eab_hmac = args.eab_kid, read_hmac(args.eab_hmac)
            ctx.corp_kid, ctx.corp_hmac = args.corp_kid, read_hmac(args.corp_hmac)
            ctx.corp = None
            cases = eab_cases()
    except (SetupError, OSError) as e:
        print("FAIL setup (%s): %s" % (args.phase, e))
        return 1
    failed = run_cases(ctx, cases)
    print("%s: %d case(s), %d failed" % (args.phase, len(cases), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
