"""A minimal Django Channels app, as the tests' Channels side: Django settings with a channels_redis layer (argument 1:
its host, a redis:// URL or a hosts entry such as {'sentinels': [...], 'master_name': ...}; argument 2: its BACKEND,
channels_redis.core.RedisChannelLayer by default) and a Channels consumer run as Channels runs one. The
consumer takes commands as ASGI messages, one JSON line each on stdin:

    {"join": "<group>"}                     group_add of the consumer's channel
    {"send": {<message>}, "to": "mqtt"}     channel_layer.send to the worker's channel
and its mqtt_message handler prints each mqtt.message event it gets as one JSON line (bytes as {"bytes": hex}).
Prints "ready" once its channel exists.
"""
import ast
import asyncio
import json
import sys

import django
from django.conf import settings

BACKEND = sys.argv[2] if len(sys.argv) > 2 else "channels_redis.core.RedisChannelLayer"
settings.configure(CHANNEL_LAYERS={"default": {
    "BACKEND": BACKEND,
    "CONFIG": {"hosts": [ast.literal_eval(sys.argv[1]) if sys.argv[1].startswith("{") else sys.argv[1]]},
}})
django.setup()

from channels.consumer import AsyncConsumer  # noqa: E402 (needs the settings above)


def printable(value):
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    raise TypeError(value)


class MqttConsumer(AsyncConsumer):
    """What a Django app writes to use channels-mqtt-proxy: join groups, send to "mqtt", handle mqtt.message."""

    async def command(self, message):
        command = message["command"]
        if "join" in command:
            await self.channel_layer.group_add(command["join"], self.channel_name)
        else:
            await self.channel_layer.send(command.get("to", "mqtt"), command["send"])
        print(json.dumps({"done": command}), flush=True)

    async def mqtt_message(self, event):
        print(json.dumps(event, sort_keys=True, default=printable), flush=True)


async def main():
    commands = asyncio.Queue()
    loop = asyncio.get_running_loop()

    async def read_commands():
        print("ready", flush=True)
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                return
            await commands.put({"type": "command", "command": json.loads(line)})

    reader = asyncio.ensure_future(read_commands())
    consumer = MqttConsumer.as_asgi()
    await asyncio.wait([reader, asyncio.ensure_future(consumer({"type": "channel"}, commands.get, None))],
                       return_when=asyncio.FIRST_COMPLETED)


asyncio.run(main())
