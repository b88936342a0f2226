from common.settings import DaprSettings, Token


class Settings(DaprSettings):
    # Opens the operator console (dead letters, replay, every order's saga) to whoever
    # presents it as a bearer token; unset, the console stays closed to everyone.
    operator_token: Token | None = None
