"""The portal's sign-in secrets: passwords (Argon2id) and the TOTP second factor.

A password is hashed with Argon2id (argon2-cffi's defaults, RFC 9106's second recommended
parameter set: 64 MiB, 3 passes); the encoded hash carries its parameters, so a hash made
under older parameters is re-made at the next good sign-in. A password opens the portal
only: the API takes keys (`accord.store.organisations`), and a key is never a password.

Sign-in answers alike for an unknown e-mail, a disabled user, a user without a password and
a wrong password, and takes the same time (a dummy hash is verified when there is nothing to
verify), so the form tells nobody which accounts exist.

TOTP (RFC 6238, pyotp): 30-second steps, one step of drift either way; a step once used is
refused after (``totp_last_step``), so an observed code cannot be replayed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, select, update

from accord.model.roles import Role
from accord.store.engine import write_transaction
from accord.store.organisations import NotFound, User
from accord.store.schema import organisations, users

MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # Argon2 takes any length; a megabyte "password" is only a way to load the node
TOTP_DRIFT = 1  # steps accepted either side of now


class WeakPassword(ValueError):
    """A new password is refused; the message says why and what would do."""


@dataclass(frozen=True, slots=True)
class Account:
    """What the portal needs to know about a user beyond `User`."""

    user: User
    has_password: bool
    totp_enabled: bool
    totp_required: bool  # by the user's organisation
    locale: str | None
    time_zone: str | None


@dataclass(frozen=True, slots=True)
class SignInState:
    """Which sign-in secrets a user has, for listings (never the hash or the secret)."""

    has_password: bool
    totp_enabled: bool


def check_new_password(password: str, email: str) -> None:
    """Raise WeakPassword unless ``password`` may be set (NIST SP 800-63B: length, not
    composition rules)."""
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise WeakPassword(f"a password may have at most {MAX_PASSWORD} characters")
    if "\x00" in password:
        raise WeakPassword("a password must not hold a NUL character")
    if password.strip().lower() in {email.lower(), email.split("@")[0].lower()}:
        raise WeakPassword("a password must not be the e-mail address")


class Credentials:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.hasher = PasswordHasher()  # Argon2id
        self._dummy_hash: str | None = None

    @property
    def _dummy(self) -> str:
        """A hash to verify when there is none, so that every failed sign-in costs the same
        (made on first use: a hash costs 64 MiB and tens of milliseconds)."""
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash("not a password of anyone")
        return self._dummy_hash

    # passwords --------------------------------------------------------------------------

    def set_password(self, user_id: str, password: str) -> None:
        """Set a user's password (after `check_new_password`)."""
        with self.engine.connect() as conn:
            email = conn.execute(select(users.c.email).where(users.c.id == user_id)).scalar()
        if email is None:
            raise NotFound(f"no user {user_id!r}")
        check_new_password(password, str(email))
        hashed = self.hasher.hash(password)
        with write_transaction(self.engine) as conn:
            conn.execute(update(users).where(users.c.id == user_id).values(password_hash=hashed))

    def check_password(self, email: str, password: str) -> User | None:
        """The user whose e-mail and password these are, or None, alike for every reason."""
        if len(password) > MAX_PASSWORD or "\x00" in email:
            self._verify(self._dummy, "x")
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.email == email.strip().lower())).first()
        stored = row.password_hash if row is not None and not row.disabled else None
        if stored is None or row is None:
            self._verify(self._dummy, password)
            return None
        if not self._verify(stored, password):
            return None
        if self.hasher.check_needs_rehash(stored):
            with write_transaction(self.engine) as conn:
                conn.execute(
                    update(users)
                    .where(users.c.id == row.id)
                    .values(password_hash=self.hasher.hash(password))
                )
        return User(row.id, row.email, row.org_id, Role(row.role))

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    # the second factor -----------------------------------------------------------------

    @staticmethod
    def new_totp_secret() -> str:
        return pyotp.random_base32()

    @staticmethod
    def totp_uri(secret: str, email: str, issuer: str = "Accord") -> str:
        """The otpauth:// address an authenticator app takes (typed in or as a QR code)."""
        return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)

    def enable_totp(self, user_id: str, secret: str, code: str) -> bool:
        """Keep ``secret`` as the user's second factor if ``code`` proves the app has it."""
        step = _matching_step(secret, code)
        if step is None:
            return False
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(totp_secret=secret, totp_last_step=step)
            )
        return True

    def verify_totp(self, user_id: str, code: str) -> bool:
        """Whether ``code`` is the user's current one and was not used before."""
        with write_transaction(self.engine) as conn:
            row = conn.execute(
                select(users.c.totp_secret, users.c.totp_last_step).where(users.c.id == user_id)
            ).first()
            if row is None or not row.totp_secret:
                return False
            step = _matching_step(row.totp_secret, code)
            if step is None or (row.totp_last_step is not None and step <= row.totp_last_step):
                return False
            conn.execute(update(users).where(users.c.id == user_id).values(totp_last_step=step))
        return True

    def reset_totp(self, user_id: str) -> None:
        """Forget the user's second factor (a lost phone); they set a new one at sign-in
        where their organisation requires one."""
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(totp_secret=None, totp_last_step=None)
            )

    def require_totp(self, org_id: str, required: bool) -> None:
        with write_transaction(self.engine) as conn:
            done = conn.execute(
                update(organisations)
                .where(organisations.c.id == org_id)
                .values(require_totp=required)
            )
            if done.rowcount == 0:
                raise NotFound(f"no organisation {org_id!r}")

    def orgs_requiring_totp(self) -> frozenset[str]:
        """The ids of the organisations that require a second factor."""
        with self.engine.connect() as conn:
            ids = conn.execute(
                select(organisations.c.id).where(organisations.c.require_totp)
            ).scalars()
            return frozenset(ids)

    # the account ------------------------------------------------------------------------

    def states(self, org_id: str | None = None) -> dict[str, SignInState]:
        """User id -> which sign-in secrets the user has, for every user (of ``org_id``)."""
        stmt = select(
            users.c.id,
            users.c.password_hash.is_not(None).label("has_password"),
            users.c.totp_secret.is_not(None).label("totp_enabled"),
        )
        if org_id is not None:
            stmt = stmt.where(users.c.org_id == org_id)
        with self.engine.connect() as conn:
            return {
                row.id: SignInState(bool(row.has_password), bool(row.totp_enabled))
                for row in conn.execute(stmt)
            }

    def account(self, user_id: str) -> Account | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(users, organisations.c.require_totp)
                .join(organisations, organisations.c.id == users.c.org_id)
                .where(users.c.id == user_id)
                .where(~users.c.disabled)
            ).first()
        if row is None:
            return None
        user = User(row.id, row.email, row.org_id, Role(row.role))
        return Account(
            user,
            has_password=row.password_hash is not None,
            totp_enabled=row.totp_secret is not None,
            totp_required=bool(row.require_totp),
            locale=row.locale,
            time_zone=row.time_zone,
        )

    def set_preferences(self, user_id: str, locale: str | None, time_zone: str | None) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(locale=locale, time_zone=time_zone)
            )


def _matching_step(secret: str, code: str) -> int | None:
    """The time step whose code ``code`` is (within the drift), or None."""
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = int(time.time()) // totp.interval
    for step in range(now - TOTP_DRIFT, now + TOTP_DRIFT + 1):
        if pyotp.utils.strings_equal(totp.at(step * totp.interval), code):
            return step
    return None
