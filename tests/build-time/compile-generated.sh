#!/usr/bin/env bash
# What generated kernels cost the analysers, without the noise of the generator and of whole builds: each variant's
# generator writes the kernels of some benchmark shapes once (EmitCompilerGeneratedFiles), then a project holding those
# .g.cs files and no generator is compiled from scratch again and again with IsAotCompatible, the variants alternated
# (A B B A A B ...), and the compiler's -p:ReportAnalyzer=true report gives the trim analyzer's time. docs/build-time.md
# has the results.
#
#   tests/build-time/compile-generated.sh --variant before=path/to/KernelGen.Generator.dll --variant after=path/to/... \
#                                         [--shapes "0 3"] [--repeat 5] [--out results.tsv]
#
# --shapes indexes shapes.sh (0 = dcgan, 3 = game_up, the default). Columns: the variant, the round, csc's time, the trim
# analyzer's time, and (once per variant) the generated source's size and its count of "IsSupported ?" conditionals.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=shapes.sh
source "$(dirname "$0")/shapes.sh"
variants=()
indices="0 3"
repeat=5
out=""
while [ $# -gt 0 ]; do
    case "$1" in
        --variant) variants+=("$2"); shift 2 ;;
        --shapes) indices="$2"; shift 2 ;;
        --repeat) repeat="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
[ ${#variants[@]} -gt 0 ] || { echo "give at least one --variant name=generator.dll" >&2; exit 2; }

library="$root/src/KernelGen/bin/Release/net10.0/KernelGen.dll"
if [ ! -f "$library" ]; then dotnet build "$root/src/KernelGen" -c Release -f net10.0 >/dev/null; fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

declarations() {
    echo "using KernelGen;"
    echo "namespace Measured;"
    echo "public static partial class Layers"
    echo "{"
    local i=0
    for index in $indices; do
        echo "    [${shapes[index]}]"
        echo "    public static partial void Layer$i(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);"
        i=$((i + 1))
    done
    echo "}"
}

project() { # dir analyzer-item emit-generated
    cat > "$1/Measured.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <NoWarn>\$(NoWarn);KG0009</NoWarn>
    <EmitCompilerGeneratedFiles>$3</EmitCompilerGeneratedFiles>
    <CompilerGeneratedFilesOutputPath>generated</CompilerGeneratedFilesOutputPath>
  </PropertyGroup>
  <ItemGroup>
    <Reference Include="$library" />
    $2
  </ItemGroup>
</Project>
XML
}

names=()
for variant in "${variants[@]}"; do
    name="${variant%%=*}"
    generator="$(realpath "${variant#*=}")"
    names+=("$name")
    mkdir -p "$work/$name/generate" "$work/$name/compile"
    declarations > "$work/$name/generate/Layers.cs"
    declarations > "$work/$name/compile/Layers.cs"
    project "$work/$name/generate" "<Analyzer Include=\"$generator\" />" true
    project "$work/$name/compile" "" false
    dotnet build "$work/$name/generate" -c Release -nodeReuse:false -p:UseSharedCompilation=false \
        -p:IsAotCompatible=false -p:EnableTrimAnalyzer=false > "$work/$name/generate.log" 2>&1 \
        || { echo "generation failed ($name):" >&2; tail -20 "$work/$name/generate.log" >&2; exit 1; }
    find "$work/$name/generate/generated" -name '*.g.cs' -exec cp {} "$work/$name/compile/" \;
    dotnet restore "$work/$name/compile" -p:IsAotCompatible=true >/dev/null
    bytes=$(cat "$work/$name/compile/"*.g.cs | wc -c)
    conditionals=$(cat "$work/$name/compile/"*.g.cs | { grep -o 'IsSupported ?' || true; } | wc -l)
    echo "# $name: $(find "$work/$name/compile" -name '*.g.cs' | wc -l) generated files, $bytes bytes, $conditionals 'IsSupported ?' conditionals"
done

header=$'variant\tround\tcsc_s\ttrim_analyzer_s'
echo "$header"
[ -n "$out" ] && echo "$header" > "$out"
for ((r = 0; r < repeat; r++)); do
    # Alternate the order each round (A B, B A, ...), so that neither variant always follows the other.
    order=("${names[@]}")
    if ((r % 2 == 1)); then
        order=()
        for ((k = ${#names[@]} - 1; k >= 0; k--)); do order+=("${names[k]}"); done
    fi
    for name in "${order[@]}"; do
        log="$work/$name/compile-$r.log"
        dotnet build "$work/$name/compile" -c Release --no-restore --no-incremental -nodeReuse:false -p:UseSharedCompilation=false \
            -p:IsAotCompatible=true -p:ReportAnalyzer=true -v:d -clp:PerformanceSummary > "$log" 2>&1 \
            || { echo "compile failed ($name):" >&2; tail -20 "$log" >&2; exit 1; }
        csc=$(grep -E '^\s+[0-9]+ ms\s+Csc\s' "$log" | awk '{ printf "%.1f", $1 / 1000 }')
        trim=$(grep -m1 -E 'ILLink.RoslynAnalyzer.DynamicallyAccessedMembersAnalyzer' "$log" | grep -oE '[0-9]+\.[0-9]+' | head -1 || true)
        line="$name	$r	$csc	${trim:--}"
        echo "$line"
        [ -n "$out" ] && echo "$line" >> "$out"
    done
done
