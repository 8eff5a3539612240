# report.awk - turn run_bench.sh's raw TSVs into markdown tables / chart data.
#
#   awk -f report.awk -v mode=md -v contenders="Baseline p1 glibc ... sol" -v peers="glibc ..." \
#       -v phases="p1 p2" -v offs="p2" -v perfok=1 -v cgrun=1 -v cgwhy="..." RUNS.tsv PERF.tsv IR.tsv
#   (offs: phases that also ran with Small-Mid off, as contender "<phase>-off";
#    cgrun: 1 when the callgrind table was asked for, cgwhy: why it was not measured)
#   awk -f report.awk -v mode=chartdata -v dir=DIR -v contenders="..." RUNS.tsv
#
# RUNS.tsv columns: workload group size contender rep status ops loop_s wall_s
#                   value maxrss_kb minflt utime stime end_rss_kb unit backlog
#   backlog (xthread, prodcons; empty elsewhere and in older files): the most blocks
#   that waited between threads in the run - what those rows' peak RSS follows.
#   value is ops/s (unit "ops/s", or empty in older files) or seconds (unit "s": the
#   real programs, lower is better).
# PERF.tsv columns: workload group size contender status samples pf_samples pf_share
#                   perf_page_faults
# IR.tsv columns:   size args contender status ir_total ops
#                   (size "startup": 1 op, the fixed cost of start-up and exit;
#                    contender "(loop)": the loop alone, BENCH_NOALLOC=1)
# Medians over the reps that succeeded; "FAIL" when none did, "†" when some did not.
# Ratios compare speed (ops/s, or 1/seconds), so > 1x and + always mean faster.
# Contender "sol" (speed of light, bench only) is never a peer.

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
    if (v >= 1e3) return sprintf("%.2fK", v / 1e3)
    return sprintf("%.0f", v)
}
function fmt_val(g, v) {
    if (v == "") return "-"
    return (g in istime) ? sprintf("%.3f s", v) : fmt_ops(v)
}
# speed: bigger is better
function spd(g, v) { return (v == "" || v == 0) ? "" : (g in istime) ? 1 / v : v }
function pct(g, a, b) { a = spd(g, a); b = spd(g, b); return (a == "" || b == "") ? "-" : sprintf("%+.1f%%", (a / b - 1) * 100) }
function ratio(g, a, b) { a = spd(g, a); b = spd(g, b); return (a == "" || b == "") ? "-" : sprintf("%.2fx", a / b) }
function addu(arr, key, v) { arr[key] = (key in arr) ? arr[key] " " v : v }

