#!/usr/bin/env bash
# A throwaway S3 server with real S3 rules for the tests: a one-node Ceph cluster (one monitor, one
# OSD on memstore, radosgw) on loopback, from Debian's packages (installed if missing).
#
#   ceph-rgw.sh start DIR   create and start the cluster in DIR on free ports; print the endpoint
#                           (user rgwtest / rgwtestsecret, path-style, any region)
#   ceph-rgw.sh stop DIR    stop exactly the daemons started in DIR and remove DIR
#   ceph-rgw.sh stop-gateway DIR   stop only radosgw (S3 refuses connections; the data stays)
#   ceph-rgw.sh start-gateway DIR  start radosgw again on its port and wait until S3 answers (if
#                           it was stopped)
#   ceph-rgw.sh delete-bucket DIR BUCKET   delete BUCKET with every object in it (works while the
#                           gateway is stopped: S3 then comes back without it, as an emptied store)
#
# Why Ceph and not only s3rver: RGW refuses non-last parts under 5 MiB at complete and answers an
# empty ETag there, as AWS does; s3rver accepts both. Objects live in the OSD's memory (about
# twice their size), capacity CEPH_STORE_GB (default 4): past it Ceph blocks writes instead of
# failing, so tests keep well under it.
set -euo pipefail
SERVICE=ceph-rgw
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command=${1:-}
DIR=$(data_dir "${2:?usage: ceph-rgw.sh start|stop DIR}")
CONF=$DIR/ceph.conf
ACCESS_KEY=rgwtest
SECRET_KEY=rgwtestsecret
STORE_GB=${CEPH_STORE_GB:-4}

# A signed ListBuckets answering 200 means S3 is up.
s3_answers() { # PORT
  curl -s -o /dev/null -m 5 -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:s3" --user "$ACCESS_KEY:$SECRET_KEY" \
    -H 'x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' \
    "http://127.0.0.1:$1/" 2>/dev/null | grep -qx 200
}

ceph_cli() { timeout 60 ceph -c "$CONF" --connect-timeout 30 "$@"; }

# Daemons detach by themselves; their pid files say who they are.
start_daemon() { # NAME PIDFILE COMMAND...
  local name=$1 pidfile=$2
  shift 2
  "$@" >>"$DIR/log/setup.log" 2>&1 || die "$name did not start; see $DIR/log"
  for _ in $(seq 1 100); do [ -s "$pidfile" ] && break; sleep 0.1; done
  [ -s "$pidfile" ] || die "$name wrote no pid file"
  echo "$name $(cat "$pidfile")" >>"$DIR/pids"
}

stop_all() {
  [ -f "$DIR/pids" ] || return 0
  local name pid
  # The gateway first, then the OSD while the monitor can still hear it leave.
  for name in rgw osd mon; do
    pid=$(awk -v n="$name" '$1 == n { print $2 }' "$DIR/pids")
    [ -n "$pid" ] && stop_pid "$pid" "$CONF"
  done
  return 0
}

start_gateway() {
  start_daemon rgw "$DIR/run/client.rgw.gw.pid" radosgw -c "$CONF" -n client.rgw.gw
  local port
  port=$(cat "$DIR/rgw_port")
  for _ in $(seq 1 240); do s3_answers "$port" && return 0; sleep 0.25; done
  die "S3 did not answer on $port"
}

stop_gateway() {
  local pid
  pid=$(awk '$1 == "rgw" { print $2 }' "$DIR/pids")
  [ -n "$pid" ] && stop_pid "$pid" "$CONF"
  sed -i '/^rgw /d' "$DIR/pids"
  rm -f "$DIR/run/client.rgw.gw.pid"
}

running() {
  [ -f "$DIR/pids" ] && [ "$(wc -l <"$DIR/pids")" -eq 3 ] || return 1
  local name pid
  while read -r name pid; do pid_runs "$pid" "$CONF" || return 1; done <"$DIR/pids"
}

case $command in
  start)
    if running && s3_answers "$(cat "$DIR/rgw_port")"; then
      echo "http://127.0.0.1:$(cat "$DIR/rgw_port")"
      exit 0
    fi
    apt_install ceph-mon ceph-osd radosgw ceph-common curl
    stop_all
    rm -rf "$DIR"
    mkdir -p "$DIR"/{run,log,crash,mon.a,osd.0,rgw}
    : >"$DIR/pids"
    trap 'rc=$?; if [ $rc -ne 0 ]; then tail -n 15 "$DIR"/log/*.log >&2 2>/dev/null; stop_all; fi' EXIT
    MON_PORT=$(free_port)
    RGW_PORT=$(free_port)
    FSID=$(cat /proc/sys/kernel/random/uuid)
    cat >"$CONF" <<CONF
