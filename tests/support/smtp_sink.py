"""A real SMTP server for the tests: stores every message it accepts as an .eml file.

    python3 tests/support/smtp_sink.py --port 2525 --dir /tmp/mail

A file named `reject` in the directory makes it answer RCPT with 550, to test delivery
failures without stopping the server. `--auth USER:PASSWORD` requires that login (PLAIN or
LOGIN, without TLS) before mail is accepted. `--smtps CERT KEY` speaks implicit TLS
(smtps://) with that certificate chain and key.
"""
import argparse
import asyncio
import os
import ssl
import uuid

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, directory):
        self.directory = directory

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if os.path.exists(os.path.join(self.directory, "reject")):
            return "550 5.7.1 mailbox unavailable (test rejection)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        name = os.path.join(self.directory, f"{uuid.uuid4()}.eml")
        with open(name + ".part", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(name + ".part", name)
        return "250 Message accepted"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--auth")
    parser.add_argument("--smtps", nargs=2, metavar=("CERT", "KEY"))
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    options = {}
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, data):
            ok = isinstance(data, LoginPassword) and data.login.decode() == user \
                and data.password.decode() == password
            return AuthResult(success=ok)

        options = dict(authenticator=authenticator, auth_required=True, auth_require_tls=False)
    if args.smtps:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*args.smtps)
        options["ssl_context"] = context
    controller = Controller(Sink(args.dir), hostname="127.0.0.1", port=args.port, **options)
    controller.start()
    print(f"listening on 127.0.0.1:{args.port}", flush=True)
    try:
        asyncio.new_event_loop().run_forever()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