FNR == 1 { file++; next }
file == 1 {
    g = $2; s = $3; c = $4
    if (!(g in gseen)) { gseen[g] = 1; gorder[++ng] = g }
    if (!((g, s) in sseen)) { sseen[g, s] = 1; scount[g]++; sorder[g, scount[g]] = s }
    k = g SUBSEP s SUBSEP c
    if ($6 != "ok") { fails[k]++; next }
    if ($16 == "s") istime[g] = 1
    addu(ops, k, $10); addu(rss, k, $11); addu(flt, k, $12)
    opsr[k SUBSEP $5] = $10                    # by round, for the paired ratios
    if ($5 + 0 > maxrep[g]) maxrep[g] = $5 + 0
    if ($15 != "") { addu(endrss, k, $15); hasend[g] = 1 }
    if ($17 != "") { addu(backlog, k, $17); hasbl[g] = 1 }
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
file == 3 {
    if ($1 != "startup" && !($1 in irseen)) { irseen[$1] = 1; irsize[++nir] = $1; irargs[$1] = $2 }
    k = $1 SUBSEP $3
    irst[k] = $4
    if ($4 == "ok") { irtot[k] = $5; irops[k] = $6 }
    next
}

# Sort the numbers of a space-separated list into a[1..n]; returns n.
function sortlist(list, a,    n, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) {
        t = a[i] + 0
        for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]
        a[j + 1] = t
    }
    return n
}
# Paired ratio of contender a to b in group g, size s: a's speed over b's in the same
# round, for every round both succeeded; "median [q1-q3]" of those ratios, or "-".
function paired_cell(g, s, a, b,    r, ka, kb, va, vb, list, n, q) {
    list = ""
    for (r = 1; r <= maxrep[g]; r++) {
        ka = g SUBSEP s SUBSEP a SUBSEP r; kb = g SUBSEP s SUBSEP b SUBSEP r
        if (!(ka in opsr) || !(kb in opsr)) continue
        va = spd(g, opsr[ka]); vb = spd(g, opsr[kb])
        if (va > 0 && vb > 0) list = list " " va / vb
    }
    n = sortlist(list, q)
    if (n == 0) return "-"
    return sprintf("%.3f [%.2f-%.2f]", (n % 2) ? q[(n + 1) / 2] : (q[n / 2] + q[n / 2 + 1]) / 2,
                   q[int((n + 3) / 4)], q[int((3 * n + 3) / 4)])
}
# Many-rep runs: the newest phase (each mode that ran) against the best peer of each
# size and against sol, paired by round.
function paired_table(g,    j, i, s, c, nc, cs, hdr, sep, row, bp) {
    nc = 0
    c = phase[nphase]
    if (c in incont) cs[++nc] = c
    if (c in isoff) cs[++nc] = c "-off"
    if (nc == 0 || (!npeer && !hassol)) return 0
    hdr = "| " ((g in istime) ? "Program" : "Size") " |"; sep = "|---|"
    for (j = 1; j <= nc; j++) {
        if (npeer) { hdr = hdr " " cs[j] " vs best peer |"; sep = sep "---|" }
        if (hassol) { hdr = hdr " " cs[j] " vs sol |"; sep = sep "---|" }
    }
    print hdr; print sep
    for (i = 1; i <= scount[g]; i++) {
        s = sorder[g, i]; row = "| " sizelabel(s) " |"
        for (j = 1; j <= nc; j++) {
            if (npeer) { bp = bestpeer(g, s); row = row " " ((bp == "") ? "-" : paired_cell(g, s, cs[j], bestname) " " bestname) " |" }
            if (hassol) row = row " " paired_cell(g, s, cs[j], "sol") " |"
        }
        print row
    }
    return 1
}

