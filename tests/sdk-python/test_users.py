"""Users, accounts, sessions and JWTs with the Python SDK: users managed with the key (argon2
passwords, every update, list queries), sign-up and email/password sessions, and a server SDK
acting as the user through `set_session` and `set_jwt`, with every authentication error."""

import base64
import json
import urllib.parse

import pytest
import requests
from appwrite.client import Client
from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.query import Query
from appwrite.services.account import Account
from appwrite.services.users import Users

from actors import PASSWORD, unique, user_actor
from conftest import error_of


@pytest.fixture
def users(client):
    return Users(client)


def guest(emulator):
    return emulator.client(key=False)


def as_session(emulator, secret):
    return Client().set_endpoint(emulator.endpoint).set_project(emulator.project).set_session(secret)


def as_jwt(emulator, jwt):
    return Client().set_endpoint(emulator.endpoint).set_project(emulator.project).set_jwt(jwt)


def test_create_user_model_and_argon2(users):
    user_id = unique("u")
    u = users.create(user_id=user_id, email=f"{user_id.upper()}@Example.com", phone="+16175551212", password=PASSWORD, name="Ada")
    assert (u.id, u.email, u.phone, u.name) == (user_id, f"{user_id}@example.com", "+16175551212", "Ada")
    assert (u.status, u.labels, u.emailverification, u.phoneverification, u.mfa) == (True, [], False, False, False)
    assert u.hash == "argon2" and u.password.startswith("$argon2id$v=19$m=2048,t=4,p=3$")
    assert u.passwordupdate and u.registration and u.createdat == u.registration
    assert sorted(t.providertype for t in u.targets) == ["email", "sms"]
    assert {t.identifier for t in u.targets} == {u.email, u.phone}
    assert users.get(user_id=user_id).to_dict() == u.to_dict()

    bare = users.create(user_id=ID.unique())
    assert (bare.email, bare.phone, bare.password, bare.passwordupdate, bare.targets) == ("", "", None, "", [])

    for kw in ({"user_id": user_id}, {"user_id": ID.unique(), "email": u.email}, {"user_id": ID.unique(), "phone": u.phone}):
        with pytest.raises(AppwriteException) as e:
            users.create(**kw)
        assert error_of(e) == (409, "user_already_exists", "A user with the same id, email, or phone already exists in this project.")


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"email": "not-an-email"}, "Invalid `email` param: Value must be a valid email address"),
        ({"password": "short"}, "Invalid `password` param: Password must be between 8 and 256 characters long."),
        ({"phone": "555-1234"}, "Invalid `phone` param: Phone number must start with a '+' can have a maximum of fifteen digits."),
        ({"name": "n" * 129}, "Invalid `name` param: Value must be a valid string and no longer than 128 chars"),
        ({"user_id": "-x"}, "Invalid `userId` param: Parameter must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, period, hyphen, and underscore. Can't start with a special char"),
    ],
)
def test_create_user_validation(users, kw, message):
    args = {"user_id": unique("v"), **kw}
    with pytest.raises(AppwriteException) as e:
        users.create(**args)
    assert error_of(e) == (400, "general_argument_invalid", message)
    with pytest.raises(AppwriteException) as e:
        users.get(user_id=args["user_id"])
    assert e.value.code in (400, 404)


def test_list_users_queries_and_search(users):
    tag = unique("q")
    made = [users.create(user_id=f"{tag}{i}", email=f"{tag}{i}@example.com", name=f"Person {i}") for i in range(3)]
    users.update_labels(user_id=made[1].id, labels=["vip", "beta"])
    users.update_status(user_id=made[2].id, status=False)
    page = users.list(search=tag)
    assert page.total == 3 and [u.id for u in page.users] == [u.id for u in made]
    assert [u.id for u in users.list(queries=[Query.equal("email", [made[0].email])]).users] == [made[0].id]
    assert [u.id for u in users.list(queries=[Query.contains("labels", ["vip"])], search=tag).users] == [made[1].id]
    assert [u.id for u in users.list(queries=[Query.equal("status", [False])], search=tag).users] == [made[2].id]
    page = users.list(queries=[Query.order_desc("name"), Query.limit(2)], search=tag, total=False)
    assert page.total == 0 and [u.id for u in page.users] == [made[2].id, made[1].id]
    with pytest.raises(AppwriteException) as e:
        users.list(queries=[Query.equal("password", ["x"])])
    assert error_of(e) == (400, "general_argument_invalid", "Invalid `queries` param: Invalid query: Attribute not found in schema: password")


