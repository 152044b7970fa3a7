#!/bin/bash
# Alternates whole builds of copies of samples/Dcgan (only the sample compiled; compiler server off), as measured for
# docs/build-time.md: $B/today = the sample as it is; $B/all = the sample with standin/DcganKernels.cs and
# standin/LibraryLayer.cs; $B/half = the same with layers 2 and 3 only replaced. Each copy's Dcgan.csproj takes absolute
# paths to src/ and generator/, and Directory.Build.props and Directory.Packages.props are copied beside it.
B=${B:-/work/scratch/s15-delegate/build}
for round in 1 2 3; do
  if [ $((round % 2)) = 1 ]; then order="today half all"; else order="all half today"; fi
  for v in $order; do
    while [ -e /work/notes/bench-running ]; do sleep 20; done
    cd $B/$v/Dcgan
    log=$B/log-$v-$round.txt
    s=$(date +%s.%N)
    dotnet build -c Release --no-incremental -p:BuildProjectReferences=false -p:UseSharedCompilation=false -p:ReportAnalyzer=true -v:d > $log 2>&1
    e=$(date +%s.%N)
    csc=$(grep -E '^\s+[0-9]+ ms\s+Csc\s' "$log" | awk '{ printf "%.1f", $1 / 1000 }')
    trim=$(grep -m1 -E 'ILLink.RoslynAnalyzer.DynamicallyAccessedMembersAnalyzer' $log | grep -oE '[0-9]+\.[0-9]+' | head -1)
    gen=$(grep -m1 -E 'KernelGen.Generator.ConvTransposeGenerator' $log | grep -oE '[0-9]+\.[0-9]+' | head -1)
    load=$(cut -d' ' -f1 /proc/loadavg)
    echo -e "$round\t$v\tbuild $(echo "$e - $s" | bc | cut -c1-5) s\tcsc $csc s\ttrim $trim s\tgenerator $gen s\tload $load\t$(date -u +%H:%M)"
  done
done
