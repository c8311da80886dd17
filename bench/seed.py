"""The Django side of ``make bench``: seed users, mint request pools, time a hash.

Run by the driver (``bench.run``) as ``python -m bench.seed <command> ...`` with
the same production environment as the server, so tokens minted here verify
there and codes issued here are the ones the server checks. Each command prints
one JSON line on stdout.

Seeded users are deterministic apart from their random ids: user ``i`` has the
email ``user<i>@bench.example`` and the phone ``+9170<i:08d>`` (a valid Indian
mobile number), both verified, and the password ``BENCH_PASSWORD``. The driver
builds the bodies that only need addresses itself; this module builds the
pools that need the database or the keys (access and refresh tokens, codes,
second steps). ``mfa`` makes users of its own, with an authenticator app:
``mfa<batch>-<i>@bench.example``; ``passkeys`` too, each with a passkey:
``passkey<batch>-<i>@bench.example``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

BENCH_PASSWORD = "Bench-Passw0rd!x"
EMAIL_DOMAIN = "bench.example"
# Emails of nobody: the unregistered side of the forgot-password comparison.
NOBODY_DOMAIN = "nobody.bench.example"
BATCH = 5000


def user_email(i: int) -> str:
    return f"user{i}@{EMAIL_DOMAIN}"


def user_phone(i: int) -> str:
    return f"+9170{i:08d}"


def nobody_email(i: int) -> str:
    return f"nobody{i}@{NOBODY_DOMAIN}"


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authsite.settings.base")
    import django

    django.setup()


def _batches(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _insert_rows(model, columns: list[str], rows: Iterable[tuple]) -> int:
    """executemany INSERT in batches: no model instances, one statement per batch
    on MySQL (mysqlclient rewrites it into a multi-row INSERT)."""
    from django.db import connection

    qn = connection.ops.quote_name
    # Table and column names come from the models, values go as parameters.
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
        qn(model._meta.db_table),
        ", ".join(qn(c) for c in columns),
        ", ".join(["%s"] * len(columns)),
    )
    total = 0
    batch: list[tuple] = []
    with connection.cursor() as cursor:
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                cursor.executemany(sql, batch)
                total += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            total += len(batch)
    return total


def _prepared_constants(model, values: dict) -> dict:
    """Database values of the fields that are the same for every row."""
    from django.db import connection

    prepared = {}
    for field in model._meta.concrete_fields:
        value = values[field.attname] if field.attname in values else field.get_default()
        prepared[field.column] = field.get_db_prep_save(value, connection)
    return prepared


def cmd_users(args: argparse.Namespace) -> dict:
    """Bulk-insert ``count`` users and their profiles (every user has one).

    One precomputed Argon2 hash for all (the production hasher and parameters,
    so a login checks a real hash); random ids from ``new_user_id``.
    """
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import User, new_user_id
    from profiles.models import Profile

    count = args.count
    started = time.perf_counter()
    encoded = make_password(BENCH_PASSWORD)
    now = timezone.now()
    ids: set[int] = set()
    while len(ids) < count:
        ids.add(new_user_id())
    # Inserted in id order: the ids are as random as ever, but the primary-key
    # index (InnoDB's clustered index, SQLite's rowid) is filled by appending.
    id_list = sorted(ids)

    user_const = _prepared_constants(
        User,
        {
            "password": encoded,
            "last_login": None,
            "is_superuser": False,
            "username": None,
            "email_verified_at": now,
            "phone_verified_at": now,
            "is_active": True,
            "is_staff": False,
            "date_joined": now,
        },
    )
    user_columns = list(user_const)
    varying = {"id", "email", "phone"}

    def user_rows() -> Iterator[tuple]:
        template = [None if c in varying else user_const[c] for c in user_columns]
        pos = {c: user_columns.index(c) for c in varying}
        for i, uid in enumerate(id_list):
            row = list(template)
            row[pos["id"]] = uid
            row[pos["email"]] = user_email(i)
            row[pos["phone"]] = user_phone(i)
            yield tuple(row)

    profile_const = _prepared_constants(
        Profile,
        {
            "first_name": "Bench",
            "city": "Pune",
            "country": "India",
            "gender": Profile.UNSPECIFIED,
            "preferences": ["email"],
            "attributes": {"source": "bench"},
            "updated_at": now,
        },
    )
    profile_columns = list(profile_const)

    def profile_rows() -> Iterator[tuple]:
        template = list(profile_const.values())
        pos_user = profile_columns.index("user_id")
        pos_last = profile_columns.index("last_name")
        for i, uid in enumerate(id_list):
            row = list(template)
            row[pos_user] = uid
            row[pos_last] = f"User {i}"
            yield tuple(row)

    with transaction.atomic():
        if connection.vendor == "mysql":
            with connection.cursor() as cursor:
                # A bulk load of rows known to be unique and consistent: skip
                # the per-row unique-index and foreign-key lookups (the indexes
                # are still built).
                cursor.execute("SET SESSION unique_checks = 0")
                cursor.execute("SET SESSION foreign_key_checks = 0")
        users = _insert_rows(User, user_columns, user_rows())
        profiles = _insert_rows(Profile, profile_columns, profile_rows())
        if connection.vendor == "mysql":
            with connection.cursor() as cursor:
                cursor.execute("SET SESSION unique_checks = 1")
                cursor.execute("SET SESSION foreign_key_checks = 1")
    return {
        "users": users,
        "profiles": profiles,
        "seconds": round(time.perf_counter() - started, 2),
    }


def _users_by_index(indices: Sequence[int]) -> dict[int, object]:
    from accounts.models import User

    found: dict[int, object] = {}
    for chunk in _batches(list(indices), 500):
        by_email = {user_email(i): i for i in chunk}
        for user in User.objects.filter(email__in=list(by_email)):
            found[by_email[user.email]] = user
    missing = [i for i in indices if i not in found]
    if missing:
        raise SystemExit(f"seeded users missing: {missing[:5]} (did the seeding step run?)")
    return found


def _write_lines(path: str, lines: Iterable[str]) -> int:
    n = 0
    with Path(path).open("w", encoding="utf-8") as f:
        for line in lines:
            f.write(line)
            f.write("\n")
            n += 1
    return n


def cmd_tokens(args: argparse.Namespace) -> dict:
    """Open ``count`` token sessions for random users; write one token per line
    (``access``: the bearer token; ``refresh``: a JSON body {"refresh": ...})."""
    from django.db import transaction

    from accounts.services.tokens import session_open
    from authsite.client import ClientInfo

    started = time.perf_counter()
    rng = random.Random(args.seed)
    indices = [rng.randrange(args.users) for _ in range(args.count)]
    users = _users_by_index(sorted(set(indices)))
    client = ClientInfo(ip="127.0.0.1", user_agent="authsite-bench seed")
    lines = []
    with transaction.atomic():
        for i in indices:
            pair = session_open(user=users[i], client=client)
            if args.kind == "access":
                lines.append(pair.access)
            else:
                lines.append(json.dumps({"refresh": pair.refresh}))
    n = _write_lines(args.out, lines)
    return {"written": n, "seconds": round(time.perf_counter() - started, 2)}


def cmd_codes(args: argparse.Namespace) -> dict:
    """Issue sign-in codes to ``count`` distinct destinations of seeded users
    (their emails and phones) through ``otp.services.otp_issue``, delivered to
    the outbox; write one verify body per line with the plain code."""
    from django.db import transaction

    from otp import services as otp

    started = time.perf_counter()
    rng = random.Random(args.seed)
    slots = 2 * args.users  # every user has an email and a phone
    count = min(args.count, slots)
    picks = rng.sample(range(slots), count)
    users = _users_by_index(sorted({p // 2 for p in picks}))
    lines = []
    for chunk in _batches(picks, 500):
        with transaction.atomic():
            for p in chunk:
                i, is_phone = divmod(p, 2)
                destination = user_phone(i) if is_phone else user_email(i)
                issued = otp.otp_issue(purpose=otp.LOGIN, destination=destination, user=users[i])
                key = "phone" if is_phone else "email"
                lines.append(json.dumps({key: destination, "otp": issued.code}))
    n = _write_lines(args.out, lines)
    return {"written": n, "seconds": round(time.perf_counter() - started, 2)}


def _bulk_users(emails: list[str], *, mfa_enabled: bool) -> list[int]:
    """Insert verified users (and their profiles) with these emails, one shared
    production hash of ``BENCH_PASSWORD``; returns their ids in order."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from accounts.models import User, new_user_id
    from profiles.models import Profile

    now = timezone.now()
    encoded = make_password(BENCH_PASSWORD)
    users = [
        User(
            id=new_user_id(),
            email=email,
            password=encoded,
            email_verified_at=now,
            date_joined=now,
            mfa_enabled=mfa_enabled,
        )
        for email in emails
    ]
    User.objects.bulk_create(users, batch_size=1000)
    Profile.objects.bulk_create(
        [Profile(user_id=user.id, first_name="Bench") for user in users], batch_size=1000
    )
    return [user.id for user in users]


