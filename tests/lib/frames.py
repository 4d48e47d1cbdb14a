#!/usr/bin/env python3
"""Frames of volrep's session protocol (docs/protocol.md) for tests.

  frames.py encode <spec>...   write frames to stdout; each spec is
      TYPE:TEXT   (e.g. H:volrep-session\\ 1, C:'volrep' 'version', E:)
      TYPE@FILE   (the payload is the file's content, one D frame per
                  256 KiB)
      raw:HEX     raw bytes as they are (hostile input)
  frames.py decode             read frames on stdin, print one line each:
      "H <text>", "O <text>", "R <text>", "X <code>"; a trailing partial
      frame prints "partial"
"""
import struct
import sys


def frame(t, payload):
    return t.encode() + b"\0\0\0" + struct.pack(">I", len(payload)) + payload


def encode(specs):
    out = sys.stdout.buffer
    for s in specs:
        if s.startswith("raw:"):
            out.write(bytes.fromhex(s[4:]))
        elif len(s) > 1 and s[1] == "@":
            data = open(s[2:], "rb").read()
            for i in range(0, len(data), 256 * 1024):
                out.write(frame(s[0], data[i:i + 256 * 1024]))
        else:
            out.write(frame(s[0], s[2:].encode()))


def decode():
    data = sys.stdin.buffer.read()
    i = 0
    while i + 8 <= len(data):
        t = chr(data[i])
        n = struct.unpack(">I", data[i + 4:i + 8])[0]
        if i + 8 + n > len(data):
            break
        p = data[i + 8:i + 8 + n]
        if t == "X":
            print("X %d" % struct.unpack(">I", p)[0])
        else:
            for line in p.decode(errors="replace").splitlines() or [""]:
                print("%s %s" % (t, line))
        i += 8 + n
    if i != len(data):
        print("partial")


if __name__ == "__main__":
    if sys.argv[1] == "encode":
        encode(sys.argv[2:])
    else:
        decode()
