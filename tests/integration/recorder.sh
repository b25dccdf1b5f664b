#!/bin/sh
# A stand-in for QEMU that records how it was started: its PID, its
# arguments (NUL-separated) and its open descriptors. Writes to $RECORD.
printf '%s' "$$" > "$RECORD.pid"
: > "$RECORD.args"
for a in "$@"; do printf '%s\0' "$a" >> "$RECORD.args"; done
ls /proc/$$/fd > "$RECORD.fds"
exit 0
