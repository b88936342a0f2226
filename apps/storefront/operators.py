"""The operator console's lock: dead letters, their replay and the saga of every order
are for whoever presents the operator token, never for customers."""

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

# Read by hand below, so that a missing token is a 401 that says what to send.
bearer = HTTPBearer(auto_error=False, description="the operator token (OPERATOR_TOKEN)")


def operator(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> str:
    """Who is at the console, as a replay's log line names them: the operator, and from where."""
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "the operator console needs the operator token: Authorization: Bearer <OPERATOR_TOKEN>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    expected: SecretStr | None = request.app.state.operator_token
    if expected is None or not hmac.compare_digest(
        credentials.credentials.encode(), expected.get_secret_value().encode()
    ):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "that is not the operator token")
    return f"operator at {request.client.host if request.client else 'an unknown address'}"


Operator = Annotated[str, Depends(operator)]
