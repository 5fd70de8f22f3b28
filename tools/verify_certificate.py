#!/usr/bin/env python3
"""Verify a yizhan e-certificate (电子证照) offline, independently of yizhan.

Needs only the published key set (JWKS) and the signed certificate (a
compact JWS, as shown on the printed certificate and returned by the API).
Nothing here imports or calls yizhan code: it is written from the format
description in docs/CERTIFICATES.md, so it is a second implementation.

    pip install cryptography          # the only dependency
    python3 tools/verify_certificate.py --jwks jwks.json --jws certificate.jws
    python3 tools/verify_certificate.py --jwks-url http://127.0.0.1:8083/.well-known/jwks.json --jws - < certificate.jws

Checks: the signature (EdDSA / Ed25519, key found by `kid`), the
identifier's ISO 7064 MOD 37,36 check character, and the validity period.
The status it reports is the status at signing; whether a certificate was
later suspended or revoked is only known online (`/api/v1/verify`).

Exit status: 0 all checks pass, 1 a check fails, 2 bad input.
"""

import argparse
import base64
import datetime
import json
import sys
import urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ID_PREFIX = "1.2.156.3005.2."
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
STATUS = {"01": "有效", "02": "暂扣", "03": "撤销", "04": "注销", "05": "失效", "07": "吊销"}


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mod_37_36_check(payload: str) -> str:
    """ISO 7064 MOD 37,36 (hybrid system) check character over 0-9A-Z."""
    p = 36
    for ch in payload:
        s = (p + ALPHABET.index(ch)) % 36 or 36
        p = (s * 2) % 37
    return ALPHABET[(37 - p) % 36]


def identifier_ok(identifier: str) -> bool:
    """`1.2.156.3005.2.<type>.<issuer USCC>.<serial>.<version>.<check>`."""
    if not identifier.startswith(ID_PREFIX):
        return False
    parts = identifier[len(ID_PREFIX):].split(".")
    if len(parts) != 5 or len(parts[4]) != 1:
        return False
    body = "".join(parts[:4])
    if not body or any(c not in ALPHABET for c in body):
        return False
    return mod_37_36_check(body) == parts[4]


def load_jwks(args) -> dict:
    if args.jwks_url:
        with urllib.request.urlopen(args.jwks_url, timeout=10) as response:
            return json.load(response)
    with open(args.jwks, encoding="utf-8") as f:
        return json.load(f)


def verify(jws: str, jwks: dict):
    """Returns (signature_ok, reason, header, payload)."""
    parts = jws.strip().split(".")
    if len(parts) != 3:
        raise ValueError("不是三段式 JWS（header.payload.signature）")
    header = json.loads(b64url_decode(parts[0]))
    payload_bytes = b64url_decode(parts[1])
    signature = b64url_decode(parts[2])
    try:
        payload = json.loads(payload_bytes)
    except ValueError:
        payload = None
    if header.get("alg") != "EdDSA":
        return False, f"签名算法为 {header.get('alg')!r}，不是 EdDSA", header, payload
    key = next((k for k in jwks.get("keys", []) if k.get("kid") == header.get("kid")), None)
    if key is None:
        return False, f"公钥集中没有密钥 {header.get('kid')}", header, payload
    if key.get("kty") != "OKP" or key.get("crv") != "Ed25519":
        return False, "公钥不是 Ed25519（OKP）密钥", header, payload
    public_key = Ed25519PublicKey.from_public_bytes(b64url_decode(key["x"]))
    signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
    try:
        public_key.verify(signature, signing_input)
    except InvalidSignature:
        return False, "签名与内容不符：数据可能已被篡改", header, payload
    return True, "签名验证通过", header, payload


def main() -> int:
    parser = argparse.ArgumentParser(description="离线核验一站电子证照（JWS + JWKS）")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--jwks", help="公钥集文件（/.well-known/jwks.json 的内容）")
    source.add_argument("--jwks-url", help="公钥集地址（仅取公钥，不查询证照）")
    parser.add_argument("--jws", required=True, help="签名数据文件，- 表示标准输入")
    parser.add_argument("--today", help="按此日期（YYYY-MM-DD）判断有效期，默认今天")
    args = parser.parse_args()

    try:
        jwks = load_jwks(args)
        jws = sys.stdin.read() if args.jws == "-" else open(args.jws, encoding="utf-8").read()
        signature_ok, reason, header, payload = verify(jws, jwks)
    except (OSError, ValueError, KeyError) as e:
        print(f"输入无效：{e}", file=sys.stderr)
        return 2

    print(f"签名：{'✔' if signature_ok else '✘'} {reason}（密钥 {header.get('kid')}）")
    if not isinstance(payload, dict):
        print("内容：无法读取（不是 JSON）")
        return 1
    if not signature_ok:
        print("注意：签名未通过，以下内容不可信")
    identifier = str(payload.get("id", ""))
    id_ok = identifier_ok(identifier)
    print(f"标识：{'✔' if id_ok else '✘'} {identifier}")
    today = datetime.date.fromisoformat(args.today) if args.today else datetime.date.today()
    valid_from = datetime.date.fromisoformat(payload["valid_from"])
    valid_until = payload.get("valid_until")
    until = datetime.date.fromisoformat(valid_until) if valid_until else None
    in_period = valid_from <= today and (until is None or today <= until)
    period = f"{valid_from} 至 {until}" if until else f"{valid_from} 起长期有效"
    print(f"有效期：{'✔' if in_period else '✘'} {period}")
    print(f"证照：{payload.get('type_name')}")
    holder = payload.get("holder", {})
    print(f"持证主体：{holder.get('name')}（{holder.get('uscc')}）")
    print(f"许可范围：{payload.get('scope')}")
    for item in payload.get("items", []):
        print(f"  · {item.get('item_name')}（{item.get('department')}）许可证号 {item.get('permit_number')}")
    issuer = payload.get("issuer", {})
    print(f"发证机构：{issuer.get('name')}（{issuer.get('uscc')}），签发于 {payload.get('issued_at')}")
    status = payload.get("status")
    print(f"签发时状态：{status} {STATUS.get(status, '未知')}（当前状态请在线核验）")
    return 0 if signature_ok and id_ok and in_period else 1


if __name__ == "__main__":
    sys.exit(main())
