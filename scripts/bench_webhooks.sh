# Sourced by scripts/bench (uses its $dir, $hz, $APP_BASE, py, app_pid): what one POST to the webhook
# route costs the server before it is trusted (security review 2, H1), next to a normal delivery.
# Rows: a signed 3 KiB event (after its first delivery, a duplicate: verified, then answered from the
# ledger), the most expensive header the app still reads (512 KiB body, 8 `v1` values, the most it
# accepts, in a header under the 1 KiB cap: one HMAC of the body per secret), and the review's attack
# (512 KiB body, 10,000 empty `v1=` values: refused unread; before, one HMAC per value, 3.1 s).
# wrk posts each with 4 connections for a few seconds: the bodies are large, and wrk's own CPU must not
# crowd out the server's.

webhook_case() { # label body_file signature
  cat >"$dir/webhook.lua" <<LUA
local f = assert(io.open("$2", "rb")); wrk.body = f:read("*a"); f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Stripe-Signature"] = "$3"
LUA
  local before after
  before=$(cpu_ticks "$(app_pid)")
  wrk -t1 -c4 -d"${webhook_seconds}s" --latency -s "$dir/webhook.lua" "$APP_BASE/api/webhooks/stripe" >"$dir/wrk.txt"
  after=$(cpu_ticks "$(app_pid)")
  read -r W_REQ W_RPS W_P50 W_P99 W_ERR < <(py wrk "$dir/wrk.txt")
  W_US=$(py us "$before" "$after" "$hz" "$W_REQ")
  webhook_us[$1]=$W_US
  echo "| $1 | $W_REQ | $W_RPS | $W_P50 | $W_P99 | $W_US | $W_ERR |"
}

webhook_rows() {
  webhook_seconds=$((seconds < 5 ? seconds : 5))
  declare -gA webhook_us
  # The bodies and headers, written by Python (HMAC-SHA256 with the stack's secret, whsec_stack).
  read -r normal_sig worst_sig flood_sig < <(python3 - "$dir" <<'PY'
import hashlib, hmac, json, sys, time
d = sys.argv[1]
t = int(time.time())
event = {"id": "evt_bench_normal", "object": "event", "api_version": "2026-09-30.endive", "created": t,
         "livemode": False, "pending_webhooks": 1, "type": "bench.unhandled",
         "data": {"object": {"id": "obj_bench", "object": "bench", "padding": "x" * 2900}}}
normal = json.dumps(event).encode()
big = b"a" * (512 * 1024)
open(f"{d}/normal.json", "wb").write(normal)
open(f"{d}/big.json", "wb").write(big)
sign = lambda body: hmac.new(b"whsec_stack", f"{t}.".encode() + body, hashlib.sha256).hexdigest()
worst = f"t={t}," + ",".join(["v1=" + "0" * 64] * 8)
assert len(worst) <= 1024
print(f"t={t},v1={sign(normal)}", worst, f"t={t}," + "v1=," * 10000)
PY
  )
  echo "## Webhook verification: wrk -t1 -c4 -d${webhook_seconds}s POST /api/webhooks/stripe"
  echo
  echo "| delivery | requests | req/s | p50 (ms) | p99 (ms) | server CPU per request (µs) | non-2xx/3xx + socket errors |"
  echo "|---|---|---|---|---|---|---|"
  curl -fsS -o /dev/null -H "Stripe-Signature: $normal_sig" -H 'Content-Type: application/json' \
    --data-binary "@$dir/normal.json" "$APP_BASE/api/webhooks/stripe" # the first delivery records it
  webhook_case "signed 3 KiB event (a duplicate after the first)" "$dir/normal.json" "$normal_sig"
  webhook_case "forged, 512 KiB body, 8 v1 values (the most accepted; 400)" "$dir/big.json" "$worst_sig"
  webhook_case "forged, 512 KiB body, 10,000 empty v1 values (H1; 400 unread)" "$dir/big.json" "$flood_sig"
  echo
  echo "Forged rows answer 400, counted in the last column. The worst accepted header costs"
  echo "$(py ratio "${webhook_us["forged, 512 KiB body, 8 v1 values (the most accepted; 400)"]}" "${webhook_us["signed 3 KiB event (a duplicate after the first)"]}") a normal delivery."
  echo
}
