"""Passwords (Argon2id), the TOTP second factor and the portal's server-side sessions."""

from __future__ import annotations

import time
from datetime import timedelta

import pyotp
import pytest

from accord.model.roles import Role
from accord.store.credentials import WeakPassword
from accord.store.node import Store


@pytest.fixture
def member(store: Store) -> str:
    store.directory.add_org("CERT-A")
    user, _key = store.directory.add_user("ana@cert-a.example", "CERT-A", Role.ANALYST)
    return user.id


def test_password_is_argon2id_and_checks(store: Store, member: str) -> None:
    store.credentials.set_password(member, "correct horse battery staple")
    with store.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT password_hash FROM users").scalar_one()
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored
    user = store.credentials.check_password(" Ana@CERT-A.example ", "correct horse battery staple")
    assert user is not None and user.id == member
    assert (
        store.credentials.check_password("ana@cert-a.example", "wrong horse battery staple") is None
    )
    assert (
        store.credentials.check_password("nobody@cert-a.example", "correct horse battery staple")
        is None
    )


def test_an_api_key_is_not_a_password(store: Store) -> None:
    store.directory.add_org("CERT-B")
    _user, key = store.directory.add_user("bo@cert-b.example", "CERT-B", Role.ANALYST)
    assert store.credentials.check_password("bo@cert-b.example", key) is None


@pytest.mark.parametrize(
    "password", ["short", "ana@cert-a.example", "x" * 1025, "twelve chars\x00"]
)
def test_weak_passwords_are_refused(store: Store, member: str, password: str) -> None:
    with pytest.raises(WeakPassword):
        store.credentials.set_password(member, password)


def test_totp_enable_verify_and_no_replay(store: Store, member: str) -> None:
    secret = store.credentials.new_totp_secret()
    assert not store.credentials.enable_totp(
        member, secret, "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    )
    code = pyotp.TOTP(secret).now()
    assert store.credentials.enable_totp(member, secret, code)
    account = store.credentials.account(member)
    assert account is not None and account.totp_enabled
    assert not store.credentials.verify_totp(member, code)  # the step was used to enable
    next_code = pyotp.TOTP(secret).at(time.time() + 30)
    assert store.credentials.verify_totp(member, next_code)
    assert not store.credentials.verify_totp(member, next_code)  # replayed
    store.credentials.reset_totp(member)
    account = store.credentials.account(member)
    assert account is not None and not account.totp_enabled


def test_org_requires_totp(store: Store, member: str) -> None:
    org = store.directory.org("CERT-A")
    store.credentials.require_totp(org.id, True)
    account = store.credentials.account(member)
    assert account is not None and account.totp_required


def test_sessions_expire_idle_and_absolute_and_revoke(store: Store, member: str) -> None:
    sessions = store.web_sessions
    token = sessions.create(member, timedelta(hours=8), address="192.0.2.1")
    found = sessions.get(token, idle=timedelta(minutes=30))
    assert found is not None and found.user.id == member and len(found.csrf) >= 32
    assert sessions.get(token + "x", idle=timedelta(minutes=30)) is None
    with store.engine.connect() as conn:
        assert token not in str(conn.exec_driver_sql("SELECT * FROM web_sessions").all())
    assert sessions.get(token, idle=timedelta(0)) is None  # idle too long: ended
    assert sessions.get(token, idle=timedelta(minutes=30)) is None
    short = sessions.create(member, timedelta(0))
    assert sessions.get(short, idle=timedelta(minutes=30)) is None  # past its absolute end
    one = sessions.create(member, timedelta(hours=8))
    two = sessions.create(member, timedelta(hours=8))
    assert sessions.revoke_user(member, keep=two) == 1
    assert sessions.get(one, idle=timedelta(minutes=30)) is None
    assert sessions.get(two, idle=timedelta(minutes=30)) is not None
    sessions.revoke(two)
    assert sessions.get(two, idle=timedelta(minutes=30)) is None
