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


def idle_status():
    """the job's status once a run has ended and the daemon has seen it end
    (schedule_now resets last_try, which the daemon reads at the end of a run)"""
    s = job.status.get()
    if s.get("pid"):
        return None
    time.sleep(2)
    return job.status.get()


# a new job is due at once: the daemon starts it without being asked
p.cluster.replication.post(id="100-0", type="local", target=target, schedule="0/6:00")
check("created", [j["id"] for j in p.cluster.replication.get()] == ["100-0"])
job = p.nodes(node).replication("100-0")
st = wait("first sync", lambda: (lambda s: s if s["last_sync"] > 0 else None)(job.status.get()), 60)
st = wait("first run ended", idle_status, 30)
first = st["last_sync"] if st else 0
check("schedule_now", job.schedule_now.post() == "100-0")
st = wait("second sync", lambda: (lambda s: s if s["last_sync"] > first else None)(job.status.get()), 60)
if st:
    check("a real, second sync: last_sync later, no error, fail_count 0",
          st["fail_count"] == 0 and "error" not in st and st["last_try"] >= st["last_sync"])
    # last_sync is recorded before the run writes its last log line:
    # on a loaded machine the log is read once the run has ended
    wait("second run ended", idle_status, 30)
    log = wait("the run's log is complete",
               lambda: (lambda l: l if any(x["t"].endswith("end replication job") for x in l) else None)(
                   job.log.get(limit=1000)), 30) or []
    lines = [x["t"] for x in log]
    check("the log of the run (incremental)", any("start replication job" in l for l in lines) and
          any("incremental sync" in l for l in lines) and any(l.endswith("end replication job") for l in lines))
else:
    wait("second run ended", idle_status, 30)
p.cluster.replication("100-0").delete()
check("delete marks for removal", p.cluster.replication("100-0").get()["remove_job"] == "full")
job.schedule_now.post()
wait("the daemon removes the job", lambda: p.cluster.replication.get() == [], 60) is not None and \
    check("gone from the list after clean-up", True)
sys.exit(1 if fails else 0)
