"""The `consent-portal` command (also `python -m app`)."""

from __future__ import annotations

import argparse
import json
import os
import sys

from sqlmodel import Session

from app.config import ConfigError, get_settings


def _password_from_env_or_stdin() -> str:
    password = os.environ.get("PORTAL_PASSWORD")
    if password is None:
        if sys.stdin.isatty():
            import getpass

            password = getpass.getpass("Password: ")
        else:
            password = sys.stdin.readline().rstrip("\n")
    if len(password) < 10:
        raise SystemExit("error: the password must have at least 10 characters")
    return password


def _session() -> Session:
    from app.db import make_engine

    return Session(make_engine(get_settings().database_url), expire_on_commit=False)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.i18n import check_catalogues
    from app.main import create_app
    from app.migrate import upgrade
    from app.security import log_redaction

    settings = get_settings()
    check_catalogues()  # before migrating: a portal that would not start changes nothing
    upgrade(settings.database_url)
    if args.demo:
        from app.demo import load_demo

        load_demo(settings)
    app = create_app(settings, run_worker=not args.no_worker)
    port = args.port or int(os.environ.get("PORT", "8000"))
    log_redaction.install()  # no claim code or reference in the access log
    uvicorn.run(app, host=args.host, port=port, proxy_headers=True, log_level="info")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from app.worker import run_worker_forever

    run_worker_forever(get_settings())
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from app.migrate import upgrade

    upgrade(get_settings().database_url)
    return 0


def cmd_org_create(args: argparse.Namespace) -> int:
    from app.organizations.service import DuplicateError, create_organization

    with _session() as session:
        try:
            organization, key = create_organization(session, name=args.name, slug=args.slug)
        except DuplicateError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        session.commit()
    print(json.dumps({"organization": organization.slug, "api_key": key}))
    return 0


def cmd_org_key(args: argparse.Namespace) -> int:
    """A new API key for an organization (keys are shown once; a lost one is replaced)."""
    from app.organizations.service import create_api_key, get_organization

    with _session() as session:
        organization = get_organization(session, args.org)
        if organization is None:
            print(f"error: no organization {args.org!r}", file=sys.stderr)
            return 1
        key = create_api_key(session, organization=organization, name=args.name)
        session.commit()
    print(json.dumps({"organization": organization.slug, "api_key": key}))
    return 0


