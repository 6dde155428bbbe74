"""An SMTP server for test_notify.sh (aiosmtpd): plain, STARTTLS or SMTPS,
optionally with AUTH PLAIN/LOGIN checking one user's password; every message
is saved as DIR/msg-N.eml with its envelope in DIR/msg-N.json. Listens on
127.0.0.1 on a port the kernel picks and writes it to DIR/port.

usage: notify_smtpd.py DIR [--starttls CERT KEY] [--smtps CERT KEY]
                           [--auth USER PASSWORD_FILE]
"""
import json
import os
import signal
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Saver:
    def __init__(self, outdir):
        self.outdir = outdir
        self.n = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.n += 1
            n = self.n
        base = os.path.join(self.outdir, "msg-%d" % n)
        with open(base + ".eml", "wb") as f:
            f.write(envelope.original_content)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None,
            "authenticated": bool(session.authenticated),
            "login": (session.auth_data.login.decode()
                      if isinstance(session.auth_data, LoginPassword) else None),
        }
        with open(base + ".json.tmp", "w") as f:
            json.dump(meta, f)
        os.rename(base + ".json.tmp", base + ".json")
        return "250 Message accepted for delivery"


class Auth:
    def __init__(self, user, password):
        self.user = user.encode()
        self.password = password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == self.user
              and auth_data.password == self.password)
        return AuthResult(success=ok, handled=False, auth_data=auth_data)


def tls_context(cert, key):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


def main():
    args = sys.argv[1:]
    outdir = args.pop(0)
    kwargs = {}
    implicit = None
    while args:
        opt = args.pop(0)
        if opt == "--starttls":
            kwargs["tls_context"] = tls_context(args.pop(0), args.pop(0))
            kwargs["require_starttls"] = True
        elif opt == "--smtps":
            implicit = tls_context(args.pop(0), args.pop(0))
        elif opt == "--auth":
            user = args.pop(0)
            with open(args.pop(0)) as f:
                password = f.read().strip()
            kwargs["authenticator"] = Auth(user, password)
            kwargs["auth_required"] = True
            # With --smtps the whole session is TLS; aiosmtpd only sees
            # STARTTLS as TLS, so do not insist on it there.
            kwargs["auth_require_tls"] = implicit is None
        else:
            sys.exit("unknown option " + opt)
    # Port 0: the kernel picks a free one; aiosmtpd's Controller needs a
    # number, so take one here; another process may grab it before the
    # server binds, hence the retries.
    for attempt in range(5):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        ctl = Controller(Saver(outdir), hostname="127.0.0.1", port=port, ssl_context=implicit,
                         server_hostname="127.0.0.1", **kwargs)
        try:
            ctl.start()
            break
        except Exception:
            if attempt == 4:
                raise
    with open(os.path.join(outdir, "port.tmp"), "w") as f:
        f.write(str(port))
    os.rename(os.path.join(outdir, "port.tmp"), os.path.join(outdir, "port"))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    while not stop.wait(0.2):
        pass
    ctl.stop()


if __name__ == "__main__":
    main()
