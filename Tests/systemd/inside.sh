#!/usr/bin/env bash
# Runs inside the systemd sandbox (see Tests/systemd/run).
set -euo pipefail
ctl() { "$RNNCTL" "$@" --socket /run/rnnd/rnnd.sock; }
fail() { echo "FAIL: $*" >&2; systemctl status rnnd.service --no-pager >&2 || true; journalctl -u rnnd --no-pager 2>/dev/null | tail -20 >&2 || true; exit 1; }
wait_for() { # seconds, command...
  local limit=$1; shift
  for _ in $(seq $((limit * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

[ "$(systemctl is-active rnnd.service)" != active ] || fail "rnnd runs before anyone connected"
ctl status >/dev/null || fail "the first connection did not start rnnd"
[ "$(systemctl is-active rnnd.service)" = active ] || fail "rnnd.service is not active after the first connection"
echo "ok socket activation"
[ "$(stat -c '%a %G' /run/rnnd/rnnd.sock)" = "660 rnnd-admin" ] || fail "admin socket is $(stat -c '%a %G' /run/rnnd/rnnd.sock), not 660 rnnd-admin"
[ "$(stat -c '%a' /run/rnnd/rnnd-ro.sock)" = "666" ] || fail "read-only socket is $(stat -c '%a' /run/rnnd/rnnd-ro.sock), not 666"
echo "ok socket files have the units' mode and group"

systemctl status rnnd.service --no-pager | grep -q 'Status: "0 models loaded' || fail "systemctl status shows no STATUS text"
echo "ok STATUS text"

ctl create m --vocabulary bytes --hidden 16 --layers 1 >/dev/null || fail "create"
ctl train m --text "$(for i in $(seq 100); do echo "systemd line $i"; done)" --steps 30 --batch 4 --seq 16 --follow >/dev/null 2>&1 || fail "train"
printf 'fed through systemd\n' | ctl feed m >/dev/null 2>&1 || fail "feed"
wait_for 20 bash -c "systemctl status rnnd.service --no-pager | grep -q 'Status: \"1 model loaded'" || fail "STATUS did not follow the model count"
steps=$(ctl show m --json | jq -r .steps)

systemctl reload rnnd.service || fail "reload"
[ "$(systemctl is-active rnnd.service)" = active ] || fail "rnnd is not active after reload"
ctl show m >/dev/null || fail "the model is gone after reload"
echo "ok reload"

# A configuration rnnd would refuse makes the reload fail visibly; the running rnnd keeps the old one.
conf=$(systemctl show -p ExecStart --value rnnd.service | sed -n 's/.*--config \([^ ;]*\).*/\1/p')
[ -n "$conf" ] || fail "cannot find the unit's --config"
saved=$(mktemp)
had_conf=0; [ -e "$conf" ] && { cp "$conf" "$saved"; had_conf=1; }
mkdir -p "$(dirname "$conf")"
printf '[limits]\nmax_connections = 0\n' > "$conf"
if systemctl reload rnnd.service 2>/dev/null; then fail "reload with an invalid configuration succeeded"; fi
[ "$(systemctl is-active rnnd.service)" = active ] || fail "rnnd stopped after a refused reload"
ctl show m >/dev/null || fail "the model is gone after a refused reload"
if [ $had_conf = 1 ]; then cp "$saved" "$conf"; else rm -f "$conf"; fi
systemctl reload rnnd.service || fail "reload after restoring the configuration"
echo "ok a bad configuration fails the reload and changes nothing"

pid=$(systemctl show -p MainPID --value rnnd.service)
systemctl stop rnnd.service || fail "stop"
[ "$(systemctl is-active rnnd.service)" != active ] || fail "rnnd is still active after stop"
systemctl show -p Result --value rnnd.service | grep -q success || fail "rnnd did not stop cleanly"
ls /var/lib/private/rnnd/models/m/model.safetensors >/dev/null || fail "no checkpoint in the DynamicUser state folder"
ls /var/lib/private/rnnd/models/m/*.tmp >/dev/null 2>&1 && fail "a half-written checkpoint was left"
[ "$(ctl show m --json | jq -r .steps)" -ge "$steps" ] || fail "the model lost steps over stop and start"
echo "ok stop leaves clean checkpoints; DynamicUser state survives"

pid=$(systemctl show -p MainPID --value rnnd.service)
kill -STOP "$pid"
wait_for 60 bash -c "p=\$(systemctl show -p MainPID --value rnnd.service); [ \"\$p\" != 0 ] && [ \"\$p\" != $pid ]" || fail "the watchdog did not restart a stopped-up rnnd"
wait_for 30 "$RNNCTL" show m --socket /run/rnnd/rnnd.sock || fail "the model is not back after the watchdog restart"
[ "$(ctl show m --json | jq -r .steps)" -ge "$steps" ] || fail "the model lost steps over the watchdog restart"
journalctl -u rnnd --no-pager 2>/dev/null | grep -qi watchdog || true
echo "ok watchdog restart with the models back"