def cmd_staff_create(args: argparse.Namespace) -> int:
    from app.organizations.service import DuplicateError, create_staff, get_organization

    password = _password_from_env_or_stdin()
    with _session() as session:
        organization = get_organization(session, args.org)
        if organization is None:
            print(f"error: no organization {args.org!r}", file=sys.stderr)
            return 1
        try:
            staff = create_staff(
                session,
                organization=organization,
                email=args.email,
                role=args.role,
                password=password,
                name=args.name or "",
            )
        except (DuplicateError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        session.commit()
    print(json.dumps({"staff_id": staff.id}))
    return 0


def cmd_admin_create(args: argparse.Namespace) -> int:
    from app.organizations.service import DuplicateError, create_network_admin

    password = _password_from_env_or_stdin()
    with _session() as session:
        try:
            admin = create_network_admin(session, email=args.email, password=password)
        except DuplicateError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        session.commit()
    print(json.dumps({"admin_id": admin.id}))
    return 0


def cmd_ledger_verify(args: argparse.Namespace) -> int:
    from app.events.checkpoints import (
        load_checkpoints,
        public_key_b64,
        signing_key,
        verify_checkpoints,
        verify_head,
    )
    from app.events.service import verify_ledger

    checkpoints = []
    for path in args.checkpoint:
        try:
            with open(path, encoding="utf-8") as file:
                checkpoints.extend(load_checkpoints(json.load(file)))
        except (OSError, ValueError) as exc:
            print(f"error: {path}: {exc}", file=sys.stderr)
            return 2
    trusted = {public_key_b64(signing_key(get_settings()).public_key()), *args.public_key}
    problems: list[str] = []
    with _session() as session:
        broken = verify_ledger(session)
        if broken is not None:
            problems.append(
                f"ledger broken at event {broken.event_id} (participant chain "
                f"{broken.enrollment_id}, version {broken.seq}): {broken.reason}"
            )
        problems.extend(verify_checkpoints(session, checkpoints, trusted_keys=trusted))
        for digest in args.head:
            event, problem = verify_head(session, digest)
            if problem:
                problems.append(problem)
            elif event is not None:
                print(f"head {digest}: event {event.id}, version {event.seq}, in its chain")
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1
    if checkpoints:
        print(f"{len(checkpoints)} checkpoint(s) verified")
    print("ledger intact")
    return 0


def cmd_ledger_checkpoint(args: argparse.Namespace) -> int:
    from app.events.checkpoints import checkpoint_out, make_checkpoint

    settings = get_settings()
    with _session() as session:
        checkpoint = make_checkpoint(session, settings=settings)
        session.commit()
        print(json.dumps(checkpoint_out(checkpoint)))
    return 0


def cmd_keys_reencrypt(args: argparse.Namespace) -> int:
    """After a rotation (a new key first in PORTAL_FIELD_KEYS, the old ones after it): move
    every encrypted value to the new key, so the old keys can be removed."""
    from sqlmodel import SQLModel

    import app.models  # noqa: F401 - registers every table on the metadata
    from app.db import make_engine
    from app.security.fields import (
        FieldDecryptionError,
        encrypted_columns,
        field_keys,
        reencrypt_column,
    )

    if args.batch_size < 1:
        print("error: --batch-size must be at least 1", file=sys.stderr)
        return 1
    keys = field_keys()
    engine = make_engine(get_settings().database_url)
    totals = {"reencrypted": 0, "already_current": 0, "changed_meanwhile": 0}
    try:
        with engine.connect() as connection:
            for table, column_name, associated in encrypted_columns(SQLModel.metadata):
                count = reencrypt_column(
                    connection,
                    table,
                    column_name,
                    associated,
                    keys=keys,
                    batch_size=args.batch_size,
                )
                line = (
                    f"{associated}: {count.reencrypted} re-encrypted, "
                    f"{count.already_current} already under {keys.current_id!r}"
                )
                if count.changed_meanwhile:
                    line += f", {count.changed_meanwhile} changed while running (run it again)"
                print(line)
                totals["reencrypted"] += count.reencrypted
                totals["already_current"] += count.already_current
                totals["changed_meanwhile"] += count.changed_meanwhile
    except FieldDecryptionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(json.dumps({"key_id": keys.current_id, **totals}))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="consent-portal", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate, then serve with the in-process webhook worker")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--demo", action="store_true", help="load demo data on first run")
    serve.add_argument("--no-worker", action="store_true", help="do not run the webhook worker")
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("worker", help="run the webhook delivery worker alone").set_defaults(
        func=cmd_worker
    )
    sub.add_parser("migrate", help="alembic upgrade head").set_defaults(func=cmd_migrate)

    org = sub.add_parser("org", help="organizations").add_subparsers(
        dest="org_command", required=True
    )
    org_create = org.add_parser("create", help="create an organization and its first API key")
    org_create.add_argument("--name", required=True)
    org_create.add_argument("--slug", required=True)
    org_create.set_defaults(func=cmd_org_create)
    org_key = org.add_parser("key", help="make a new API key for an organization")
    org_key.add_argument("--org", required=True)
    org_key.add_argument("--name", default="default")
    org_key.set_defaults(func=cmd_org_key)

    staff = sub.add_parser("staff", help="staff accounts").add_subparsers(
        dest="staff_command", required=True
    )
    staff_create = staff.add_parser("create", help="password from PORTAL_PASSWORD or stdin")
    staff_create.add_argument("--org", required=True)
    staff_create.add_argument("--email", required=True)
    staff_create.add_argument("--role", required=True, choices=["case_manager", "org_admin"])
    staff_create.add_argument("--name", default="")
    staff_create.set_defaults(func=cmd_staff_create)

    admin = sub.add_parser("admin", help="network administrators").add_subparsers(
        dest="admin_command", required=True
    )
    admin_create = admin.add_parser("create", help="password from PORTAL_PASSWORD or stdin")
    admin_create.add_argument("--email", required=True)
    admin_create.set_defaults(func=cmd_admin_create)

    ledger = sub.add_parser("ledger", help="the event ledger").add_subparsers(
        dest="ledger_command", required=True
    )
    verify = ledger.add_parser("verify", help="check every participant's hash chain")
    verify.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        metavar="FILE",
        help="a checkpoint's JSON as served (or a list of them): every chain it covered must "
        "still reach the head it signed",
    )
    verify.add_argument(
        "--head",
        action="append",
        default=[],
        metavar="DIGEST",
        help="an event's chain_head hash an organization kept: the event must still be there",
    )
    verify.add_argument(
        "--public-key",
        action="append",
        default=[],
        metavar="BASE64",
        help="also trust checkpoints signed with this (earlier) key",
    )
    verify.set_defaults(func=cmd_ledger_verify)
    ledger.add_parser(
        "checkpoint", help="sign a checkpoint of every chain now; prints its JSON"
    ).set_defaults(func=cmd_ledger_checkpoint)

    keys = sub.add_parser("keys", help="field encryption keys").add_subparsers(
        dest="keys_command", required=True
    )
    reencrypt = keys.add_parser(
        "reencrypt", help="re-encrypt every encrypted value with the first PORTAL_FIELD_KEYS key"
    )
    reencrypt.add_argument("--batch-size", type=int, default=500, help="rows per transaction")
    reencrypt.set_defaults(func=cmd_keys_reencrypt)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
