"""A realistic redis-py session against the server on the port given as argv[1].

Run by tests/redis_py.rs. Exits non-zero on the first failed check.
"""
import sys
import time

import redis

port = int(sys.argv[1])
# redis-py 8 opens connections with HELLO 3 by default and does not fall back to RESP2
# when the server refuses it; ringkv speaks RESP2 only, so the protocol is chosen here.
r = redis.Redis(host="127.0.0.1", port=port, decode_responses=True,
                client_name="py-session", socket_timeout=10, protocol=2)


assert r.ping() is True
r.flushdb()

# Connection: the name given at connect time, CLIENT LIST / INFO through the typed API.
assert r.client_getname() == "py-session"
me = r.client_info()
assert me["name"] == "py-session" and int(me["db"]) == 0, me
assert int(me["id"]) == r.client_id()
r.client_setname("renamed")
listed = {c["name"]: c for c in r.client_list()}
assert "renamed" in listed and listed["renamed"]["cmd"] == "client|list", listed

# Strings and a pipeline: one round trip, replies in order.
with r.pipeline(transaction=False) as p:
    for i in range(100):
        p.set(f"key:{i}", f"value:{i}")
    p.get("key:42")
    replies = p.execute()
assert replies[:100] == [True] * 100 and replies[100] == "value:42"

# MULTI/EXEC pipeline.
with r.pipeline(transaction=True) as p:
    p.set("a", "1").get("a").incrbyfloat("f", 1.5)
    assert p.execute() == [True, "1", 1.5]

r.mset({"m1": "x", "m2": "y"})
assert r.mget("m1", "m2", "nope") == ["x", "y", None]

assert r.incr("counter") == 1
assert r.incrby("counter", 10) == 11
assert r.decr("counter") == 10

# Expiry.
r.set("temp", "v", px=200)
assert 0 < r.pttl("temp") <= 200
r.set("longer", "v", ex=100)
assert 99 <= r.ttl("longer") <= 100
assert r.persist("longer") is True and r.ttl("longer") == -1
time.sleep(0.3)
assert r.get("temp") is None and r.exists("temp") == 0

seen = set(r.scan_iter(match="key:*", count=10))
assert seen == {f"key:{i}" for i in range(100)}, len(seen)

# Errors surface as redis-py exceptions with Redis' texts.
try:
    r.lpush("a", "x")
    raise AssertionError("WRONGTYPE expected")
except redis.ResponseError as e:
    assert str(e).startswith("WRONGTYPE"), e

assert r.dbsize() >= 100
print("redis-py session OK")
