"""Settings every app shares. Values come from the environment; `dapr run` and the
test fixtures set the sidecar's ports there."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class DaprSettings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True)

    dapr_grpc_port: int = 50001
    dapr_http_port: int = 3500

    @property
    def dapr_grpc_address(self) -> str:
        return f"127.0.0.1:{self.dapr_grpc_port}"

    @property
    def dapr_http_url(self) -> str:
        return f"http://127.0.0.1:{self.dapr_http_port}"
