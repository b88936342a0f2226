"""Settings every app shares. Values come from the environment; `dapr run` and the test
fixtures set the sidecar's ports and the API tokens there."""

from typing import Annotated

from pydantic import AfterValidator, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values that mark a token as never having been set for real.
PLACEHOLDERS = {"changeme", "change-me", "secret", "token", "password", "dapr"}
MIN_TOKEN_LENGTH = 16


def _refuse_placeholders(token: SecretStr) -> SecretStr:
    value = token.get_secret_value()
    if value.lower() in PLACEHOLDERS or len(value) < MIN_TOKEN_LENGTH:
        raise ValueError(
            f"looks like a placeholder, not a token: use at least {MIN_TOKEN_LENGTH} random "
            "characters, e.g. python3 -c 'import secrets; print(secrets.token_hex(32))'"
        )
    return token


# A credential from the environment: refused at start when it looks like a placeholder.
Token = Annotated[SecretStr, AfterValidator(_refuse_placeholders)]


class DaprSettings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True)

    dapr_grpc_port: int = 50001
    dapr_http_port: int = 3500
    # Only the sidecar may call the app: daprd sends this token in the dapr-api-token
    # header when APP_API_TOKEN is set for both.
    app_api_token: Token | None = None
    # The app's calls to its sidecar carry this token when DAPR_API_TOKEN is set for both
    # (the Dapr SDK reads the variable itself; the storefront's own calls send it too).
    dapr_api_token: Token | None = None
    # Where the app sends its own spans (Zipkin's v2 API, as in dapr.yaml); unset, the
    # trace context still flows but the app's spans go nowhere.
    otel_exporter_zipkin_endpoint: str | None = None

    @property
    def dapr_grpc_address(self) -> str:
        return f"127.0.0.1:{self.dapr_grpc_port}"

    @property
    def dapr_http_url(self) -> str:
        return f"http://127.0.0.1:{self.dapr_http_port}"
