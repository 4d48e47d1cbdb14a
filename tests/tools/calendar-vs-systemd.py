#!/usr/bin/env python3
"""Cross-check `volrep calendar` against `systemd-analyze calendar`.

Generates random calendar events that have a systemd equivalent (translation
rules: calendar-events.md section 6: a lone value is the minute, `*/R` is
`0/R` (`1/R` for month and day), wrapping weekday ranges become lists,
systemd always gets the full `Y-M-D H:M:S` form), evaluates both in UTC from
random start times and compares the next few events.

Usage: calendar-vs-systemd.py VOLREP [COUNT] [SEED]
Exit status 0 when all agree; mismatches are printed one per line.
"""
import json
import random
import subprocess
import sys
import datetime

WD = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
ITER = 3


def repetition(rng, a, hi, wrap):
    """A repetition for start a; systemd wants a + r within the field.
    systemd 252 has a carry quirk of its own, like Proxmox's (`0/11` at
    23:23 gives 11:48 the next day, not 00:48; months `7/5` skip January):
    keep to repetitions that end exactly at the end of the field."""
    rs = [r for r in range(1, hi - a + 1) if (hi + 1 - a) % r == 0]
    return rng.choice(rs) if rs else None


def item(rng, lo, hi, wrap):
    """One list item for both syntaxes: (proxmox, systemd)."""
    k = rng.randrange(8)
    a = rng.randrange(lo, hi + 1)
    if k < 3:
        return "%d" % a, "%d" % a
    if k < 5 and a < hi:  # systemd rejects "a..a"
        b = rng.randrange(a + 1, hi + 1)
        return "%d..%d" % (a, b), "%d..%d" % (a, b)
    if k < 7 and a < hi:
        r = repetition(rng, a, hi, wrap)
        if r:
            return "%d/%d" % (a, r), "%d/%d" % (a, r)
    if a < hi:
        b = rng.randrange(a + 1, hi + 1)
        r = rng.randrange(1, b - a + 1)
        return "%d..%d/%d" % (a, b, r), "%d..%d/%d" % (a, b, r)
    return "%d" % a, "%d" % a


def field(rng, lo, hi, star_start, star_ok=True):
    """A list: "*", "*/R" (alone) or 1-3 items."""
    wrap = True
    k = rng.randrange(6)
    if star_ok and k == 0:
        return "*", "*"
    if k == 1:
        r = repetition(rng, star_start, hi, wrap)
        if r:
            return "*/%d" % r, "%d/%d" % (star_start, r)
    items = [item(rng, lo, hi, wrap) for _ in range(rng.randrange(1, 4))]
    return ",".join(p for p, _ in items), ",".join(s for _, s in items)


def weekdays(rng):
    days = set()
    parts = []
    for _ in range(rng.randrange(1, 3)):
        a = rng.randrange(7)
        if rng.randrange(2):
            b = rng.randrange(7)
            parts.append("%s..%s" % (WD[a].lower(), WD[b]))
            i = a
            while True:
                days.add(i)
                if i == b:
                    break
                i = (i + 1) % 7
        else:
            parts.append(WD[a].upper())
            days.add(a)
    return ",".join(parts), ",".join(WD[d] for d in sorted(days))


def random_spec(rng):
    p, s = [], []
    if rng.randrange(3) == 0:
        a, b = weekdays(rng)
        p.append(a)
        s.append(b)
    date_p, date_s = None, "*-*-*"
    if rng.randrange(3) == 0:
        mp, ms = field(rng, 1, 12, 1)
        dp, ds = field(rng, 1, 31, 1)
        if rng.randrange(3) == 0:
            yp, ys = rng.choice([("2025..2030", "2025..2030"), ("2026", "2026"), ("2024/3", "2024/3")])
            date_p, date_s = "%s-%s-%s" % (yp, mp, dp), "%s-%s-%s" % (ys, ms, ds)
        else:
            date_p, date_s = "%s-%s" % (mp, dp), "*-%s-%s" % (ms, ds)
        p.append(date_p)
    s.append(date_s)
    k = rng.randrange(4)
    if k == 0 and (p or True):
        mp, ms = field(rng, 0, 59, 0, star_ok=False)
        p.append(mp)
        s.append("*:%s:00" % ms)
    elif k == 1:
        hp, hs = field(rng, 0, 23, 0)
        mp, ms = field(rng, 0, 59, 0)
        p.append("%s:%s" % (hp, mp))
        s.append("%s:%s:00" % (hs, ms))
    elif k == 2:
        hp, hs = field(rng, 0, 23, 0)
        mp, ms = field(rng, 0, 59, 0)
        sp, ss = field(rng, 0, 59, 0)
        p.append("%s:%s:%s" % (hp, mp, sp))
        s.append("%s:%s:%s" % (hs, ms, ss))
    else:
        if not p:
            p.append("daily")
            s[-1] = "*-*-*"
        s.append("00:00:00")
    return " ".join(p) + " UTC", " ".join(s) + " UTC"


def systemd(spec, base):
    out = subprocess.run(["systemd-analyze", "calendar", "--iterations=%d" % ITER, "--base-time=@%d" % base, spec],
                         env={"TZ": "UTC", "PATH": "/usr/bin:/bin", "LC_ALL": "C"}, capture_output=True, text=True)
    if out.returncode != 0:
        return None
    res = []
    for line in out.stdout.splitlines():
        line = line.strip()
        if line.startswith("Next elapse:") or line.startswith("Iter. #"):
            v = line.split(":", 1)[1].strip()
            if v == "never":
                break
            parts = v.split()
            d = datetime.datetime.strptime(parts[1] + " " + parts[2], "%Y-%m-%d %H:%M:%S")
            res.append(int(d.replace(tzinfo=datetime.timezone.utc).timestamp()))
    return res


def volrep(binary, spec, base):
    out = subprocess.run([binary, "calendar", spec, "--from", str(base), "--iterations", str(ITER),
                          "--output-format", "json"], env={"TZ": "UTC"}, capture_output=True, text=True)
    if out.returncode != 0:
        return "exit %d: %s" % (out.returncode, out.stderr.strip())
    return json.loads(out.stdout)["next"]


def main():
    binary = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    bad = compared = 0
    for _ in range(count):
        spec, sd = random_spec(rng)
        base = rng.randrange(1704067200, 1767225600)  # 2024 .. 2025
        want = systemd(sd, base)
        if want is None:
            print("systemd rejects %r (from %r): translation bug" % (sd, spec))
            bad += 1
            continue
        # systemd stops at 2199; only compare what it found
        got = volrep(binary, spec, base)
        if isinstance(got, str) or got[:len(want)] != want or (len(want) < ITER and len(got) > len(want)
                                                               and got[len(want)] < 7258118400):
            print("MISMATCH %r (systemd %r) from %d: volrep %s, systemd %s" % (spec, sd, base, got, want))
            bad += 1
        compared += 1
    print("compared %d specs with systemd-analyze, %d mismatches" % (compared, bad))
    sys.exit(1 if bad else 0)


main()
