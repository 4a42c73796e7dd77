"""Signs a wsgw client token for a user, as your backend would after its own
login check, and hands it to the browser.

    python3 sign_token.py alice [device]

Needs PyJWT (Debian: apt-get install python3-jwt; PyPI: pip install "pyjwt[crypto]").

With WSGW_JWT_PRIVATE_KEY (a PEM private key, or the path of one) the token is
signed with it: RS256 for RSA, ES256 for EC P-256, EdDSA for Ed25519 (these
need python3-cryptography); the gateway then holds only the public half
(WSGW_JWT_PUBLIC_KEY or a JWKS). Otherwise it is signed HS256 with
WSGW_JWT_SECRET (the gateway's secret; default: the development secret of
`deno task start`).
"""
import os
import sys
import time

import jwt


def signing_key(env=os.environ):
    """The key and algorithm tokens are signed with, from the environment."""
    private_key = env.get("WSGW_JWT_PRIVATE_KEY")
    if private_key:
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        if "-----BEGIN" not in private_key:
            with open(private_key, "rb") as file:
                private_key = file.read().decode()
        key = load_pem_private_key(private_key.encode(), password=None)
        if isinstance(key, rsa.RSAPrivateKey):
            return key, "RS256"
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key, "ES256"
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return key, "EdDSA"
        raise ValueError(f"unsupported key type {type(key).__name__}")
    return env.get("WSGW_JWT_SECRET", "dev-secret"), "HS256"


def sign_client_token(user, device=None, expires_in=3600, env=os.environ):
    """A token that lets `user` connect for `expires_in` seconds. `device`
    labels the connection, so a push can target one device."""
    key, alg = signing_key(env)
    now = int(time.time())
    claims = {"sub": user, "iat": now, "exp": now + expires_in}
    if device is not None:
        claims["device"] = device
    # Set these when the gateway sets WSGW_JWT_AUDIENCE / WSGW_JWT_ISSUER.
    if env.get("WSGW_JWT_AUDIENCE"):
        claims["aud"] = env["WSGW_JWT_AUDIENCE"]
    if env.get("WSGW_JWT_ISSUER"):
        claims["iss"] = env["WSGW_JWT_ISSUER"]
    # A JWKS names keys by kid; set WSGW_JWT_KID to the kid you publish.
    headers = {"kid": env["WSGW_JWT_KID"]} if env.get("WSGW_JWT_KID") else None
    return jwt.encode(claims, key, algorithm=alg, headers=headers)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python3 sign_token.py <user> [device]")
    print(sign_client_token(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
