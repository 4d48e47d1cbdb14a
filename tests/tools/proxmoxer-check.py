#!/usr/bin/python3
# The replication API through proxmoxer (Debian python3-proxmoxer), as
# scripts use it: token auth over https, then every job operation; then
# ticket login (user + password). Exit 0 when all checks pass; each
# failure is printed.
#   proxmoxer-check.py HOST PORT USER TOKEN_NAME SECRET NODE
import sys
import proxmoxer
from proxmoxer import ProxmoxAPI

host, port, user, tname, secret, node = sys.argv[1:7]
fails = 0


def check(what, cond):
    global fails
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        fails += 1


p = ProxmoxAPI(host, port=int(port), user=user, token_name=tname, token_value=secret, verify_ssl=False,
               service='PVE')
check("version", p.version.get()["version"] != "")
nodes = [n["node"] for n in p.nodes.get()]
check("nodes lists this node", node in nodes)
check("empty job list", p.cluster.replication.get() == [])
check("create returns null", p.cluster.replication.post(id="100-0", target="pve2", type="local",
                                                         schedule="*/30", comment="via proxmoxer") is None)
jobs = p.cluster.replication.get()
check("list has the job", [j["id"] for j in jobs] == ["100-0"] and jobs[0]["schedule"] == "*/30")
job = p.cluster.replication("100-0").get()
check("read has a digest", len(job["digest"]) == 40 and job["target"] == "pve2")
p.cluster.replication("100-0").put(schedule="*/10", rate=20, digest=job["digest"])
job2 = p.cluster.replication("100-0").get()
check("update applied", job2["schedule"] == "*/10" and job2["rate"] == 20)
try:
    p.cluster.replication("100-0").put(comment="x", digest=job["digest"])
    check("stale digest refused", False)
except proxmoxer.core.ResourceException as e:
    check("stale digest refused (409)", e.status_code == 409)
try:
    p.cluster.replication.post(id="100-1", target="pve2", type="local", schedule="bogus")
    check("bad schedule refused", False)
except proxmoxer.core.ResourceException as e:
    check("bad schedule refused (400)", e.status_code == 400)
idx = p.nodes(node).replication("100-0").get()
check("job index", sorted(x["name"] for x in idx) == ["log", "schedule_now", "status"])
check("schedule_now", p.nodes(node).replication("100-0").schedule_now.post() == "100-0")
st = p.nodes(node).replication("100-0").status.get()
check("status has the state fields", all(k in st for k in ("last_sync", "next_sync", "fail_count", "vmtype")))
rows = p.nodes(node).replication.get(guest=100)
check("node list filtered by guest", [r["id"] for r in rows] == ["100-0"])
log = p.nodes(node).replication("100-0").log.get(limit=5)
check("log is a list of {n, t}", isinstance(log, list) and all("n" in x and "t" in x for x in log))
p.cluster.replication("100-0").delete(keep=1)
check("delete --keep marks for local removal", p.cluster.replication("100-0").get()["remove_job"] == "local")
p.cluster.replication("100-0").delete(force=1)
check("delete --force removes the entry", p.cluster.replication.get() == [])

# ticket login: the token id as user name, its secret as password
t = ProxmoxAPI(host, port=int(port), user=user + "!" + tname, password=secret, verify_ssl=False)
check("ticket login, GET", t.cluster.replication.get() == [])
t.cluster.replication.post(id="200-0", target="pve2", type="local")
check("ticket login, POST with CSRF token", [j["id"] for j in t.cluster.replication.get()] == ["200-0"])
t.cluster.replication("200-0").delete(force=1)
check("ticket login, DELETE", t.cluster.replication.get() == [])
sys.exit(1 if fails else 0)
