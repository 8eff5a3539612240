# report.awk - turn run_bench.sh's raw TSVs into markdown tables / chart data.
#
#   awk -f report.awk -v mode=md -v contenders="Baseline p1 glibc ..." -v peers="glibc ..." \
#       -v phases="p1 p2" -v offs="p2" -v perfok=1 RUNS.tsv PERF.tsv
#   (offs: phases that also ran with Small-Mid off, as contender "<phase>-off")
#   awk -f report.awk -v mode=chartdata -v dir=DIR -v contenders="..." RUNS.tsv
#
# RUNS.tsv columns: workload group size contender rep status ops loop_s wall_s
#                   ops_per_sec maxrss_kb minflt utime stime end_rss_kb
# PERF.tsv columns: workload group size contender status samples pf_samples pf_share
#                   perf_page_faults
# Medians over the reps that succeeded; "FAIL" when none did, "†" when some did not.

BEGIN { FS = "\t" }

function median(list,    a, n, i, j, t) {
    n = split(list, a, " ")
    if (n == 0) return ""
    for (i = 2; i <= n; i++) {          # insertion sort, n is tiny
        t = a[i] + 0
        for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]
        a[j + 1] = t
    }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function fmt_ops(v) {
    if (v == "") return "-"
    if (v >= 1e6) return sprintf("%.2fM", v / 1e6)
    return sprintf("%.0fK", v / 1e3)
}
function pct(a, b) { return (a == "" || b == "" || b == 0) ? "-" : sprintf("%+.1f%%", (a / b - 1) * 100) }
function ratio(a, b) { return (a == "" || b == "" || b == 0) ? "-" : sprintf("%.2fx", a / b) }
function addu(arr, key, v) { arr[key] = (key in arr) ? arr[key] " " v : v }

FNR == 1 { file++; next }
file == 1 {
    g = $2; s = $3; c = $4
    if (!(g in gseen)) { gseen[g] = 1; gorder[++ng] = g }
    if (!((g, s) in sseen)) { sseen[g, s] = 1; scount[g]++; sorder[g, scount[g]] = s }
    k = g SUBSEP s SUBSEP c
    if ($6 != "ok") { fails[k]++; next }
    addu(ops, k, $10); addu(rss, k, $11); addu(flt, k, $12)
    if ($15 != "") { addu(endrss, k, $15); hasend[g] = 1 }
    cpu = $13 + $14
    addu(sys, k, (cpu > 0) ? $14 / cpu : 0)
    okruns[k]++
    next
}
file == 2 {
    k = $2 SUBSEP $3 SUBSEP $4
    if ($5 != "ok") { pfail[k] = 1; next }
    pshare[k] = $8; ppf[k] = $9; psamp[k] = $6
    next
}

function med_ops(g, s, c,    k) { k = g SUBSEP s SUBSEP c; return (k in ops) ? median(ops[k]) : "" }
function cell_ops(g, s, c,    k, v) {
    k = g SUBSEP s SUBSEP c
    if (!(k in ops)) return (k in fails) ? "FAIL" : "-"
    v = fmt_ops(median(ops[k]))
    if (k in fails) { v = v "†"; anyfail = 1 }
    return v
}
# mean over the fixed sizes (the seed's "Avg" row), "" if any is missing
function avg_ops(g, c,    i, s, v, n, t) {
    n = 0; t = 0
    for (i = 1; i <= scount[g]; i++) {
        s = sorder[g, i]
        if (s == "mixed") continue
        v = med_ops(g, s, c)
        if (v == "") return ""
        t += v; n++
    }
    return n ? t / n : ""
}
function val(g, s, c) { return (s == "Avg") ? avg_ops(g, c) : med_ops(g, s, c) }
function bestpeer(g, s,    i, v, b) {
    b = ""; bestname = ""
    for (i = 1; i <= npeer; i++) {
        v = val(g, s, peer[i])
        if (v != "" && (b == "" || v + 0 > b + 0)) { b = v; bestname = peer[i] }
    }
    return b
}
function sizelabel(s,    a) {
    if (s ~ /to/) { split(s, a, "to"); return a[1] " B -> " a[2] " B" }
    return (s == "mixed") ? "16-1024B" : (s == "Avg") ? "Avg (256/512/1024)" : s "B"
}

