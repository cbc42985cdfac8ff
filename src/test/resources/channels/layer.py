"""The Django side of the channel layer tests, with the real channels_redis 4.x: the commands a Channels app runs.

    layer.py <redis-url> send <channel> <json-message>      channel_layer.send
    layer.py <redis-url> join <group> <seconds>             new_channel + group_add, then prints each message received
"""
import asyncio
import json
import sys

from channels_redis.core import RedisChannelLayer


async def main(url, command, *args):
    layer = RedisChannelLayer(hosts=[url])
    if command == "send":
        await layer.send(args[0], json.loads(args[1]))
    elif command == "join":
        channel = await layer.new_channel()
        await layer.group_add(args[0], channel)
        print("joined", channel, flush=True)
        deadline = asyncio.get_running_loop().time() + float(args[1])
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            try:
                message = await asyncio.wait_for(layer.receive(channel), remaining)
            except asyncio.TimeoutError:
                break
            print(json.dumps(message, sort_keys=True), flush=True)
    await layer.close_pools()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