def test_updates(users):
    u = users.create(user_id=unique("up"), email=f"{unique('m')}@example.com", password=PASSWORD)
    assert users.update_name(user_id=u.id, name="Grace").name == "Grace"
    assert users.update_name(user_id=u.id, name="").name == ""
    new_email = f"{unique('n')}@example.com"
    up = users.update_email(user_id=u.id, email=new_email.upper())
    assert (up.email, up.emailverification) == (new_email, False)
    assert [t.identifier for t in up.targets] == [new_email]
    other = users.create(user_id=unique("o"), email=f"{unique('o')}@example.com")
    with pytest.raises(AppwriteException) as e:
        users.update_email(user_id=u.id, email=other.email)
    assert error_of(e) == (409, "user_target_already_exists", "A target with the same ID already exists.")
    with pytest.raises(AppwriteException) as e:
        users.update_email(user_id=u.id, email="bad")
    assert e.value.code == 400
    cleared = users.update_email(user_id=u.id, email="")
    assert (cleared.email, cleared.targets) == ("", [])

    before = users.get(user_id=u.id).password
    after = users.update_password(user_id=u.id, password="new-password-1")
    assert after.password != before and after.password.startswith("$argon2id$")
    assert users.update_password(user_id=u.id, password="").password is None
    with pytest.raises(AppwriteException) as e:
        users.update_password(user_id=u.id, password="1234567")
    assert e.value.code == 400

    assert users.update_status(user_id=u.id, status=False).status is False
    assert users.update_labels(user_id=u.id, labels=["vip", "vip", "team1"]).labels == ["vip", "team1"]
    with pytest.raises(AppwriteException) as e:
        users.update_labels(user_id=u.id, labels=["not ok"])
    assert e.value.code == 400 and e.value.message.startswith("Invalid `labels` param: Value must a valid array no longer than 1000 items")
    prefs = users.update_prefs(user_id=u.id, prefs={"theme": "dark", "n": 1})
    assert prefs.data == {"theme": "dark", "n": 1}
    assert users.get_prefs(user_id=u.id).data == {"theme": "dark", "n": 1}
    assert users.get(user_id=u.id).prefs.data == {"theme": "dark", "n": 1}

    users.delete(user_id=u.id)
    for call in (users.get, users.delete, users.get_prefs, users.list_sessions):
        with pytest.raises(AppwriteException) as e:
            call(user_id=u.id)
        assert error_of(e) == (404, "user_not_found", "User with the requested ID could not be found.")


def test_user_sessions_with_the_key(users, emulator):
    u = users.create(user_id=unique("s"), email=f"{unique('s')}@example.com", password=PASSWORD)
    s1 = users.create_session(user_id=u.id)
    assert (s1.userid, s1.provider, s1.factors, s1.current) == (u.id, "server", ["server"], False)
    assert json.loads(base64.b64decode(s1.secret))["id"] == u.id
    s2 = users.create_session(user_id=u.id)
    listed = users.list_sessions(user_id=u.id)
    assert listed.total == 2 and [s.id for s in listed.sessions] == [s1.id, s2.id]
    assert all(s.secret == "" for s in listed.sessions)
    assert Account(as_session(emulator, s1.secret)).get().id == u.id
    users.delete_session(user_id=u.id, session_id=s1.id)
    with pytest.raises(AppwriteException) as e:
        Account(as_session(emulator, s1.secret)).get()
    assert e.value.code == 401, "a deleted session is a guest"
    with pytest.raises(AppwriteException) as e:
        users.delete_session(user_id=u.id, session_id=s1.id)
    assert error_of(e) == (404, "user_session_not_found", "The current user session could not be found.")
    users.delete_sessions(user_id=u.id)
    assert users.list_sessions(user_id=u.id).total == 0


