#!/usr/bin/env bash
# Runs three gotfe parties in three Linux network namespaces joined by veth pairs and a
# bridge, over QUIC with the deployment's certificates, and checks that they compute the same
# result. Then it shows how time grows with rounds x latency (the transport's PacketDelay
# option holds every datagram) and what a bandwidth limit (tc tbf) does to bulk messages.
#
# Needs root and iproute2 (ip, tc); without them it says why and fails (exit 1): CI runs it as
# root, where it must run. GOTFE_NETNS_OPTIONAL=1 turns that failure into a skip (exit 0) for a
# developer's machine without root. Takes well under a minute.
# Usage: scripts/netns.sh [--keep]   (--keep leaves the temporary directory)
set -euo pipefail
cd "$(dirname "$0")/.."

# cannot REASON: fails, or skips when GOTFE_NETNS_OPTIONAL=1.
cannot() {
  if [ "${GOTFE_NETNS_OPTIONAL:-0}" = 1 ]; then echo "netns.sh: skipped: $1"; exit 0; fi
  echo "netns.sh: FAILED: cannot run: $1 (set GOTFE_NETNS_OPTIONAL=1 to skip)" >&2
  exit 1
}
if [ "$(id -u)" != 0 ]; then cannot "needs root to create network namespaces"; fi
if ! command -v ip >/dev/null 2>&1; then cannot "no 'ip' command (install iproute2)"; fi
if ! command -v tc >/dev/null 2>&1; then cannot "no 'tc' command (install iproute2)"; fi

tag="gtf$$"                 # unique per run, short enough for interface names
ns=("${tag}p0" "${tag}p1" "${tag}p2")
brns="${tag}br"
ips=(10.77.0.1 10.77.0.2 10.77.0.3)
tmp=$(mktemp -d)
keep=0
[ "${1:-}" = "--keep" ] && keep=1

cleanup() {
  for n in "${ns[@]}" "$brns"; do ip netns del "$n" 2>/dev/null || true; done
  if [ "$keep" = 0 ]; then rm -rf "$tmp"; else echo "kept $tmp"; fi
}
trap cleanup EXIT

if ! ip netns add "$brns" 2>/dev/null; then
  cannot "cannot create network namespaces here"
fi
for n in "${ns[@]}"; do ip netns add "$n"; done

# A bridge in its own namespace, so the host's network is left alone; one veth pair per party.
ip -n "$brns" link add br0 type bridge
ip -n "$brns" link set br0 up
for i in 0 1 2; do
  ip link add "${tag}v$i" type veth peer name "${tag}b$i"
  ip link set "${tag}v$i" netns "${ns[$i]}"
  ip link set "${tag}b$i" netns "$brns"
  ip -n "$brns" link set "${tag}b$i" master br0 up
  ip -n "${ns[$i]}" addr add "${ips[$i]}/24" dev "${tag}v$i"
  ip -n "${ns[$i]}" link set "${tag}v$i" up
  ip -n "${ns[$i]}" link set lo up
done

export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
go build -o "$tmp/gotfe" ./cmd/gotfe
"$tmp/gotfe" certs --out "$tmp/dep" --hosts "${ips[0]},${ips[1]},${ips[2]}" >/dev/null
parties="$tmp/dep/parties.json"

