# Sourced by the benchmarks: `disk_flush_line DIR` prints how fast this disk flushes one 8 kB
# write (pg_test_fsync's fdatasync line, probing a file in DIR), the figure that makes timings
# that wait on a WAL flush comparable across machines.
disk_flush_line() {
    local fsync_bin
    fsync_bin=$(ls /usr/lib/postgresql/*/bin/pg_test_fsync 2>/dev/null | tail -1 || true)
    if [[ -n $fsync_bin ]]; then
        "$fsync_bin" -s 2 -f "$1/fsync.probe" 2>/dev/null |
            awk '/^ +fdatasync +[0-9]/ { sub(/^ +/, ""); gsub(/ +/, " "); print "disk (pg_test_fsync, one 8 kB write): " $0; exit }' || true
    else
        echo "disk: pg_test_fsync not found (install postgresql to see the flush rate)"
    fi
}