[global]
fsid = $FSID
mon host = v2:127.0.0.1:$MON_PORT
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
ms bind msgr1 = false
ms bind msgr2 = true
# loopback only and thrown away after the run: no cephx
auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
ms mon client mode = crc
# every file under DIR, nothing in /var/lib/ceph or /var/run/ceph
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
pid file = $DIR/run/\$name.pid
log file = $DIR/log/\$name.log
crash dir = $DIR/crash
keyring = $DIR/keyring
mon data = $DIR/mon.\$id
osd data = $DIR/osd.\$id
mon cluster log file = default=$DIR/log/cluster.\$channel.log cluster=$DIR/log/cluster.log
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon max pg per osd = 1000
mon data avail warn = 2
mon data avail crit = 1
mon warn on pool no redundancy = false
paxos propose interval = 0.1

[osd]
osd objectstore = memstore
memstore device bytes = $((STORE_GB * 1024 * 1024 * 1024))
osd memory target = 1073741824
osd op num shards = 2
osd op num threads per shard = 2

[client.rgw.gw]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw data = $DIR/rgw
# give the memory of deleted objects back after about a minute, not two hours
rgw gc obj min wait = 60
rgw gc processor period = 60
CONF
    log "monitor on 127.0.0.1:$MON_PORT"
    monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_PORT]" "$DIR/monmap" >/dev/null
    ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" >>"$DIR/log/setup.log" 2>&1
    start_daemon mon "$DIR/run/mon.a.pid" ceph-mon -c "$CONF" -i a
    ceph_cli mon stat >/dev/null

    log "osd.0 (memstore, $STORE_GB GiB)"
    OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
    [ "$(ceph_cli osd new "$OSD_UUID")" = 0 ] || die "expected osd id 0"
    ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$OSD_UUID" >>"$DIR/log/setup.log" 2>&1
    start_daemon osd "$DIR/run/osd.0.pid" ceph-osd -c "$CONF" -i 0
    for _ in $(seq 1 120); do
      up=$(ceph_cli osd stat -f json | python3 -c 'import json,sys; print(json.load(sys.stdin)["num_up_osds"])')
      [ "$up" = 1 ] && break
      sleep 0.5
    done
    [ "$up" = 1 ] || die "osd.0 did not come up"

    # RGW would create its pools on first use, a second each; made now, in parallel.
    pool_jobs=()
    for pool in .rgw.root default.rgw.control default.rgw.meta default.rgw.log \
      default.rgw.buckets.index default.rgw.buckets.data default.rgw.buckets.non-ec; do
      { ceph_cli osd pool create "$pool" 8 8 && ceph_cli osd pool application enable "$pool" rgw; } >/dev/null 2>&1 &
      pool_jobs+=($!)
    done
    for job in "${pool_jobs[@]}"; do wait "$job" || die "creating an RGW pool failed"; done
    timeout 120 radosgw-admin -c "$CONF" user create --uid=rgwtest --display-name="Wharf tests" \
      --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >/dev/null 2>>"$DIR/log/setup.log"

    log "radosgw on 127.0.0.1:$RGW_PORT"
    echo "$RGW_PORT" >"$DIR/rgw_port"
    start_gateway
    trap - EXIT
    log "ready"
    echo "http://127.0.0.1:$RGW_PORT"
    ;;
  stop)
    [ -e "$DIR" ] || exit 0
    [ -f "$CONF" ] || [ -z "$(ls -A "$DIR" 2>/dev/null)" ] || die "$DIR holds no cluster of this script; not touching it"
    stop_all
    rm -rf "$DIR"
    log "stopped"
    ;;
  stop-gateway)
    [ -f "$CONF" ] || die "$DIR holds no cluster of this script"
    stop_gateway
    log "gateway stopped"
    ;;
  start-gateway)
    [ -f "$CONF" ] || die "$DIR holds no cluster of this script"
    if awk '$1 == "rgw"' "$DIR/pids" | grep -q .; then
      log "the gateway already runs"
    else
      start_gateway
      log "gateway started"
    fi
    ;;
  delete-bucket)
    [ -f "$CONF" ] || die "$DIR holds no cluster of this script"
    timeout 120 radosgw-admin -c "$CONF" bucket rm --bucket="${3:?usage: ceph-rgw.sh delete-bucket DIR BUCKET}" --purge-objects \
      >>"$DIR/log/setup.log" 2>&1 || die "deleting bucket $3 failed; see $DIR/log/setup.log"
    log "bucket $3 deleted"
    ;;
  *) die "usage: ceph-rgw.sh start|stop|stop-gateway|start-gateway|delete-bucket DIR" ;;
esac
