#!/bin/sh
# chart.sh DIR OUT.png "CONTENDERS" "SUBTITLE" - clustered bar chart (gnuplot) of the
# median ops/s per size per contender, one panel per workload group.  Reads the
# DIR/chart_groups and DIR/chart_<n>.dat files written by report.awk mode=chartdata.
set -eu
dir=$1 out=$2 conts=$3 sub=$4
ngroups=$(wc -l < "$dir/chart_groups")
ncont=$(echo $conts | wc -w)
cols=2
[ "$ngroups" -lt 2 ] && cols=1
rows=$(( (ngroups + cols - 1) / cols ))
height=$(( rows * 420 + 60 ))
{
    echo "set terminal pngcairo noenhanced size 1600,$height font 'DejaVu Sans,10'"
    echo "set output '$out'"
    echo "set multiplot layout $rows,$cols title 'hakmem A/B: median ops/s (millions) - $sub' font ',13'"
    echo "set style data histograms"
    echo "set style histogram clustered gap 1"
    echo "set style fill solid 0.85 border -1"
    echo "set boxwidth 0.9"
    echo "set grid ytics"
    echo "set yrange [0:*]"
    echo "set ylabel 'M ops/s'"
    echo "set key outside right top vertical font ',9'"
    echo "set xtics nomirror"
    i=1
    while read -r g; do
        case $g in
            short) t="short: 1 thread, whole process (start-up + first touch)" ;;
            long) t="long: 1 thread, steady state" ;;
            mt2) t="mt2: same churn on 2 threads" ;;
            prodcons) t="prodcons: producer/consumer cross-thread free" ;;
            larson) t="larson: server simulation, 2 threads" ;;
            *) t=$g ;;
        esac
        echo "set title '$t'"
        echo "plot for [c=2:$((ncont + 1))] '$dir/chart_$i.dat' using c:xtic(1) title columnheader(c)"
        i=$((i + 1))
    done < "$dir/chart_groups"
    echo "unset multiplot"
} > "$dir/chart.gp"
gnuplot "$dir/chart.gp"