# run ROUNDS ELEMS DELAY [BANDWIDTH]: runs the three parties, checks they agree, prints
# "seconds per_round". BANDWIDTH shapes the parties' datagrams in-process (gotfe's emulation).
run() {
  local rounds=$1 elems=$2 delay=$3 bw=${4:-} pids=() i
  local shape=()
  [ -n "$bw" ] && shape=(--bandwidth "$bw")
  for i in 0 1 2; do
    ip netns exec "${ns[$i]}" "$tmp/gotfe" bench transport --party "$i" --parties "$parties" \
      --rounds "$rounds" --elems "$elems" --delay "$delay" "${shape[@]}" --timeout 40s --json \
      >"$tmp/out$i" 2>"$tmp/err$i" &
    pids+=($!)
  done
  local fail=0
  for i in 0 1 2; do
    if ! wait "${pids[$i]}"; then echo "party $i failed: $(cat "$tmp/err$i")" >&2; fail=1; fi
  done
  [ "$fail" = 0 ] || return 1
  local d0 d1 d2
  d0=$(grep -o '"digest":"[0-9a-f]*"' "$tmp/out0"); d1=$(grep -o '"digest":"[0-9a-f]*"' "$tmp/out1"); d2=$(grep -o '"digest":"[0-9a-f]*"' "$tmp/out2")
  if [ -z "$d0" ] || [ "$d0" != "$d1" ] || [ "$d0" != "$d2" ]; then
    echo "parties disagree: $d0 $d1 $d2" >&2; return 1
  fi
  for i in 0 1 2; do grep -q '"verified":true' "$tmp/out$i" || { echo "party $i did not verify" >&2; return 1; }; done
  # The slowest party's time, and per round.
  cat "$tmp/out0" "$tmp/out1" "$tmp/out2" | awk -v rounds="$rounds" '
    { if (match($0, /"seconds":[0-9.e+-]+/)) { v = substr($0, RSTART + 10, RLENGTH - 10) + 0; if (v > m) m = v } }
    END { printf "%.4f %.6f\n", m, m / rounds }'
}

echo "netns: parties in namespaces ${ns[*]} at ${ips[*]}, bridged in $brns"
read -r s _ < <(run 40 1024 0)
echo "check: 40 rounds of 1024-element messages, digests agree, every message verified ($s s)"

echo
echo "latency (PacketDelay holds every datagram; one round = one message to the next party):"
printf "  %-8s %-7s %-10s %-12s %s\n" delay rounds seconds per_round "per_round/delay"
for delay in 0ms 5ms 20ms; do
  for rounds in 10 40; do
    read -r s pr < <(run "$rounds" 8 "$delay")
    ratio=$(awk -v pr="$pr" -v d="${delay%ms}" 'BEGIN { if (d > 0) printf "%.2f", pr / (d / 1000); else print "-" }')
    printf "  %-8s %-7s %-10s %-12s %s\n" "$delay" "$rounds" "$s" "$pr" "$ratio"
  done
done

echo
echo "bandwidth (tc tbf on each party's link; 10 rounds of 1 MiB messages):"
printf "  %-10s %-10s %s\n" limit seconds "MB/s per link"
for rate in none 200mbit 50mbit; do
  if [ "$rate" != none ]; then
    for i in 0 1 2; do
      ip netns exec "${ns[$i]}" tc qdisc replace dev "${tag}v$i" root tbf rate "$rate" burst 256kb latency 100ms
    done
  fi
  read -r s _ < <(run 10 131072 0)
  mbs=$(awk -v s="$s" 'BEGIN { printf "%.1f", 10 * 1048576 / s / 1e6 }')
  printf "  %-10s %-10s %s\n" "$rate" "$s" "$mbs"
done

# The in-process emulation of gotfe bench (--rtt, --bandwidth: PacketDelay and PacketRate)
# against the kernel's: the same computation (rounds of 256 KiB messages, 10 ms each way)
# with tc tbf on the links, then with the token bucket in the parties' sockets instead.
echo
echo "emulated WAN (20 rounds of 256 KiB messages, 10 ms one way, 200mbit) against tc tbf:"
for i in 0 1 2; do
  ip netns exec "${ns[$i]}" tc qdisc replace dev "${tag}v$i" root tbf rate 200mbit burst 256kb latency 100ms
done
read -r tcs _ < <(run 20 32768 10ms)
for i in 0 1 2; do ip netns exec "${ns[$i]}" tc qdisc del dev "${tag}v$i" root; done
read -r ems _ < <(run 20 32768 10ms 200mbit)
awk -v a="$tcs" -v b="$ems" 'BEGIN { printf "  tc tbf %.3f s, in-process %.3f s: ratio %.2f\n", a, b, b / a }'
echo "netns: ok"