function ops_table(g,    i, j, s, c, hdr, sep, row, base, prev, v, vo, bp, nrows, rows) {
    hdr = "| Size | Baseline |"; sep = "|---|---:|"
    for (j = 1; j <= nphase; j++) {
        hdr = hdr " " phase[j] " (ON) | Delta vs prev | vs Baseline | vs best peer |"
        sep = sep "---:|---:|---:|---:|"
        if (phase[j] in isoff) { hdr = hdr " " phase[j] "-off | ON vs OFF |"; sep = sep "---:|---:|" }
    }
    for (j = 1; j <= npeer; j++) { hdr = hdr " " peer[j] " |"; sep = sep "---:|" }
    hdr = hdr " best peer |"; sep = sep "---|"
    print hdr; print sep
    nrows = 0
    for (i = 1; i <= scount[g]; i++) rows[++nrows] = sorder[g, i]
    if (scount[g] > 1 && g != "phase") rows[++nrows] = "Avg"
    for (i = 1; i <= nrows; i++) {
        s = rows[i]
        base = val(g, s, "Baseline")
        bp = bestpeer(g, s)
        row = "| " sizelabel(s) " | " ((s == "Avg") ? fmt_ops(base) : cell_ops(g, s, "Baseline")) " |"
        prev = ""
        for (j = 1; j <= nphase; j++) {
            c = phase[j]; v = val(g, s, c)
            row = row " " ((s == "Avg") ? fmt_ops(v) : cell_ops(g, s, c)) " | " \
                  ((j == 1) ? "-" : pct(v, prev)) " | " pct(v, base) " | " ratio(v, bp) " |"
            if (c in isoff) {
                vo = val(g, s, c "-off")
                row = row " " ((s == "Avg") ? fmt_ops(vo) : cell_ops(g, s, c "-off")) " | " ratio(v, vo) " |"
            }
            prev = v
        }
        for (j = 1; j <= npeer; j++)
            row = row " " ((s == "Avg") ? fmt_ops(val(g, s, peer[j])) : cell_ops(g, s, peer[j])) " |"
        row = row " " ((bp == "") ? "-" : bestname) " |"
        print row
    }
}

function res_table(g,    i, j, s, c, hdr, sep, row, k) {
    hdr = "| Size |"; sep = "|---|"
    for (j = 1; j <= ncont; j++) { hdr = hdr " " cont[j] " |"; sep = sep "---:|" }
    print hdr; print sep
    for (i = 1; i <= scount[g]; i++) {
        s = sorder[g, i]; row = "| " sizelabel(s) " |"
        for (j = 1; j <= ncont; j++) {
            k = g SUBSEP s SUBSEP cont[j]
            if (k in rss) row = row sprintf(" %.1f MB / %d |", median(rss[k]) / 1024, median(flt[k]))
            else row = row " - |"
        }
        print row
    }
}

# Phase change: peak RSS / RSS at the end, MB (median).
function end_table(g,    i, j, s, hdr, sep, row, k) {
    hdr = "| Change |"; sep = "|---|"
    for (j = 1; j <= ncont; j++) { hdr = hdr " " cont[j] " |"; sep = sep "---:|" }
    print hdr; print sep
    for (i = 1; i <= scount[g]; i++) {
        s = sorder[g, i]; row = "| " sizelabel(s) " |"
        for (j = 1; j <= ncont; j++) {
            k = g SUBSEP s SUBSEP cont[j]
            if ((k in rss) && (k in endrss))
                row = row sprintf(" %.0f / %.0f |", median(rss[k]) / 1024, median(endrss[k]) / 1024)
            else row = row " - |"
        }
        print row
    }
}

function perf_table(g,    i, j, s, c, hdr, sep, row, k, any) {
    any = 0
    for (i = 1; i <= scount[g]; i++) for (j = 1; j <= nhak; j++) {
        k = g SUBSEP sorder[g, i] SUBSEP hak[j]; if ((k in pshare) || (k in pfail)) any = 1 }
    if (!any) return 0
    hdr = "| Size |"; sep = "|---|"
    for (j = 1; j <= nhak; j++) { hdr = hdr " " hak[j] ((j > 1 && hak[j] !~ /-off$/) ? " (ON)" : "") " |"; sep = sep "---:|" }
    print hdr; print sep
    for (i = 1; i <= scount[g]; i++) {
        s = sorder[g, i]; row = "| " sizelabel(s) " |"
        any = 0
        for (j = 1; j <= nhak; j++) {
            k = g SUBSEP s SUBSEP hak[j]; if ((k in pshare) || (k in pfail)) any = 1 }
        if (!any) continue
        for (j = 1; j <= nhak; j++) {
            k = g SUBSEP s SUBSEP hak[j]
            if (k in pshare) row = row sprintf(" %.1f%% / %d pf (%d samples) |", pshare[k] * 100, ppf[k], psamp[k])
            else if (k in pfail) row = row " FAIL |"
            else row = row " not measured |"
        }
        print row
    }
    return 1
}

