#!/usr/bin/env bash
# Measures what generated kernels cost at build time: the wall time of a clean compile of a throwaway project holding N
# declarations of the benchmark shapes, and, from the compiler's own -p:ReportAnalyzer=true report, the time of the
# KernelGen generator and of each analyzer (the ILLink trim analyzer above all). docs/build-time.md has the results.
#
#   tests/build-time/measure.sh [--generator path/to/KernelGen.Generator.dll] [--counts "0 1 5 20"]
#                               [--modes "plain aot publishaot"] [--repeat 1] [--first 0] [--out results.tsv]
#                               [--delegation none|auto|all] [--set benchmarks|dcgan]
#
# plain = IsAotCompatible=false, EnableTrimAnalyzer=false (no trim/AOT analyzers); aot = IsAotCompatible=true (trim,
# AOT and single-file analyzers, as a NativeAOT user builds); publishaot = PublishAot=true. --delegation sets the project's
# KernelGenDelegation (default: unset, i.e. none); --set dcgan declares the five layers of samples/Dcgan (bias, ReLU or
# tanh) instead of the benchmark shapes. Runs are interleaved
# (count by count, mode by mode, repeat by repeat) so that a busy machine disturbs every configuration alike.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
generator="$root/generator/KernelGen.Generator/bin/Release/netstandard2.0/KernelGen.Generator.dll"
counts="0 1 5 20"
modes="plain aot"
repeat=1
first=0
out=""
delegation=""
set="benchmarks"
while [ $# -gt 0 ]; do
    case "$1" in
        --generator) generator="$(realpath "$2")"; shift 2 ;;
        --counts) counts="$2"; shift 2 ;;
        --modes) modes="$2"; shift 2 ;;
        --repeat) repeat="$2"; shift 2 ;;
        --first) first="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --delegation) delegation="$2"; shift 2 ;;
        --set) set="$2"; shift 2 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done

library="$root/src/KernelGen/bin/Release/net10.0/KernelGen.dll"
if [ ! -f "$library" ]; then dotnet build "$root/src/KernelGen" -c Release -f net10.0 >/dev/null; fi
if [ ! -f "$generator" ]; then dotnet build "$root/generator/KernelGen.Generator" -c Release >/dev/null; fi

# The benchmark shapes, the DCGAN layer first; N declarations take them in turn from the --first (0 = DCGAN), so 20
# declarations repeat seven shapes under other names.
# shellcheck source=shapes.sh
source "$(dirname "$0")/shapes.sh"
bias=""
if [ "$set" = "dcgan" ]; then shapes=("${dcgan_layers[@]}"); bias=" ReadOnlySpan<float> bias,"; fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

make_project() { # dir count
    local dir="$1" count="$2"
    mkdir -p "$dir"
    cat > "$dir/Measured.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <NoWarn>\$(NoWarn);KG0009</NoWarn>
    <KernelGenDelegation>$delegation</KernelGenDelegation>
  </PropertyGroup>
  <ItemGroup>
    <CompilerVisibleProperty Include="KernelGenDelegation" />
    <Reference Include="$library" />
    <Analyzer Include="$generator" />
  </ItemGroup>
</Project>
XML
    {
        echo "using KernelGen;"
        echo "namespace Measured;"
        echo "public static partial class Layers"
        echo "{"
        for ((i = 0; i < count; i++)); do
            echo "    [${shapes[(first + i) % ${#shapes[@]}]}]"
            echo "    public static partial void Layer$i(ReadOnlySpan<float> input, ReadOnlySpan<float> weights,$bias Span<float> output);"
        done
        echo "    public static int Answer() => 42;"
        echo "}"
    } > "$dir/Layers.cs"
}

mode_properties() {
    case "$1" in
        plain) echo "-p:IsAotCompatible=false -p:EnableTrimAnalyzer=false -p:EnableAotAnalyzer=false -p:EnableSingleFileAnalyzer=false" ;;
        aot) echo "-p:IsAotCompatible=true" ;;
        publishaot) echo "-p:PublishAot=true" ;;
        *) echo "unknown mode $1" >&2; exit 2 ;;
    esac
}

seconds_of() { # log pattern: the first number on the first line matching the pattern
    grep -m1 -E "$2" "$1" | grep -oE '[0-9]+\.[0-9]+' | head -1 || true
}

header=$'first\tdeclarations\tmode\tbuild_s\tcsc_s\tanalyzers_total_s\ttrim_analyzer_s\tkernelgen_analyzer_s\tgenerators_total_s\tkernelgen_generator_s'
echo "$header"
[ -n "$out" ] && echo "$header" > "$out"
for ((r = 0; r < repeat; r++)); do
    for count in $counts; do
        dir="$work/n$count"
        [ -d "$dir" ] || make_project "$dir" "$count"
        for mode in $modes; do
            log="$work/n$count-$mode.log"
            # Restore with the mode's properties: IsAotCompatible and PublishAot bring in the ILLink package and its analyzers.
            # shellcheck disable=SC2046
            dotnet restore "$dir" $(mode_properties "$mode") >/dev/null
            start=$(date +%s.%N)
            # shellcheck disable=SC2046
            dotnet build "$dir" -c Release --no-restore --no-incremental -nodeReuse:false -p:UseSharedCompilation=false \
                -p:ReportAnalyzer=true $(mode_properties "$mode") -v:d -clp:PerformanceSummary > "$log" 2>&1 \
                || { echo "build failed: $log" >&2; tail -20 "$log" >&2; exit 1; }
            end=$(date +%s.%N)
            build=$(echo "$end - $start" | bc)
            csc=$(grep -E '^\s+[0-9]+ ms\s+Csc\s' "$log" | awk '{ printf "%.1f", $1 / 1000 }')
            analyzers=$(seconds_of "$log" 'Total analyzer execution time')
            trim=$(seconds_of "$log" 'ILLink.RoslynAnalyzer.DynamicallyAccessedMembersAnalyzer')
            kgAnalyzer=$(seconds_of "$log" 'KernelGen.Generator.Diagnostics.KernelGenAnalyzer')
            generators=$(seconds_of "$log" 'Total generator execution time')
            kgGenerator=$(seconds_of "$log" 'KernelGen.Generator.ConvTransposeGenerator')
            line="$first	$count	$mode	$(printf %.1f "$build")	$csc	${analyzers:-}	${trim:--}	${kgAnalyzer:--}	${generators:-}	${kgGenerator:--}"
            echo "$line"
            [ -n "$out" ] && echo "$line" >> "$out"
        done
    done
done
