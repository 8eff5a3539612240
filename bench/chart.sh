#!/bin/sh
# chart.sh DIR OUT.png "CONTENDERS" "SUBTITLE" - clustered bar chart (gnuplot) of the
# median ops/s per size per contender (seconds for the real programs), one panel per
# workload group.  Reads DIR/chart_groups ("group unit" lines, unit Mops, ops or s)
# and the DIR/chart_<n>.dat files written by report.awk mode=chartdata.
set -eu
dir=$1 out=$2 conts=$3 sub=$4
ngroups=$(wc -l < "$dir/chart_groups")
# shellcheck disable=SC2086
ncont=$(echo $conts | wc -w)
cols=2
[ "$ngroups" -lt 2 ] && cols=1
rows=$(( (ngroups + cols - 1) / cols ))
height=$(( rows * 420 + 60 ))
{
    echo "set terminal pngcairo noenhanced size 1600,$height font 'DejaVu Sans,10'"
    echo "set output '$out'"
    echo "set multiplot layout $rows,$cols title 'hakmem A/B: median ops/s (real programs: seconds) - $sub' font ',13'"
    echo "set style data histograms"
    echo "set style histogram clustered gap 1"
    echo "set style fill solid 0.85 border -1"
    echo "set boxwidth 0.9"
    echo "set grid ytics"
    echo "set yrange [0:*]"
    echo "set key outside right top vertical font ',9'"
    echo "set xtics nomirror"
    i=1
    while read -r g unit; do
        case $g in
            short) t="short: 1 thread, whole process (start-up + first touch)" ;;
            long) t="long: 1 thread, steady state" ;;
            mt2) t="mt2: same churn on 2 threads" ;;
            mid) t="mid: 1025-65536 B churn, 1 and 2 threads" ;;
            prodcons) t="prodcons: producer/consumer cross-thread free" ;;
            larson) t="larson: server simulation, 2 threads" ;;
            phase) t="phase: memory moving between size classes" ;;
            large) t="large: 5-25 MiB buffers replaced" ;;
            xthread) t="xthread: 2 threads, half the frees cross-thread" ;;
            realprog) t="realprog: real programs, seconds (lower is better)" ;;
            *) t=$g ;;
        esac
        echo "set title '$t'"
        case $unit in s) yl="seconds" ;; ops) yl="ops/s" ;; *) yl="M ops/s" ;; esac
        echo "set ylabel '$yl'"
        echo "plot for [c=2:$((ncont + 1))] '$dir/chart_$i.dat' using c:xtic(1) title columnheader(c)"
        i=$((i + 1))
    done < "$dir/chart_groups"
    echo "unset multiplot"
} > "$dir/chart.gp"
gnuplot "$dir/chart.gp"
