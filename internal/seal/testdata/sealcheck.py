# Independent reader of a ferry sealed container, written from docs/seal.md only
# (Python with the `cryptography` package; XChaCha20 via HChaCha20 below).
# Usage: sealcheck.py CONTAINER PASSPHRASE OUTDIR — writes each file of the
# library that PASSPHRASE opens into OUTDIR, or exits with status 3 when no library opens.
# Run by TestIndependentReader in seal_test.go.
import os, sys, struct, unicodedata
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.exceptions import InvalidTag

def rotl(v, c): return ((v << c) & 0xffffffff) | (v >> (32 - c))
def qr(s, a, b, c, d):
    s[a]=(s[a]+s[b])&0xffffffff; s[d]=rotl(s[d]^s[a],16)
    s[c]=(s[c]+s[d])&0xffffffff; s[b]=rotl(s[b]^s[c],12)
    s[a]=(s[a]+s[b])&0xffffffff; s[d]=rotl(s[d]^s[a],8)
    s[c]=(s[c]+s[d])&0xffffffff; s[b]=rotl(s[b]^s[c],7)
def hchacha20(key, n16):
    s = [0x61707865,0x3320646e,0x79622d32,0x6b206574] + list(struct.unpack('<8I', key)) + list(struct.unpack('<4I', n16))
    for _ in range(10):
        qr(s,0,4,8,12); qr(s,1,5,9,13); qr(s,2,6,10,14); qr(s,3,7,11,15)
        qr(s,0,5,10,15); qr(s,1,6,11,12); qr(s,2,7,8,13); qr(s,3,4,9,14)
    return struct.pack('<8I', *(s[0:4] + s[12:16]))
def xopen(key, blk, aad):
    nonce = blk[:24]
    sub = hchacha20(key, nonce[:16])
    return ChaCha20Poly1305(sub).decrypt(b'\0'*4 + nonce[16:], blk[24:], aad)

B, P = 65536, 65496
path, pw, outdir = sys.argv[1], sys.argv[2], sys.argv[3]
f = open(path, 'rb').read()
N = len(f) // B
salt = f[:32]
m = Argon2id(salt=salt, length=32, iterations=3, lanes=1, memory_cost=65536).derive(unicodedata.normalize('NFC', pw).encode())
h = lambda label, n: HKDF(algorithm=hashes.SHA256(), length=n, salt=None, info=label.encode()).derive(m)
ks, kd, vid, S = h("ferry/v1/seal/superblock",32), h("ferry/v1/seal/data",32), h("ferry/v1/seal/volume-id",16), h("ferry/v1/seal/slots",32)
cands = [1 + struct.unpack('<Q', S[8*i:8*i+8])[0] % 32 for i in range(4)]
best = None
for c in cands:
    try:
        p = xopen(ks, f[c*B:(c+1)*B], vid + b'\x01' + struct.pack('<Q', c))
    except InvalidTag:
        continue
    gen = struct.unpack('<Q', p[8:16])[0]
    if best is None or gen > best[0]: best = (gen, c, p)
if best is None:
    print("no library")
    sys.exit(3)
gen, slot, p = best
ver, role = struct.unpack('<I', p[:4])[0], p[4]
n, L = struct.unpack('<II', p[56:64])
print(f"slot {slot} gen {gen} version {ver} role {role} N={struct.unpack('<Q', p[16:24])[0]} (file {N}) files {n}")
o = 64
for _ in range(n):
    k = struct.unpack('<H', p[o:o+2])[0]; o += 2
    name = p[o:o+k].decode(); o += k
    size = struct.unpack('<Q', p[o:o+8])[0]; fid = p[o+8:o+24]; ne = struct.unpack('<I', p[o+24:o+28])[0]; o += 28
    blocks = []
    for _ in range(ne):
        s0, cnt = struct.unpack('<QQ', p[o:o+16]); o += 16
        blocks += range(s0, s0 + cnt)
    data = b''
    for j, b in enumerate(blocks):
        data += xopen(kd, f[b*B:(b+1)*B], vid + b'\x02' + struct.pack('<Q', b) + fid + struct.pack('<Q', j))
    data = data[:size]
    open(os.path.join(outdir, name), 'wb').write(data)
    print(f"  {name!r} {size} bytes in {len(blocks)} blocks {blocks[:1]}..{blocks[-1:]}")
assert o == 64 + L and not any(p[o:])