function sys_table(g,    i, j, s, hdr, sep, row, k) {
    hdr = "| Size |"; sep = "|---|"
    for (j = 1; j <= ncont; j++) { hdr = hdr " " cont[j] " |"; sep = sep "---:|" }
    print hdr; print sep
    for (i = 1; i <= scount[g]; i++) {
        s = sorder[g, i]; row = "| " sizelabel(s) " |"
        for (j = 1; j <= ncont; j++) {
            k = g SUBSEP s SUBSEP cont[j]
            row = row ((k in sys) ? sprintf(" %.1f%% |", median(sys[k]) * 100) : " - |")
        }
        print row
    }
}

END {
    ncont = split(contenders, cont, " ")
    npeer = split(peers, peer, " ")
    nphase = split(phases, phase, " ")
    noff = split(offs, offl, " ")
    for (j = 1; j <= noff; j++) isoff[offl[j]] = 1
    nhak = 0; hak[++nhak] = "Baseline"
    for (j = 1; j <= nphase; j++) {
        hak[++nhak] = phase[j]
        if (phase[j] in isoff) hak[++nhak] = phase[j] "-off"
    }
    title["short"] = "short single-thread run (the seed's regime: start-up + first touch)"
    title["long"] = "long single-thread run (steady state)"
    title["mt2"] = "2 threads, same churn"
    title["prodcons"] = "producer/consumer cross-thread free"
    title["larson"] = "larson-style server simulation (2 threads)"
    title["phase"] = "phase change: memory moving between size classes, and back to the OS"

    if (mode == "chartdata") {
        for (gi = 1; gi <= ng; gi++) {
            g = gorder[gi]; f = dir "/chart_" gi ".dat"
            printf "%s\n", g > (dir "/chart_groups")
            line = "size"
            for (j = 1; j <= ncont; j++) line = line "\t" cont[j]
            print line > f
            for (i = 1; i <= scount[g]; i++) {
                s = sorder[g, i]; line = (g == "prodcons" || g == "larson" || g == "phase") ? g " " sizelabel(s) : sizelabel(s)
                gsub(/ /, "_", line)
                for (j = 1; j <= ncont; j++) {
                    v = med_ops(g, s, cont[j]); line = line "\t" ((v == "") ? "0" : sprintf("%.4f", v / 1e6))
                }
                print line > f
            }
            close(f)
        }
        close(dir "/chart_groups")
        exit
    }

    for (gi = 1; gi <= ng; gi++) {
        g = gorder[gi]
        print "## " g ": " ((g in title) ? title[g] : g)
        print ""
        print "ops/s (median). Delta vs prev = this phase vs the previous phase; vs Baseline = vs the first phase with HAKMEM_SMALLMID_ENABLE=0; vs best peer = ratio to the fastest of " peers "."
        print ""
        ops_table(g)
        print ""
        print "Peak RSS / minor page faults per run (median, getrusage of the benchmark process):"
        print ""
        res_table(g)
        print ""
        if (g in hasend) {
            print "Peak RSS / RSS after everything was freed and 300 ms of small allocations, MB (median):"
            print ""
            end_table(g)
            print ""
        }
        if (perfok == 1 && (g == "short" || g == "long")) {
            print "Share of CPU time in kernel page-fault handling (perf record -e cpu-clock -g: samples under exc_page_fault) / perf stat page-faults, one extra run:"
            print ""
            if (!perf_table(g)) print "(not measured)"
            print ""
        } else if (perfok != 1 && (g == "short" || g == "long")) {
            print "perf unavailable - fallback: share of the process's CPU time spent in the kernel (getrusage stime / (utime+stime), median):"
            print ""
            sys_table(g)
            print ""
        }
    }
    if (anyfail) print "† some repetitions failed; median over the ones that succeeded (see the .tsv)."
}
