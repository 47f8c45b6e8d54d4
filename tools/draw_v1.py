#!/usr/bin/env python3
"""An independent implementation of suiji-draw-v1, written from docs/draw-v1.md alone (standard library only).

    python3 tools/draw_v1.py docs/draw-v1.md     # checks every test vector of the page

It shows that the page is enough to re-implement the draw: an auditor, a notary or the inspected enterprise can
recompute a draw with it, without trusting suiji's own code. `make test` runs it.
"""

import hashlib
import json
import struct
import sys

MASK32 = 0xFFFFFFFF


def _rotl(x, n):
    return ((x << n) & MASK32) | (x >> (32 - n))


def _quarter(s, a, b, c, d):
    s[a] = (s[a] + s[b]) & MASK32; s[d] = _rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & MASK32; s[b] = _rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & MASK32; s[d] = _rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & MASK32; s[b] = _rotl(s[b] ^ s[c], 7)


def chacha20_block(key, counter):
    """RFC 8439 §2.3 with an all-zero nonce: 64 keystream bytes of block `counter`."""
    state = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574]
    state += list(struct.unpack("<8I", key))
    state += [counter & MASK32, 0, 0, 0]
    work = state[:]
    for _ in range(10):
        _quarter(work, 0, 4, 8, 12); _quarter(work, 1, 5, 9, 13)
        _quarter(work, 2, 6, 10, 14); _quarter(work, 3, 7, 11, 15)
        _quarter(work, 0, 5, 10, 15); _quarter(work, 1, 6, 11, 12)
        _quarter(work, 2, 7, 8, 13); _quarter(work, 3, 4, 9, 14)
    return struct.pack("<16I", *[(w + s) & MASK32 for w, s in zip(work, state)])


class Stream:
    """§3: the keystream read 8 bytes at a time, little-endian."""

    def __init__(self, seed):
        self.key, self.block, self.buf = seed, 0, b""

    def next(self):
        if not self.buf:
            self.buf = chacha20_block(self.key, self.block)
            self.block += 1
        value, self.buf = struct.unpack("<Q", self.buf[:8])[0], self.buf[8:]
        return value

    def below(self, n):
        """§4: Lemire's multiply-and-reject."""
        m = self.next() * n
        low = m & 0xFFFFFFFFFFFFFFFF
        if low < n:
            t = (2**64 - n) % n
            while low < t:
                m = self.next() * n
                low = m & 0xFFFFFFFFFFFFFFFF
        return m >> 64


def lp(data):
    return struct.pack(">I", len(data)) + data


def seed(secret, entropy, task_id, digest):
    """§2."""
    return hashlib.sha256(lp(secret) + lp(entropy) + lp(task_id.encode()) + lp(digest)).digest()


def sample(stream, n, k):
    """§6: partial Fisher-Yates over a virtual array."""
    moved, out = {}, []
    for i in range(k):
        j = i + stream.below(n - i)
        at_j, at_i = moved.get(j, j), moved.get(i, i)
        moved[j] = at_i
        out.append(at_j)
    return out


ORDER = ["high", "medium_high", "medium", "low"]


def rank(name):
    return (ORDER.index(name) if name in ORDER else len(ORDER), name.encode())


def draw_targets(seed_bytes, strata):
    """§7."""
    stream, out = Stream(seed_bytes), []
    for s in sorted(strata, key=lambda s: rank(s["name"])):
        picked = sample(stream, len(s["ids"]), s["take"])
        out.append([s["name"], [s["ids"][p] for p in picked]])
    return out


def ids_digest(ids):
    return hashlib.sha256(b"".join(i.encode() + b"\n" for i in ids)).hexdigest()


def draw_teams(seed_bytes, lead, targets, departments, excluded):
    """§8."""
    order = sorted(departments, key=lambda d: (d["department"] != lead, d["department"].encode()))
    pools = []
    for d in order:
        seen, pool = set(), []
        for c in sorted(d["pool"], key=lambda c: c["id"].encode()):
            if c["id"] not in seen:
                seen.add(c["id"])
                pool.append(dict(c))
        pools.append(pool)
    stream, teams = Stream(seed_bytes), []
    for target in targets:
        out, team = excluded.get(target, []), []
        for d, pool in zip(order, pools):
            for seat in range(max(d["seats"], 1)):
                expert_seat = d["needs_expert"] and seat == 0
                open_ = [c for c in pool if (c["expert"] or not expert_seat) and c["id"] not in out
                         and all(s["inspector_id"] != c["id"] for s in team)]
                if not open_:
                    raise ValueError(f"shortage: {target} {d['department']} seat {seat + 1}")
                least = min(c["load"] for c in open_)
                lightest = [c for c in open_ if c["load"] == least]
                chosen = lightest[stream.below(len(lightest))]
                chosen["load"] += 1
                team.append({"department": d["department"], "inspector_id": chosen["id"],
                             "leader": d["department"] == lead and seat == 0, "expert_seat": expert_seat})
        teams.append([target, team])
    return teams


def vectors(page):
    start = page.index("```json test-vectors\n") + len("```json test-vectors\n")
    return json.loads(page[start:page.index("\n```", start)])


def check(page):
    v, checked = vectors(page), 0
    for s in v["seeds"]:
        secret = bytes.fromhex(s["server_secret_hex"])
        sd = seed(secret, s["witness_entropy"].encode(), s["task_id"], bytes.fromhex(s["snapshot_digest_hex"]))
        assert sd.hex() == s["seed_hex"], "seed"
        assert hashlib.sha256(secret).hexdigest() == s["commitment_hex"], "commitment"
        stream = Stream(sd)
        assert [str(stream.next()) for _ in s["first_u64"]] == s["first_u64"], "stream"
        checked += 1
    for b in v["below"]:
        stream = Stream(bytes.fromhex(b["seed_hex"]))
        assert [stream.below(b["n"]) for _ in b["values"]] == b["values"], f"below({b['n']})"
        checked += 1
    for s in v["samples"]:
        assert sample(Stream(bytes.fromhex(s["seed_hex"])), s["n"], s["k"]) == s["positions"], "sample"
        checked += 1
    for t in v["targets"]:
        drawn = draw_targets(bytes.fromhex(t["seed_hex"]), t["strata"])
        assert drawn == t["drawn"], "targets"
        assert ids_digest([i for _, ids in drawn for i in ids]) == t["result_digest"], "result digest"
        checked += 1
    for t in v["teams"]:
        teams = draw_teams(bytes.fromhex(t["seed_hex"]), t["lead"], t["targets"], t["departments"], t["excluded"])
        assert teams == t["teams"], "teams"
        checked += 1
    # RFC 8439 appendix A.1, test vector 1: the all-zero key's first block.
    assert chacha20_block(bytes(32), 0).hex().startswith("76b8e0ada0f13d90405d6ae55386bd28"), "chacha20"
    return checked


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else "docs/draw-v1.md"
    with open(path, encoding="utf-8") as f:
        n = check(f.read())
    print(f"suiji-draw-v1: {n} test vectors of {path} MATCH in an independent implementation")