def cmd_mfa(args: argparse.Namespace) -> dict:
    """``count`` fresh users with an authenticator app (a confirmed TOTP factor,
    its secret encrypted as the site stores it) and a set of recovery codes, each
    with a second step waiting (``challenge_open``, as after a right password).
    Writes one ``/auth/mfa/verify`` body per line: the ``mfa_token`` and the
    app's code for the 30-second step at ``--at-offset`` seconds from now (a
    code is accepted within one step either side, and once per step)."""
    import pyotp
    from django.db import transaction

    from accounts.crypto import secret_encrypt
    from accounts.models import Authenticator, RecoveryCode, User
    from accounts.services import mfa
    from authsite.hashers import RecoveryCodeHasher

    started = time.perf_counter()
    emails = [f"mfa{args.batch}-{i}@{EMAIL_DOMAIN}" for i in range(args.count)]
    secrets_ = [pyotp.random_base32(length=32) for _ in emails]
    # One salted hash for every recovery code: they are never used here.
    recovery_hasher = RecoveryCodeHasher()
    recovery_hash = recovery_hasher.encode("benchrecovery", recovery_hasher.salt())
    lines = []
    with transaction.atomic():
        ids = _bulk_users(emails, mfa_enabled=True)
        Authenticator.objects.bulk_create(
            [
                Authenticator(
                    user_id=uid, kind=mfa.TOTP, secret=secret_encrypt(secret), confirmed=True
                )
                for uid, secret in zip(ids, secrets_, strict=True)
            ],
            batch_size=1000,
        )
        holders = Authenticator.objects.bulk_create(
            [Authenticator(user_id=uid, kind=mfa.RECOVERY_CODES, confirmed=True) for uid in ids],
            batch_size=1000,
        )
        holder_ids = [h.pk for h in holders]
        if None in holder_ids:  # a database that does not return the new ids
            holder_ids = list(
                Authenticator.objects.filter(user_id__in=ids, kind=mfa.RECOVERY_CODES).values_list(
                    "id", flat=True
                )
            )
        RecoveryCode.objects.bulk_create(
            [
                RecoveryCode(authenticator_id=hid, code_hash=recovery_hash)
                for hid in holder_ids
                for _ in range(10)
            ],
            batch_size=5000,
        )
        users = User.objects.in_bulk(ids)
        at = time.time() + args.at_offset
        for uid, email, secret in zip(ids, emails, secrets_, strict=True):
            token, _challenge = mfa.challenge_open(
                user=users[uid], first_factor="password", identifier=email, created=False
            )
            code = pyotp.TOTP(secret).at(at)
            lines.append(json.dumps({"mfa_token": token, "method": "totp", "code": code}))
    n = _write_lines(args.out, lines)
    return {"written": n, "seconds": round(time.perf_counter() - started, 2)}