def test_sign_up_and_email_session_as_a_browser(emulator):
    """The client flow: a guest signs up, signs in, and is recognised by its cookie."""
    base = emulator.endpoint
    project = emulator.project
    user_id, email = unique("w"), f"{unique('w')}@example.com"
    made = Account(guest(emulator)).create(user_id=user_id, email=email, password=PASSWORD, name="Web")
    assert (made.id, made.email, made.name, made.status) == (user_id, email, "Web", True)
    assert made.accessedat and "password" not in made.to_dict(), "the Account model hides the hash"

    r = requests.post(f"{base}/account/sessions/email", headers={"X-Appwrite-Project": project}, json={"email": email, "password": PASSWORD})
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["userId"], body["provider"], body["providerUid"], body["current"], body["factors"]) == (user_id, "email", email, True, ["password"])
    assert body["secret"] == "", "a client never sees the secret in the body"
    fallback = json.loads(r.headers["x-fallback-cookies"])
    secret = fallback[f"a_session_{project}"]
    assert json.loads(base64.b64decode(secret)) ["id"] == user_id
    cookies = r.headers["set-cookie"]
    assert f"a_session_{project}_legacy=" in cookies and f"a_session_{project}=" in cookies and "httponly" in cookies
    cookie_value = r.cookies.get(f"a_session_{project}")
    assert urllib.parse.unquote_plus(cookie_value) == secret

    # The cookie, the SSR header and the fallback header each identify the user.
    for headers in (
        {"Cookie": f"a_session_{project}={cookie_value}"},
        {"Cookie": f"a_session_{project}_legacy={cookie_value}"},
        {"X-Appwrite-Session": secret},
        {"X-Fallback-Cookies": json.dumps({f"a_session_{project}": secret})},
    ):
        me = requests.get(f"{base}/account", headers={"X-Appwrite-Project": project, **headers})
        assert (me.status_code, me.json()["$id"]) == (200, user_id), headers

    # Signing in again while signed in is refused; wrong credentials too.
    r = requests.post(f"{base}/account/sessions", headers={"X-Appwrite-Project": project, "X-Appwrite-Session": secret}, json={"email": email, "password": PASSWORD})
    assert (r.status_code, r.json()["type"]) == (401, "user_session_already_exists")
    for creds in ({"email": email, "password": "wrong-password"}, {"email": f"nobody{email}", "password": PASSWORD}):
        r = requests.post(f"{base}/account/sessions/email", headers={"X-Appwrite-Project": project}, json=creds)
        assert (r.status_code, r.json()["type"], r.json()["message"]) == (401, "user_invalid_credentials", "Invalid credentials. Please check the email and password.")
    with pytest.raises(AppwriteException) as e:
        Account(guest(emulator)).create(user_id=unique("w"), email=email, password=PASSWORD)
    assert error_of(e)[:2] == (409, "user_already_exists")
    with pytest.raises(AppwriteException) as e:
        Account(guest(emulator)).get()
    assert error_of(e) == (401, "general_unauthorized_scope", 'User (role: guests) missing scopes (["account"])')


def test_server_sdk_acts_as_the_user_with_set_session(emulator):
    alice = user_actor(emulator, "alice")
    account = Account(alice.client)
    me = account.get()
    assert me.id == alice.user_id
    sessions = account.list_sessions()
    assert sessions.total == 1 and sessions.sessions[0].current is True
    current = account.get_session(session_id="current")
    assert current.id == sessions.sessions[0].id and current.current is True
    prefs = account.update_prefs(prefs={"lang": "fr"})
    assert prefs.prefs.data == {"lang": "fr"} and account.get_prefs().data == {"lang": "fr"}
    # A second session, then deleting the current one signs the client out.
    other = Account(emulator.client()).create_email_password_session(email=me.email, password=PASSWORD)
    assert account.list_sessions().total == 2
    account.delete_session(session_id="current")
    with pytest.raises(AppwriteException) as e:
        account.get()
    assert e.value.code == 401
    other_account = Account(as_session(emulator, other.secret))
    with pytest.raises(AppwriteException) as e:
        other_account.get_session(session_id=current.id)
    assert error_of(e)[:2] == (404, "user_session_not_found")
    other_account.delete_sessions()
    with pytest.raises(AppwriteException) as e:
        other_account.get()
    assert e.value.code == 401


