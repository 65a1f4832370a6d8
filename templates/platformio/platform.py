from platformio.public import PlatformBase


class TinykilnPlatform(PlatformBase):
    pass
