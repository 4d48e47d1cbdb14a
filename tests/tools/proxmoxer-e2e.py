#!/usr/bin/python3
# proxmoxer against the daemon of a namespace node with real storage: a
# job created through the API really replicates (schedule_now, then
# last_sync > 0 and a clean log), and a DELETE is followed, as the
# Terraform provider does, by polling the list until the job is gone
# (the daemon removes it after cleaning up the target).
#   proxmoxer-e2e.py HOST PORT USER TOKEN_NAME SECRET NODE TARGET
import sys
import time

from proxmoxer import ProxmoxAPI

host, port, user, tname, secret, node, target = sys.argv[1:8]
p = ProxmoxAPI(host, port=int(port), user=user, token_name=tname, token_value=secret, verify_ssl=False,
               service='PVE')
fails = 0


def check(what, cond):
    global fails
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        fails += 1


def wait(what, cond, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.5)
    check(what + " (timed out)", False)
    return None


p.cluster.replication.post(id="100-0", type="local", target=target, schedule="0/6:00")
check("created", [j["id"] for j in p.cluster.replication.get()] == ["100-0"])
job = p.nodes(node).replication("100-0")
job.schedule_now.post()
st = wait("synced", lambda: (lambda s: s if s["last_sync"] > 0 else None)(job.status.get()), 60)
if st:
    check("a real sync: last_sync set, no error, fail_count 0",
          st["fail_count"] == 0 and "error" not in st and st["last_try"] >= st["last_sync"])
    log = job.log.get(limit=1000)
    lines = [x["t"] for x in log]
    check("the log of the run", any("start replication job" in l for l in lines) and
          any(l.endswith("end replication job") for l in lines))
p.cluster.replication("100-0").delete()
check("delete marks for removal", p.cluster.replication("100-0").get()["remove_job"] == "full")
job.schedule_now.post()
wait("the daemon removes the job", lambda: p.cluster.replication.get() == [], 60) is not None and \
    check("gone from the list after clean-up", True)
sys.exit(1 if fails else 0)
