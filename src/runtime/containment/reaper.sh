#!/bin/sh
# SAM's reaper: outlives SAM only to clean up after it (reaper.ts starts it; POSIX sh, so it costs
# about a megabyte). When its stdin closes, SAM is gone or stopping: it kills every process in
# SAM's cgroup directories (freeze, SIGKILL, thaw), in every process group SAM registered and
# every process marked SAM_OWNER=<samId>, removes the directories and exits.
#
# Usage:  sh reaper.sh <samId> [<SAM's cgroup directory: .../sam-<samId>> ...]
# stdin:  "group <pgid>" / "ungroup <pgid>" lines while SAM runs (process-group mode).
# stdout: "killed <pid>", "removed <dir>", "left <dir>", "refused <dir>" (sweepLeftovers reads them).

# Ignore what a terminal or a service manager sends the session: only the pipe ends the wait.
trap '' HUP INT TERM PIPE

sam_id=$1
shift
case $sam_id in
'' | *[!A-Za-z0-9_-]*)
  echo "reaper: bad SAM id '$sam_id'" >&2
  exit 2
  ;;
esac

groups=' '
while IFS=' ' read -r verb pgid; do
  case $pgid in '' | *[!0-9]*) continue ;; esac
  case $verb in
  group) groups="$groups$pgid " ;;
  ungroup) case $groups in *" $pgid "*) groups="${groups%% $pgid *} ${groups#* $pgid }" ;; esac ;;
  esac
done

# Only directories named for this SAM are touched: a damaged record must not aim elsewhere.
named() {
  case ${1##*/} in "sam-$sam_id") return 0 ;; *) return 1 ;; esac
}
ours() {
  named "$1" && [ -d "$1" ]
}

kill_listed() {
  find "$1" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r pid; do
    kill -9 "$pid" 2>/dev/null && echo "killed $pid"
  done
}

listed() {
  [ -n "$(find "$1" -name cgroup.procs -exec cat {} + 2>/dev/null)" ]
}

# Freeze (v1 freezer.state, v2 cgroup.freeze) so that nothing forks while it is being killed.
for dir in "$@"; do
  named "$dir" || { echo "refused $dir"; continue; }
  if [ -f "$dir/freezer.state" ]; then
    echo FROZEN >"$dir/freezer.state"
    tries=0
    while [ "$(cat "$dir/freezer.state")" != FROZEN ] && [ $tries -lt 50 ]; do
      sleep 0.01
      tries=$((tries + 1))
    done
  elif [ -f "$dir/cgroup.freeze" ]; then
    echo 1 >"$dir/cgroup.freeze"
  fi 2>/dev/null
done
for dir in "$@"; do
  ours "$dir" || continue
  kill_listed "$dir"
  [ -f "$dir/cgroup.kill" ] && echo 1 >"$dir/cgroup.kill" 2>/dev/null
done
for dir in "$@"; do
  ours "$dir" || continue
  if [ -f "$dir/freezer.state" ]; then
    echo THAWED >"$dir/freezer.state"
  elif [ -f "$dir/cgroup.freeze" ]; then
    echo 0 >"$dir/cgroup.freeze"
  fi 2>/dev/null
done

for pgid in $groups; do
  kill -9 "-$pgid" 2>/dev/null && echo "killed group $pgid"
done

# Marked processes: a zombie's environ reads empty, so only live ones match.
rounds=0
while [ $rounds -lt 50 ]; do
  found=$(grep -l -z -x -F "SAM_OWNER=$sam_id" /proc/[0-9]*/environ 2>/dev/null)
  [ -n "$found" ] || break
  for file in $found; do
    pid=${file#/proc/}
    pid=${pid%/environ}
    [ "$pid" = $$ ] && continue
    kill -9 "$pid" 2>/dev/null && echo "killed $pid"
  done
  sleep 0.02
  rounds=$((rounds + 1))
done

# A cgroup can be removed once its killed tasks have exited: 5 s at most, killing again.
for dir in "$@"; do
  named "$dir" || continue
  tries=0
  while [ -d "$dir" ] && [ $tries -lt 250 ]; do
    if listed "$dir"; then
      kill_listed "$dir"
    else
      find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null
    fi
    [ -d "$dir" ] && sleep 0.02
    tries=$((tries + 1))
  done
  if [ -d "$dir" ]; then echo "left $dir"; else echo "removed $dir"; fi
done
exit 0
