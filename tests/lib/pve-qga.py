# A fake running VM of Proxmox VE for tests: run as
#
#   <dir>/qemu-system-x86_64 pve-qga.py -pidfile PIDFILE [-qga SOCKET -log LOG [-snapdir DIR]]
#
# through a symlink named qemu-system-x86_64 to /usr/bin/python3, so that
# its /proc/<pid>/cmdline looks like the QEMU of qemu-server (argv[0] a
# qemu-* program, -pidfile the pid file). It writes its pid into PIDFILE
# (as QEMU does), and with -qga it is the VM's guest agent on SOCKET: the
# protocol of qemu-ga (guest-sync-delimited answered with 0xFF and the
# id; guest-ping, guest-fsfreeze-status/-freeze/-thaw). Every command goes
# to LOG as one line; at a freeze and a thaw the line also lists the
# entries of DIR holding "@__replicate_" (the btrfs snapshots of a disk),
# so a test can tell what existed when the guest froze and thawed.
# Stops on SIGTERM.
import json
import os
import signal
import socket
import sys

args = {}
a = sys.argv[1:]
while a:
    if a[0].startswith('-') and len(a) > 1:
        args[a[0][1:]] = a[1]
        a = a[2:]
    else:
        a = a[1:]

signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
state = 'thawed'


def snaps():
    d = args.get('snapdir')
    if not d:
        return ''
    try:
        return ' snapshots: ' + (','.join(sorted(e for e in os.listdir(d) if '@__replicate_' in e)) or '-')
    except OSError as e:
        return ' snapshots: error ' + e.strerror


def log(line):
    with open(args['log'], 'a') as f:
        f.write(line + '\n')


def answer(cmd):
    global state
    if cmd == 'guest-ping':
        return {'return': {}}
    if cmd == 'guest-fsfreeze-status':
        return {'return': state}
    if cmd == 'guest-fsfreeze-freeze':
        state = 'frozen'
        log('freeze' + snaps())
        return {'return': 1}
    if cmd == 'guest-fsfreeze-thaw':
        state = 'thawed'
        log('thaw' + snaps())
        return {'return': 1}
    return {'error': {'class': 'CommandNotFound', 'desc': 'unknown command ' + cmd}}


def serve(sock):
    while True:
        c, _ = sock.accept()
        f = c.makefile('rwb')
        try:
            for raw in f:
                req = json.loads(raw)
                cmd = req.get('execute')
                if cmd == 'guest-sync-delimited':
                    f.write(b'\xff' + json.dumps({'return': req['arguments']['id']}).encode() + b'\n')
                else:
                    log(cmd)
                    f.write(json.dumps(answer(cmd)).encode() + b'\n')
                f.flush()
        except (OSError, ValueError):
            pass
        c.close()


with open(args['pidfile'] + '.tmp', 'w') as p:
    p.write('%d\n' % os.getpid())
if 'qga' in args:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        os.unlink(args['qga'])
    except OSError:
        pass
    s.bind(args['qga'])
    s.listen(4)
os.rename(args['pidfile'] + '.tmp', args['pidfile'])
if 'qga' in args:
    serve(s)
else:
    signal.pause()
