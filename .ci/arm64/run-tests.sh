#!/usr/bin/env bash
# .ci/arm64/run-tests.sh [--cpu CPU] [--summary FILE] [--no-publish] TESTPROJECT [runner arguments...]
#
# Runs an xunit v2 test project as linux-arm64 code under qemu-user on an x86-64 machine: publishes it self-contained for
# linux-arm64 with .ci/arm64/XunitInProcessMain.cs as its entry point (injected with -p:GeneratedProgramFile, the project
# is not changed; `dotnet test` cannot drive an arm64 test host here) and runs it with qemu-aarch64.
#   --cpu CPU       the emulated processor (QEMU_CPU), e.g. cortex-a72 (plain ARMv8.0); default: qemu's "max"
#   --summary FILE  the runner writes its counts there ("passed=N", "failed=N", ...; see XunitInProcessMain.cs)
#   --no-publish    reuse the previous publish of this project (another CPU, same build)
#   runner arguments: substrings of "Namespace.Class.Method" selecting tests, --list, --verbose, --serial.
# Installs what it needs when missing (Debian 12, root): qemu-user and the arm64 C/C++ runtime (apt), and unpacks
# libssl3:arm64 privately (Microsoft.CodeAnalysis.Testing needs OpenSSL). Work folder: $ARM64_WORK, default
# artifacts/arm64 in the repository (ignored by git). Exit code: the runner's (0 only when tests ran and none failed);
# 2 when qemu cannot be installed or the publish fails. Adapted from the project's shared tool
# (../shared/tools/arm64/run-tests.sh, reference note arm64.md) so that CI needs nothing outside the repository.
set -uo pipefail

cpu='' summary='' publish=1
while (($#)); do
    case $1 in
        --cpu) cpu=${2:?--cpu needs a value}; shift 2 ;;
        --summary) summary=${2:?--summary needs a file}; shift 2 ;;
        --no-publish) publish=0; shift ;;
        *) break ;;
    esac
done
project=${1:?usage: run-tests.sh [--cpu CPU] [--summary FILE] [--no-publish] TESTPROJECT [runner arguments...]}
shift

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=${ARM64_WORK:-$repo/artifacts/arm64}
mkdir -p "$work"
work=$(cd "$work" && pwd)
sysroot=/usr/aarch64-linux-gnu

# Debian's packages only: the emulator and the arm64 C and C++ runtimes the .NET runtime links against.
if ! command -v qemu-aarch64 >/dev/null || [[ ! -e $sysroot/lib/libstdc++.so.6 ]]; then
    echo "arm64: installing qemu-user and the arm64 C/C++ runtime (apt-get)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user libc6-arm64-cross \
        libstdc++6-arm64-cross libgcc-s1-arm64-cross; } >"$work/apt.log" 2>&1 \
        || { tail -5 "$work/apt.log"; echo "arm64: cannot install qemu-user (see $work/apt.log)" >&2; exit 2; }
fi

# OpenSSL for arm64, unpacked privately rather than installed: adding arm64 as a dpkg architecture would change the machine.
extra=$work/arm64-extra/usr/lib/aarch64-linux-gnu
if [[ ! -e $extra/libssl.so.3 ]]; then
    host=$(dpkg --print-architecture)
    mkdir -p "$work/debs" && chmod 777 "$work/debs"   # apt-get download runs as the _apt user
    apt_arm64=(-o APT::Architectures::="$host" -o APT::Architectures::=arm64)
    { apt-get "${apt_arm64[@]}" update -qq && (cd "$work/debs" && apt-get "${apt_arm64[@]}" download libssl3:arm64); } \
        >"$work/libssl.log" 2>&1
    deb=$(ls "$work"/debs/libssl3_*_arm64.deb 2>/dev/null | tail -1)
    [[ -n $deb ]] && dpkg -x "$deb" "$work/arm64-extra"
    [[ -e $extra/libssl.so.3 ]] || { tail -5 "$work/libssl.log"; echo "arm64: cannot fetch libssl3:arm64 (see $work/libssl.log)" >&2; exit 2; }
fi

name=$(basename "${project%.csproj}")
out=$work/out/$name
if ((publish)) || [[ ! -x $out/$name ]]; then
    echo "arm64: dotnet publish $project -c Release -r linux-arm64 --self-contained (log: $work/publish-$name.log)"
    rm -rf "$out"
    # ReadyToRun: the dependencies (Roslyn, xunit, CsCheck) are precompiled on the host, as the framework already is, so
    # that the emulated JIT compiles only KernelGen's own code (see ReadyToRun.targets).
    if ! dotnet publish "$project" -c Release -r linux-arm64 --self-contained -p:UseAppHost=true \
        -p:PublishReadyToRun=true -p:CustomAfterMicrosoftCommonTargets="$here/ReadyToRun.targets" \
        -p:GeneratedProgramFile="$here/XunitInProcessMain.cs" -o "$out" >"$work/publish-$name.log" 2>&1; then
        grep -E "error" "$work/publish-$name.log" | sort -u | head -8
        echo "arm64: publishing $project failed (see $work/publish-$name.log)" >&2
        exit 2
    fi
fi

[[ -z $summary ]] || { rm -f "$summary"; set -- --summary "$summary" "$@"; }
# Without W^X off, .NET under qemu 7 crashes (an AccessViolationException in EventSource).
export DOTNET_EnableWriteXorExecute=0
echo "arm64: qemu-aarch64${cpu:+ -cpu $cpu} $out/$name $*"
exec qemu-aarch64 ${cpu:+-cpu "$cpu"} -L "$sysroot" -E LD_LIBRARY_PATH="$extra" "$out/$name" "$@"
