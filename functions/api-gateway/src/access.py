"""Who is calling: the user behind the JWT the request carries (`X-Appwrite-JWT`, or
`Authorization: Bearer <jwt>`), verified by Appwrite itself (`account.get()` with the JWT, as the
function would on Appwrite Cloud), and the API scopes their labels give them."""

from dataclasses import dataclass

from appwrite.client import Client
from appwrite.exception import AppwriteException
from appwrite.services.account import Account

from .routing import scopes_for
from .shared.utils import ApiError


@dataclass
class Caller:
    user_id: str
    labels: list
    scopes: list


def token_of(headers):
    jwt = headers.get("x-appwrite-jwt", "").strip()
    if jwt:
        return jwt
    scheme, _, value = headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return ""


def identify(config, headers, access) -> Caller:
    """The verified caller; 401 `unauthorized` without a valid JWT of an active user."""
    token = token_of(headers)
    if not token:
        raise ApiError("unauthorized", "Sign in: send the user's JWT as X-Appwrite-JWT or Authorization: Bearer <jwt>.")
    client = Client().set_endpoint(config.endpoint).set_project(config.project_id).set_jwt(token)
    try:
        user = Account(client).get()
    except AppwriteException as e:
        if e.code in (401, 403, 404):
            raise ApiError("unauthorized", f"The JWT was not accepted ({e.type or e.code}).") from None
        raise
    if not user.status:
        raise ApiError("unauthorized", "This user is blocked.")
    labels = [str(label) for label in user.labels]
    return Caller(user_id=user.id, labels=labels, scopes=scopes_for(labels, access))
