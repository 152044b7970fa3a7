#!/usr/bin/env bash
# Measures what docs/first-calls.md and docs/nativeaot.md report, from the repository root of a clean clone:
#
#   tests/KernelGen.FirstCalls/run.sh first-calls [drive options]   JIT, fresh processes, all processors and taskset -c 0
#   tests/KernelGen.FirstCalls/run.sh nativeaot [drive options]     NativeAOT with the default instruction set, x86-64-v3
#                                                                   and native against the JIT (all its instruction sets,
#                                                                   then AVX-512 off, then AVX off: the NativeAOT sets'
#                                                                   equals on x64), all processors
#
# Drive options (see Program.cs) are passed on, e.g. --rounds 3 --shapes seed,dcgan. Binaries go to artifacts/first-calls.
# The machine should be quiet; the tables say what its load was. A figure of a "before" binary (an older generator) is
# measured by building this project from that commit into a folder and adding --variant before:generated=<its binary>.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

mode=${1:-}
shift || true
out=artifacts/first-calls
project=tests/KernelGen.FirstCalls/KernelGen.FirstCalls.csproj
case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "unsupported architecture $(uname -m)" >&2; exit 2 ;;
esac
case "$(uname -s)" in
    Linux) rid=linux-$arch ;;
    Darwin) rid=osx-$arch ;;
    *) rid=win-$arch ;;
esac

dotnet build "$project" -c Release --nologo -v quiet -o "$out/jit"
jit="$out/jit/KernelGen.FirstCalls"

case "$mode" in
    first-calls)
        "$jit" drive --variant "jit=$jit" --affinity all,0 "$@"
        ;;
    nativeaot)
        variants=(--variant "jit=$jit" --variant "jit-avx2=$jit" --env jit-avx2:DOTNET_EnableAVX512=0
                  --variant "jit-no-avx=$jit" --env jit-no-avx:DOTNET_EnableAVX=0)
        for set in default x86-64-v3 native; do
            properties=(-p:PublishAot=true)
            [[ $set == default ]] || properties+=("-p:IlcInstructionSet=$set")
            dotnet publish "$project" -c Release -r "$rid" --nologo -v quiet "${properties[@]}" -o "$out/aot-$set"
            variants+=(--variant "aot-$set=$out/aot-$set/KernelGen.FirstCalls")
        done
        "$jit" drive "${variants[@]}" --affinity all --seconds 2 \
            --shapes seed,small_fixed,game_up,mono_up,unet_up,dcgan,depthwise,stride1,unet_up_nhwc,vocoder_up,vocoder_up2,volume_up,volume_k3 "$@"
        ;;
    *)
        echo "usage: $0 (first-calls | nativeaot) [drive options]" >&2
        exit 2
        ;;
esac
