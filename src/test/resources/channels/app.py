"""A minimal Django Channels app, as the tests' Channels side: Django settings with a channels_redis layer (argument 2:
its BACKEND, channels_redis.core.RedisChannelLayer by default), and a
consumer that joins groups and sends to the worker's channel. Reads one JSON command per line on stdin:

    {"join": "<group>"}                     group_add of this consumer's channel
    {"send": {<message>}, "to": "mqtt"}     channel_layer.send to the worker's channel
Prints "ready" once set up, then each message this consumer receives as one JSON line (bytes as {"bytes": hex}).
"""
import asyncio
import json
import sys

import django
from django.conf import settings

BACKEND = sys.argv[2] if len(sys.argv) > 2 else "channels_redis.core.RedisChannelLayer"
settings.configure(CHANNEL_LAYERS={"default": {
    "BACKEND": BACKEND,
    "CONFIG": {"hosts": [sys.argv[1]]},
}})
django.setup()

from channels.layers import get_channel_layer  # noqa: E402 (needs the settings above)


def printable(value):
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    raise TypeError(value)


async def commands(layer, channel):
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        command = json.loads(line)
        if "join" in command:
            await layer.group_add(command["join"], channel)
        else:
            await layer.send(command.get("to", "mqtt"), command["send"])
        print(json.dumps({"done": command}), flush=True)


async def receive(layer, channel):
    while True:
        message = await layer.receive(channel)
        print(json.dumps(message, sort_keys=True, default=printable), flush=True)


async def main():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    print("ready", flush=True)
    receiver = asyncio.ensure_future(receive(layer, channel))
    await commands(layer, channel)
    receiver.cancel()


asyncio.run(main())