function med_ops(g, s, c,    k) { k = g SUBSEP s SUBSEP c; return (k in ops) ? median(ops[k]) : "" }
function cell_ops(g, s, c,    k, v) {
    k = g SUBSEP s SUBSEP c
    if (!(k in ops)) return (k in fails) ? "FAIL" : "-"
    v = fmt_val(g, median(ops[k]))
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
function cell(g, s, c) { return (s == "Avg") ? fmt_val(g, avg_ops(g, c)) : cell_ops(g, s, c) }
# the fastest peer (sol is not one); sets bestname
function bestpeer(g, s,    i, v, b) {
    b = ""; bestname = ""
    for (i = 1; i <= npeer; i++) {
        v = val(g, s, peer[i])
        if (v != "" && (b == "" || spd(g, v) > spd(g, b))) { b = v; bestname = peer[i] }
    }
    return b
}
function sizelabel(s,    a) {
    if (s ~ /^[0-9]+to[0-9]+$/) { split(s, a, "to"); return a[1] " B -> " a[2] " B" }
    if (s ~ /^[0-9]+$/) return s "B"
    if (s == "mixed") return "16-1024B"
    if (s == "smallmid") return "256-1024B"
    if (s == "Avg") return "Avg (256/512/1024)"
    return s
}

function ops_table(g,    i, j, s, c, hdr, sep, row, base, prev, v, vo, bp, sv, nrows, rows) {
    hdr = "| " ((g in istime) ? "Program" : "Size") " |"; sep = "|---|"
    if (hasbase) { hdr = hdr " Baseline |"; sep = sep "---:|" }
    for (j = 1; j <= nphase; j++) {
        hdr = hdr " " phase[j] " (ON) | Delta vs prev |"; sep = sep "---:|---:|"
        if (hasbase) { hdr = hdr " vs Baseline |"; sep = sep "---:|" }
        if (npeer) { hdr = hdr " vs best peer |"; sep = sep "---:|" }
        if (hassol) { hdr = hdr " vs sol |"; sep = sep "---:|" }
        if (phase[j] in isoff) { hdr = hdr " " phase[j] "-off | ON vs OFF |"; sep = sep "---:|---:|" }
    }
    for (j = 1; j <= npeer; j++) { hdr = hdr " " peer[j] " |"; sep = sep "---:|" }
    if (hassol) { hdr = hdr " sol |"; sep = sep "---:|" }
    if (npeer) { hdr = hdr " best peer |"; sep = sep "---|" }
    print hdr; print sep
    nrows = 0
    for (i = 1; i <= scount[g]; i++) rows[++nrows] = sorder[g, i]
    if (scount[g] > 1 && g != "phase" && g != "mid" && g != "prodcons" && !(g in istime)) rows[++nrows] = "Avg"
    for (i = 1; i <= nrows; i++) {
        s = rows[i]
        base = val(g, s, "Baseline")
        bp = bestpeer(g, s)
        sv = val(g, s, "sol")
        row = "| " sizelabel(s) " |"
        if (hasbase) row = row " " cell(g, s, "Baseline") " |"
        prev = ""
        for (j = 1; j <= nphase; j++) {
            c = phase[j]; v = val(g, s, c)
            row = row " " cell(g, s, c) " | " ((j == 1) ? "-" : pct(g, v, prev)) " |"
            if (hasbase) row = row " " pct(g, v, base) " |"
            if (npeer) row = row " " ratio(g, v, bp) " |"
            if (hassol) row = row " " ratio(g, v, sv) " |"
            if (c in isoff) {
                vo = val(g, s, c "-off")
                row = row " " cell(g, s, c "-off") " | " ratio(g, v, vo) " |"
            }
            prev = v
        }
        for (j = 1; j <= npeer; j++) row = row " " cell(g, s, peer[j]) " |"
        if (hassol) row = row " " cell(g, s, "sol") " |"
        if (npeer) row = row " " ((bp == "") ? "-" : bestname) " |"
        print row
    }
}

function res_table(g,    i, j, s, c, hdr, sep, row, k) {
    hdr = "| " ((g in istime) ? "Program" : "Size") " |"; sep = "|---|"
    for (j = 1; j <= ncont; j++) { hdr = hdr " " cont[j] " |"; sep = sep "---:|" }
    print hdr; print sep
    for (i = 1; i <= scount[g]; i++) {
        s = sorder[g, i]; row = "| " sizelabel(s) " |"
        for (j = 1; j <= ncont; j++) {
            k = g SUBSEP s SUBSEP cont[j]
            if (k in rss) row = row sprintf(" %.1f MB / %d", median(rss[k]) / 1024, median(flt[k])) \
                                ((k in backlog) ? sprintf(" / %.0f", median(backlog[k])) : "") " |"
            else row = row " - |"
        }
        print row
    }
}

# Peak RSS / RSS at the end, MB (median).
function end_table(g,    i, j, s, hdr, sep, row, k) {
    hdr = "| " ((g == "phase") ? "Change" : "Size") " |"; sep = "|---|"
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
    for (j = 1; j <= nhak; j++) { hdr = hdr " " hak[j] ((hak[j] != "Baseline" && hak[j] !~ /-off$/) ? " (ON)" : "") " |"; sep = sep "---:|" }
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

# callgrind: Ir per malloc/free call, the loop's own Ir and the fixed cost of
# start-up and exit subtracted:
#   ((Ir(c, N) - Ir(loop, N)) - (Ir(c, 1) - Ir(loop, 1))) / (ops(N) - ops(1))
# ("" when a run is missing); irfixed: Ir(c, 1) - Ir(loop, 1).
function irper(s, c,    a, b, a1, b1) {
    a = s SUBSEP c; b = s SUBSEP "(loop)"; a1 = "startup" SUBSEP c; b1 = "startup" SUBSEP "(loop)"
    if (!(a in irtot) || !(b in irtot) || !(a1 in irtot) || !(b1 in irtot) || irops[a] != irops[b]) return ""
    if (c == "(loop)") return (irtot[b] - irtot[b1]) / (irops[b] - irops[b1])
    return ((irtot[a] - irtot[b]) - (irtot[a1] - irtot[b1])) / (irops[a] - irops[a1])
}
function irfixed(c,    a1, b1) {
    a1 = "startup" SUBSEP c; b1 = "startup" SUBSEP "(loop)"
    return ((a1 in irtot) && (b1 in irtot)) ? irtot[a1] - irtot[b1] : ""
}
function ir_table(    i, j, s, v, vs, hdr, sep, row, row2, c) {
    hdr = "| Size | loop alone |"; sep = "|---|---:|"
    for (j = 1; j <= ncont; j++) { hdr = hdr " " cont[j] " |"; sep = sep "---:|" }
    print hdr; print sep
    for (i = 1; i <= nir; i++) {
        s = irsize[i]
        v = irper(s, "(loop)")
        row = "| " sizelabel(s) " | " ((v == "") ? "FAIL" : sprintf("(%.1f)", v)) " |"
        vs = irper(s, "sol")
        row2 = "| " sizelabel(s) ", vs sol | |"
        for (j = 1; j <= ncont; j++) {
            c = cont[j]; v = irper(s, c)
            row = row ((v != "") ? sprintf(" %.1f |", v) : ((s SUBSEP c) in irst) ? " FAIL |" : " - |")
            row2 = row2 ((v != "" && vs != "" && vs > 0) ? sprintf(" %.2fx |", v / vs) : " - |")
        }
        print row
        if (hassol) print row2
    }
    v = ("startup" SUBSEP "(loop)" in irtot) ? irtot["startup", "(loop)"] : ""
    row = "| start-up + exit, Ir (fixed, subtracted) | " ((v == "") ? "FAIL" : sprintf("(%.0fK)", v / 1e3)) " |"
    for (j = 1; j <= ncont; j++) {
        v = irfixed(cont[j])
        row = row ((v == "") ? " - |" : sprintf(" %+.0fK |", v / 1e3))
    }
    print row
}

END {
    ncont = split(contenders, cont, " ")
    npeer = split(peers, peer, " ")
    nphase = split(phases, phase, " ")
    noff = split(offs, offl, " ")
    for (j = 1; j <= noff; j++) isoff[offl[j]] = 1
    for (j = 1; j <= ncont; j++) incont[cont[j]] = 1
    hasbase = ("Baseline" in incont)
    hassol = ("sol" in incont)
    nhak = 0
    if (hasbase) hak[++nhak] = "Baseline"
    for (j = 1; j <= nphase; j++) {
        if (phase[j] in incont) hak[++nhak] = phase[j]
        if (phase[j] in isoff) hak[++nhak] = phase[j] "-off"
    }
    title["short"] = "short single-thread run (the seed's regime: start-up + first touch)"
    title["long"] = "long single-thread run (steady state)"
    title["mt2"] = "2 threads, same churn"
    title["mid"] = "Mid sizes (1025-65536 B) churned, 1 thread and 2 threads (x2)"
    title["prodcons"] = "producer/consumer cross-thread free (16-1024 B, and Mid sizes 1025-65536 B)"
    title["larson"] = "larson-style server simulation (2 threads)"
    title["phase"] = "phase change: memory moving between size classes, and back to the OS"
    title["large"] = "large buffers (5-25 MiB) replaced one at a time"
    title["xthread"] = "2 threads, half of the frees cross-thread (xmalloc-test / mstress style)"
    title["realprog"] = "real programs under LD_PRELOAD (wall time, lower is better)"

    if (mode == "chartdata") {
        for (gi = 1; gi <= ng; gi++) {
            g = gorder[gi]; f = dir "/chart_" gi ".dat"
            # unit: s (seconds), Mops (millions of ops/s) or ops (groups under 100K ops/s)
            unit = (g in istime) ? "s" : "ops"; scale = 1
            for (i = 1; i <= scount[g] && unit == "ops"; i++)
                for (j = 1; j <= ncont; j++)
                    if (med_ops(g, sorder[g, i], cont[j]) >= 1e5) { unit = "Mops"; scale = 1e6 }
            printf "%s %s\n", g, unit > (dir "/chart_groups")
            line = "size"
            for (j = 1; j <= ncont; j++) line = line "\t" cont[j]
            print line > f
            for (i = 1; i <= scount[g]; i++) {
                s = sorder[g, i]; line = (scount[g] == 1 || g == "phase") ? g " " sizelabel(s) : sizelabel(s)
                gsub(/ /, "_", line)
                for (j = 1; j <= ncont; j++) {
                    v = med_ops(g, s, cont[j])
                    line = line "\t" ((v == "") ? "0" : sprintf("%.4f", v / scale))
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
        cap = (g in istime) ? "Seconds (median, wall time of the whole process tree). Ratios compare speed (1/seconds), so + and > 1x mean faster, as in the ops/s tables." \
                            : "ops/s (median)."
        cap = cap " Delta vs prev = this phase vs the previous phase"
        if (hasbase) cap = cap "; vs Baseline = vs the first phase with HAKMEM_SMALLMID_ENABLE=0"
        if (npeer) cap = cap "; vs best peer = ratio to the fastest of " peers
        if (hassol) cap = cap "; vs sol = ratio to sol, the speed of light (no checks, bench only; not a peer)"
        if (hassol && g == "large") cap = cap " - sol maps and unmaps every block over 1 MiB, so it is no limit here"
        if (hassol && g == "prodcons") cap = cap " - sol never moves a freed block back to the thread that allocates, so its memory grows with the ops (not run on the 1-64KiB row, where that would be ~100 GB)"
        print cap "."
        print ""
        ops_table(g)
        print ""
        if (maxrep[g] >= 9) {
            print "Paired ratios (runs of 9 reps or more): in every round, the newest phase's speed over the other contender's in that round; the median of those ratios [first - third quartile]. Quote these, not one median over another, for a claim of a few percent (bench/README):"
            print ""
            if (!paired_table(g)) print "(no newest-phase contender or nothing to compare with)"
            print ""
        }
        print ((g in istime) ? "Peak RSS (largest process of the tree) / minor page faults (all of them) per run, median, getrusage via wait4:" \
               : (g in hasbl) ? "Peak RSS / minor page faults / backlog per run (median; getrusage of the benchmark process; backlog = the most blocks waiting between threads in the run, which the peak RSS follows - it depends on how far one thread ran ahead, not on the allocator's overhead):" \
                             : "Peak RSS / minor page faults per run (median, getrusage of the benchmark process):")
        print ""
        res_table(g)
        print ""
        if (g in hasend) {
            if (g == "phase") print "Peak RSS / RSS after everything was freed and 300 ms of small allocations, MB (median):"
            else print "Peak RSS / RSS after everything was freed, MB (median):"
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
    if (cgrun == 1) {
        print "## callgrind: Ir per malloc+free call, loop subtracted"
        print ""
        if (nir == 0) print "Not measured: " cgwhy "."
        else {
            split(irargs[irsize[1]], cga, " ")
            print "Instructions (callgrind Ir) per malloc or free call - what the allocator executes (PLT jump included) and nothing else: " \
                  "Ir of `bench_random_mixed " cga[1] " MIN 1024 1` under the contender minus Ir of the same run with BENCH_NOALLOC=1 (the loop alone: " \
                  "a fixed pool instead of malloc/free, same random sequence and touching, the same noinline ir_alloc/ir_free calls from the loop), " \
                  "minus the same difference for a 1-op run (start-up and exit: the last row), divided by the ops (" irops[irsize[1] SUBSEP "(loop)"] " malloc+free calls). " \
                  "Lower is better; one run each (callgrind counts are deterministic). \"loop alone\": the loop's own Ir/op and, last row, the Ir of its whole 1-op run; the contenders' last row: what they add to it."
            print ""
            ir_table()
        }
        print ""
    }
    if (anyfail) print "† some repetitions failed; median over the ones that succeeded (see the .tsv)."
}