def cmd_passkeys(args: argparse.Namespace) -> dict:
    """``count`` fresh users, each with a passkey of the software authenticator
    (``authsite.testing.webauthn``; its key made here, its public key stored as
    a registration stores it), and a login challenge per user, kept on the
    server as ``/auth/passkeys/login/options`` keeps one. Writes one
    ``/auth/passkeys/login`` body per line: the assertion the authenticator
    signs over that challenge, for the deployment's RP ID and first origin.
    Challenges live ``CHALLENGE_TTL`` (five minutes) from now: the pool is
    made just before its phase."""
    import hashlib
    import secrets
    from datetime import timedelta

    from cryptography.hazmat.primitives.asymmetric import ec
    from django.conf import settings
    from django.db import transaction
    from webauthn.helpers import bytes_to_base64url, encode_cbor

    from accounts.models import Authenticator, Passkey, WebAuthnChallenge
    from accounts.services.passkeys import CHALLENGE_TTL
    from authsite import clock
    from authsite.testing.webauthn import SoftAuthenticator, SoftCredential

    started = time.perf_counter()
    rp_id = settings.WEBAUTHN_RP_ID
    authenticator = SoftAuthenticator(origin=settings.WEBAUTHN_ORIGINS[0])
    emails = [f"passkey{args.batch}-{i}@{EMAIL_DOMAIN}" for i in range(args.count)]
    lines = []
    with transaction.atomic():
        ids = _bulk_users(emails, mfa_enabled=True)
        credentials = []
        for uid in ids:
            key = ec.generate_private_key(ec.SECP256R1())
            credentials.append(
                SoftCredential(
                    credential_id=secrets.token_bytes(32),
                    private_key=key,
                    rp_id=rp_id,
                    user_handle=uid.to_bytes(8, "big"),
                )
            )
        factors = Authenticator.objects.bulk_create(
            [
                Authenticator(user_id=uid, kind=Authenticator.Kind.WEBAUTHN, name="Bench key")
                for uid in ids
            ],
            batch_size=1000,
        )
        factor_ids = [f.pk for f in factors]
        if None in factor_ids:  # a database that does not return the new ids
            by_user = dict(
                Authenticator.objects.filter(
                    user_id__in=ids, kind=Authenticator.Kind.WEBAUTHN
                ).values_list("user_id", "id")
            )
            factor_ids = [by_user[uid] for uid in ids]
        Authenticator.objects.filter(pk__in=factor_ids).update(confirmed=True)
        rows = []
        for factor_id, credential in zip(factor_ids, credentials, strict=True):
            numbers = credential.private_key.public_key().public_numbers()
            cose_key = {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
            rows.append(
                Passkey(
                    authenticator_id=factor_id,
                    credential_hash=hashlib.sha256(credential.credential_id).hexdigest(),
                    credential_id=bytes_to_base64url(credential.credential_id),
                    public_key=encode_cbor(cose_key),
                    transports=["internal"],
                )
            )
        Passkey.objects.bulk_create(rows, batch_size=1000)
        now = clock.now()
        challenges = [secrets.token_bytes(32) for _ in ids]
        WebAuthnChallenge.objects.bulk_create(
            [
                WebAuthnChallenge(
                    challenge_hash=hashlib.sha256(challenge).hexdigest(),
                    ceremony=WebAuthnChallenge.Ceremony.LOGIN,
                    created_at=now,
                    expires_at=now + timedelta(seconds=CHALLENGE_TTL),
                )
                for challenge in challenges
            ],
            batch_size=1000,
        )
        for credential, challenge in zip(credentials, challenges, strict=True):
            options = {"challenge": bytes_to_base64url(challenge), "rpId": rp_id}
            lines.append(
                json.dumps({"credential": authenticator.get(options, credential=credential)})
            )
    n = _write_lines(args.out, lines)
    return {"written": n, "seconds": round(time.perf_counter() - started, 2)}


def cmd_hashtime(args: argparse.Namespace) -> dict:
    """The time of one password check with the production hasher (in-process)."""
    from django.contrib.auth.hashers import check_password, get_hasher, make_password

    hasher = get_hasher()
    encoded = make_password(BENCH_PASSWORD)
    check_password(BENCH_PASSWORD, encoded)  # warm-up (imports, first allocation)
    walls, cpus = [], []
    for _ in range(args.rounds):
        w0, c0 = time.perf_counter(), time.process_time()
        ok = check_password(BENCH_PASSWORD, encoded)
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
        if not ok:
            raise SystemExit("check_password failed")
    params = {
        name: getattr(hasher, name)
        for name in ("time_cost", "memory_cost", "parallelism", "iterations")
        if hasattr(hasher, name)
    }
    return {
        "hasher": f"{type(hasher).__module__}.{type(hasher).__name__}",
        "params": params,
        "wall_s": statistics.median(walls),
        "cpu_s": statistics.median(cpus),
        "rounds": args.rounds,
    }


def cmd_counts(args: argparse.Namespace) -> dict:
    from accounts.models import DeviceSession, SecurityEvent, User
    from otp.models import OneTimeCode
    from profiles.models import Profile

    return {
        "users": User.objects.count(),
        "profiles": Profile.objects.count(),
        "sessions": DeviceSession.objects.count(),
        "events": SecurityEvent.objects.count(),
        "codes": OneTimeCode.objects.count(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.seed")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("users")
    p.add_argument("--count", type=int, required=True)
    for name in ("tokens", "codes"):
        p = sub.add_parser(name)
        p.add_argument("--users", type=int, required=True, help="how many users were seeded")
        p.add_argument("--count", type=int, required=True)
        p.add_argument("--out", required=True)
        p.add_argument("--seed", type=int, default=0)
        if name == "tokens":
            p.add_argument("--kind", choices=["access", "refresh"], required=True)
    p = sub.add_parser("mfa")
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--batch", type=int, required=True, help="a number no other batch used")
    p.add_argument("--at-offset", type=float, default=5.0)
    p.add_argument("--out", required=True)
    p = sub.add_parser("passkeys")
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--batch", type=int, required=True, help="a number no other batch used")
    p.add_argument("--out", required=True)
    p = sub.add_parser("hashtime")
    p.add_argument("--rounds", type=int, default=9)
    sub.add_parser("counts")
    args = parser.parse_args(argv)

    _setup()
    result = {
        "users": cmd_users,
        "tokens": cmd_tokens,
        "codes": cmd_codes,
        "mfa": cmd_mfa,
        "passkeys": cmd_passkeys,
        "hashtime": cmd_hashtime,
        "counts": cmd_counts,
    }[args.command](args)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