def test_jwts(emulator, users):
    alice = user_actor(emulator, "alice")
    jwt = users.create_jwt(user_id=alice.user_id, session_id="recent").jwt
    assert Account(as_jwt(emulator, jwt)).get().id == alice.user_id
    unbound = users.create_jwt(user_id=alice.user_id).jwt
    assert Account(as_jwt(emulator, unbound)).get().id == alice.user_id
    # The account's own JWT, for the current session (Node's account.createJWT; raw here).
    r = requests.post(f"{emulator.endpoint}/account/jwts", headers=alice.headers, json={"duration": 60})
    assert r.status_code == 201, r.text
    own = r.json()["jwt"]
    assert Account(as_jwt(emulator, own)).get().id == alice.user_id
    r = requests.post(f"{emulator.endpoint}/account/jwt", headers=alice.headers, json={})
    assert r.status_code == 201, "legacy alias"
    # A JWT caller has no session to bind a new JWT to.
    r = requests.post(f"{emulator.endpoint}/account/jwts", headers={"X-Appwrite-Project": emulator.project, "X-Appwrite-JWT": own}, json={})
    assert (r.status_code, r.json()["type"]) == (404, "user_session_not_found")
    r = requests.post(f"{emulator.endpoint}/account/jwts", headers=alice.headers, json={"duration": 3601})
    assert (r.status_code, r.json()["message"]) == (400, "Invalid `duration` param: Value must be a valid range between 0 and 3,600")

    bad = jwt[:-3] + ("AAA" if not jwt.endswith("AAA") else "BBB")
    for token, detail in [(bad, "Invalid token: Signature failed"), ("abc", "Invalid token: Incomplete segments")]:
        with pytest.raises(AppwriteException) as e:
            Account(as_jwt(emulator, token)).get()
        assert error_of(e) == (401, "user_jwt_invalid", f"Failed to verify JWT. {detail}")
    both = as_jwt(emulator, jwt).set_session(alice.secret)
    with pytest.raises(AppwriteException) as e:
        Account(both).get()
    assert error_of(e)[:2] == (403, "user_jwt_and_cookie_set")
    # A JWT bound to a deleted session stops working; one bound to none keeps working.
    users.delete_sessions(user_id=alice.user_id)
    with pytest.raises(AppwriteException) as e:
        Account(as_jwt(emulator, jwt)).get()
    assert e.value.code == 401
    assert Account(as_jwt(emulator, unbound)).get().id == alice.user_id
    with pytest.raises(AppwriteException) as e:
        users.create_jwt(user_id="nobody")
    assert e.value.code == 404


def test_blocked_users(emulator, users):
    bob = user_actor(emulator, "bob")
    jwt = users.create_jwt(user_id=bob.user_id).jwt
    users.update_status(user_id=bob.user_id, status=False)
    for client in (bob.client, as_jwt(emulator, jwt)):
        with pytest.raises(AppwriteException) as e:
            Account(client).get()
        assert error_of(e) == (403, "user_blocked", "The current user has been blocked.")
    email = users.get(user_id=bob.user_id).email
    with pytest.raises(AppwriteException) as e:
        Account(emulator.client()).create_email_password_session(email=email, password=PASSWORD)
    assert error_of(e)[:2] == (403, "user_blocked")
    users.update_status(user_id=bob.user_id, status=True)
    assert Account(bob.client).get().id == bob.user_id


def test_key_and_user_scopes(emulator):
    """API keys bypass permissions, not scopes: a key has no `account` scope, a user no `users.*`."""
    with pytest.raises(AppwriteException) as e:
        Account(emulator.client()).get()
    assert e.value.code == 401 and e.value.type == "general_unauthorized_scope"
    assert e.value.message.endswith('(role: applications) missing scopes (["account"])')
    alice = user_actor(emulator, "alice")
    with pytest.raises(AppwriteException) as e:
        Users(alice.client).list()
    assert e.value.code == 401 and e.value.message == f'{Account(alice.client).get().email} (role: users) missing scopes (["users.read"])'
