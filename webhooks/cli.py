"""`tractian-elt webhooks ...`: run the receiver, deliver notifications, look at the inbox."""

import argparse
import logging
import signal
import sqlite3
import sys
import threading
from pathlib import Path

from webhooks import settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "webhooks",
        help="receive signed webhooks and send notifications (Standard Webhooks)",
        description="Secrets come from the environment: "
        f"{settings.SECRETS_ENV} (receiver, comma-separated during rotation), "
        f"{settings.NOTIFY_URL_ENV} and {settings.NOTIFY_SECRET_ENV} (notifier).",
    )
    commands = parser.add_subparsers(dest="webhooks_command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the webhook receiver")
    serve.add_argument("--host", default=settings.DEFAULT_HOST)
    serve.add_argument("--port", type=int, default=settings.DEFAULT_PORT)
    serve.add_argument("--inbox", type=Path, default=settings.DEFAULT_INBOX_PATH)
    serve.set_defaults(func=_serve)

    send_test = commands.add_parser("send-test", help="send a test notification now")
    send_test.add_argument("--url", help=f"default: ${settings.NOTIFY_URL_ENV}")
    send_test.add_argument("--outbox", type=Path, default=settings.DEFAULT_OUTBOX_PATH)
    send_test.set_defaults(func=_send_test)

    deliver = commands.add_parser("deliver", help="deliver queued notifications, with retries")
    deliver.add_argument("--outbox", type=Path, default=settings.DEFAULT_OUTBOX_PATH)
    deliver.add_argument("--once", action="store_true", help="deliver what is due, then exit")
    deliver.set_defaults(func=_deliver)

    inbox = commands.add_parser("inbox", help="list the most recent received events")
    inbox.add_argument("--inbox", type=Path, default=settings.DEFAULT_INBOX_PATH)
    inbox.add_argument("--limit", type=int, default=20)
    inbox.add_argument("--pending", action="store_true", help="only events not yet processed")
    inbox.set_defaults(func=_list_inbox)


def _fail(message: str, code: int = 1) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _serve(args: argparse.Namespace) -> int:
    from webhooks.inbox import Inbox
    from webhooks.receiver import serve

    try:
        secrets = settings.receiver_secrets()
    except settings.SettingsError as exc:
        return _fail(str(exc), 2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        inbox = Inbox(args.inbox)
    except (sqlite3.Error, OSError) as exc:
        return _fail(f"cannot open the inbox {args.inbox}: {exc}")
    try:
        serve(args.host, args.port, inbox, secrets)
    except OSError as exc:
        return _fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    return 0


def _send_test(args: argparse.Namespace) -> int:
    from webhooks.notifier import TEST_EVENT, Notifier
    from webhooks.outbox import Outbox

    try:
        url = settings.checked_url(args.url, "--url") if args.url else settings.notify_url()
        secret = settings.notify_secret()
    except settings.SettingsError as exc:
        return _fail(str(exc), 2)
    notifier = Notifier(Outbox(args.outbox), url, secret)
    try:
        attempt = notifier.send_test()
    finally:
        notifier.close()
    outcome = f"HTTP {attempt.status_code}" if attempt.status_code else attempt.error
    verdict = "delivered" if attempt.succeeded else "not delivered"
    print(
        f"{verdict}: {TEST_EVENT} {attempt.event_id} to {settings.display_url(url)}: "
        f"{outcome} in {attempt.latency_ms:.1f} ms"
    )
    return 0 if attempt.succeeded else 1


def _deliver(args: argparse.Namespace) -> int:
    from webhooks.notifier import Notifier

    try:
        notifier = Notifier.from_env(args.outbox)
    except settings.SettingsError as exc:
        return _fail(str(exc), 2)
    try:
        if args.once:
            attempts = notifier.deliver_due()
            delivered = sum(attempt.succeeded for attempt in attempts)
            counts = " ".join(f"{k}={v}" for k, v in notifier.outbox.counts().items())
            print(f"{len(attempts)} attempts, {delivered} delivered; outbox: {counts}")
            return 0
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        print(f"delivering notifications to {settings.display_url(notifier.url)}", flush=True)
        notifier.run_forever(stop)
    finally:
        notifier.close()
    return 0


def _list_inbox(args: argparse.Namespace) -> int:
    from webhooks.inbox import Inbox

    if not args.inbox.exists():
        return _fail(f"no inbox at {args.inbox}")
    with Inbox(args.inbox) as inbox:
        for event in inbox.recent(args.limit, pending_only=args.pending):
            state = "pending" if event.processed_at is None else "processed"
            received = event.received_at.strftime("%Y-%m-%dT%H:%M:%SZ")
            print(f"{received}  {state:9}  {event.webhook_id}  {event.event_type or '-'}")
    return 0
