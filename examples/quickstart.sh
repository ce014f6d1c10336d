#!/usr/bin/env bash
# Register alice (or log her in if she exists), then trade her session for fresh credentials.
# Needs curl and node; the sandbox (npm start) answers on http://127.0.0.1:3000.
set -euo pipefail
API="${TVM_API_URL:-http://127.0.0.1:3000}"
BODY='{"username":"alice","password":"correct horse battery staple"}'

# 201 on the first run; 409 (username taken) afterwards, then a login answers the same shape.
STATUS=$(curl -s -o /tmp/tvm-register.json -w '%{http_code}' -X POST "$API/register" -H 'Content-Type: application/json' -d "$BODY")
if [ "$STATUS" = 409 ]; then
  curl -sf -X POST "$API/login" -H 'Content-Type: application/json' -d "$BODY" > /tmp/tvm-register.json
fi
TOKEN=$(node -pe 'JSON.parse(require("fs").readFileSync("/tmp/tvm-register.json", "utf8")).session.token')

# Fresh credentials and the storage details, for the same session:
curl -sf -X POST "$API/token" -H "Authorization: Bearer $TOKEN" |
  node -pe 'const { credentials, storage } = JSON.parse(require("fs").readFileSync(0, "utf8")); `${storage.prefix} until ${credentials.expiration}`'
