"""HTTP receivers for test_notify.sh: the generic webhook (checks
X-Aclm-Signature: 401 when it does not verify) and the chat platforms,
answering like each of them: DingTalk/WeCom {"errcode", "errmsg"}, Feishu
{"code", "msg"}, Slack "ok", Teams Workflows 202. DingTalk's and Feishu's
signatures are checked against the secret. Paths: /webhook, /slack,
/dingtalk, /feishu, /wecom, /teams; "/TYPE/fail" answers that platform's
error. Every request is saved as DIR/req-N.json ({path, query, headers,
body, verdict}). Listens on 127.0.0.1 on a port the kernel picks, written
to DIR/port.

usage: notify_http.py DIR SECRET_FILE
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OUT = sys.argv[1]
with open(sys.argv[2], "rb") as f:
    SECRET = f.read().strip()
COUNT = [0]
LOCK = threading.Lock()
MAX_BODY = 1 << 20


def b64_hmac(key, msg):
    return base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()


def check_webhook(headers, raw, body):
    ts = headers.get("X-Aclm-Timestamp", "")
    sig = headers.get("X-Aclm-Signature", "")
    if not ts.isdigit() or abs(time.time() - int(ts)) > 300:
        return 401, "stale or missing timestamp"
    want = "sha256=" + hmac.new(SECRET, ts.encode() + b"." + raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, sig):
        return 401, "bad signature"
    keys = ["id", "event", "severity", "tenant", "subject", "text", "at", "data"]
    if list(body) != keys:
        return 400, "keys %s" % list(body)
    return 204, ""


def reply_json(code, msg, codekey, msgkey):
    return 200, json.dumps({codekey: code, msgkey: msg})


def handle(kind, fail, headers, query, raw, body):
    """(status, text) the platform would answer."""
    if kind == "webhook":
        return check_webhook(headers, raw, body)
    if kind == "slack":
        if fail or not isinstance(body.get("text"), str):
            return 400, "invalid_payload"
        return 200, "ok"
    if kind == "teams":
        att = (body.get("attachments") or [{}])[0]
        card = att.get("content") or {}
        if fail or body.get("type") != "message" or \
                att.get("contentType") != "application/vnd.microsoft.card.adaptive" or \
                card.get("type") != "AdaptiveCard":
            return 400, '{"error":{"code":"InvalidRequestContent"}}'
        return 202, ""
    if kind == "dingtalk":
        ts = query.get("timestamp", [""])[0]
        sign = query.get("sign", [""])[0]
        want = b64_hmac(SECRET, ts.encode() + b"\n" + SECRET)
        if fail or not hmac.compare_digest(want, sign):
            return reply_json(310000, "sign not match", "errcode", "errmsg")
        if body.get("msgtype") != "markdown" or "text" not in body.get("markdown", {}):
            return reply_json(40035, "missing parameter", "errcode", "errmsg")
        return reply_json(0, "ok", "errcode", "errmsg")
    if kind == "feishu":
        ts = body.get("timestamp", "")
        want = b64_hmac(ts.encode() + b"\n" + SECRET, b"")
        if fail or not hmac.compare_digest(want, body.get("sign", "")):
            return reply_json(19021, "sign match fail or timestamp is not within one hour "
                              "from current time", "code", "msg")
        if body.get("msg_type") != "text" or "text" not in body.get("content", {}):
            return reply_json(9499, "Bad Request", "code", "msg")
        return reply_json(0, "success", "code", "msg")
    if kind == "wecom":
        if fail:
            return reply_json(93000, "invalid webhook url", "errcode", "errmsg")
        if body.get("msgtype") != "markdown" or "content" not in body.get("markdown", {}):
            return reply_json(40008, "invalid message type", "errcode", "errmsg")
        return reply_json(0, "ok", "errcode", "errmsg")
    return 404, "no such receiver"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        u = urllib.parse.urlsplit(self.path)
        parts = [p for p in u.path.split("/") if p]
        kind = parts[0] if parts else ""
        fail = len(parts) > 1 and parts[1] == "fail"
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(min(n, MAX_BODY))
        try:
            body = json.loads(raw)
        except ValueError:
            body = {}
        status, text = handle(kind, fail, self.headers, urllib.parse.parse_qs(u.query), raw,
                              body if isinstance(body, dict) else {})
        with LOCK:
            COUNT[0] += 1
            name = os.path.join(OUT, "req-%d.json" % COUNT[0])
        with open(name + ".tmp", "w") as f:
            json.dump({"path": u.path, "query": u.query, "headers": dict(self.headers),
                       "body": body, "status": status, "answer": text}, f)
        os.rename(name + ".tmp", name)
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type",
                         "application/json" if data.startswith(b"{") else "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(os.path.join(OUT, "port.tmp"), "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(os.path.join(OUT, "port.tmp"), os.path.join(OUT, "port"))
    srv.serve_forever()


if __name__ == "__main__":
    main()
