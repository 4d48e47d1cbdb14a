#!/usr/bin/python3
"""Frame stdin as volrep's wire format (src/exec/wire.h) with raw chunks,
well formed or broken on purpose, for the tests of `volrep import
--compress`:

  wire-frame.py CODEC MODE [FILE] <stream >framed
  MODE: ok        raw frames, the end frame
        corrupt   a payload byte flipped in the second frame
        truncated no end frame
        bomb      one 'Z' frame: FILE (a zstd frame of much more than
                  128 KiB) claiming 128 KiB, then an end frame
"""
import struct
import sys
import zlib

CHUNK = 128 * 1024
CODECS = {"zstd": 1, "lz4": 2}


def frame(kind, raw_len, payload, crc):
    return struct.pack(">cxxxIII", kind, raw_len, len(payload), crc) + payload


def end(total):
    t = struct.pack(">Q", total)
    return frame(b"E", 0, t, zlib.crc32(t))


def main():
    codec, mode = sys.argv[1], sys.argv[2]
    out = sys.stdout.buffer
    out.write(b"VRW1" + bytes([CODECS[codec], 0, 0, 0]))
    if mode == "bomb":
        z = open(sys.argv[3], "rb").read()
        out.write(frame(b"Z", CHUNK, z, zlib.crc32(bytes(CHUNK))))
        out.write(end(CHUNK))
        return
    data = sys.stdin.buffer.read()
    total = 0
    for i, off in enumerate(range(0, len(data), CHUNK)):
        chunk = data[off:off + CHUNK]
        crc = zlib.crc32(chunk)
        if mode == "corrupt" and i == 1:
            chunk = bytes([chunk[0] ^ 1]) + chunk[1:]
        out.write(frame(b"R", len(chunk), chunk, crc))
        total += len(chunk)
    if mode != "truncated":
        out.write(end(total))


main()
