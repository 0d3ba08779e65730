#!/usr/bin/env bash
# The Debian packages scripts/deb built, installed on this machine (no container here: the
# packages are purged again afterwards, unless they were installed before): the program
# converts the installed samples from any folder with the installed model, the manual pages are
# found, a C program builds against the installed library through pkg-config and through
# find_package(vconv) and finds the model, and the Python package runs on the installed
# library. Needs root or sudo. scripts/test runs it after scripts/deb.
# usage: test_deb.sh DEB_DIR SOURCE_DIR
. "$(dirname "$0")/lib.sh"
debs=$(realpath "$1") src=$(realpath "$2")
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo -n true 2>/dev/null || { echo "deb: needs root or sudo: skipped"; exit 77; }
  sudo=sudo
fi
packages=(vconv vconv-data libvconv0 libvconv-dev)
was_installed=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" && was_installed+=("$p")
done
lib_begin
purge() {
  local remove=()
  for p in "${packages[@]}"; do [[ " ${was_installed[*]} " == *" $p "* ]] || remove+=("$p"); done
  [ ${#remove[@]} -eq 0 ] || $sudo apt-get purge -y -qq "${remove[@]}" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap purge EXIT

# A machine whose last install was killed part-way (a run of this test stopped mid-install, a
# snapshot taken then) has dpkg journal entries left, and apt refuses every install until they
# are finished; finish them as apt asks rather than fail on something this test did not do.
if [ -n "$(ls -A /var/lib/dpkg/updates 2>/dev/null)" ] || [ -n "$(dpkg --audit 2>/dev/null)" ]; then
  echo "deb: dpkg was left part-way through an earlier install; finishing it (dpkg --configure -a)"
  $sudo dpkg --configure -a >"$work/dpkg.log" 2>&1 || bad "dpkg --configure -a: $(tail -3 "$work/dpkg.log")"
fi

files=()
for p in "${packages[@]}"; do files+=("$(ls "$debs/${p}_"*.deb)"); done
if DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
  "${files[@]}" >"$work/apt.log" 2>&1; then ok; else bad "apt-get install: $(tail -5 "$work/apt.log")"; fi
version=$(dpkg-query -W -f='${Version}' vconv)

# The program, from another folder, with nothing but what the packages installed.
cd "$work"
[ "$(command -v vconv)" = /usr/bin/vconv ] && ok || bad "vconv is /usr/bin/vconv"
ldd /usr/bin/vconv | grep -qE 'libvconv.so.0 => (/usr)?/lib/.*/libvconv.so.0' && ok || bad "vconv links the installed libvconv.so.0"
clips=(/usr/share/vconv/samples/*.wav)
[ ${#clips[@]} -eq 3 ] && ok || bad "${#clips[@]} sample clips installed"
for s in "${clips[@]}"; do
  for r in "${clips[@]}"; do
    [ "$s" = "$r" ] && continue
    out="$(basename "$s" .wav)_as_$(basename "$r" .wav).wav"
    expect 0 "vconv convert $out" -- env -u VCONV_MODEL vconv convert -q "$s" "$r" -o "$out"
    want=$(vconv analyze --json "$s" | grep -o '"duration_s": [0-9.]*')
    got=$(vconv analyze --json "$out" | grep -o '"duration_s": [0-9.]*')
    [ -n "$got" ] && [ "$got" = "$want" ] && ok || bad "$out: $got, the source's $want"
  done
done
for page in vconv vconv-convert vconv-train; do
  man -w "$page" >/dev/null 2>&1 && ok || bad "man $page"
done

# C programs against the installed library: pkg-config, and CMake's find_package.
cat >use.c <<'C'
#include <vconv/vconv.h>
#include <stdio.h>
int main(void) {
    char model[1024];
    vc_status st = vc_default_model_path(model, sizeof model);
    printf("%s %s %s\n", vc_version(), st == VC_OK ? "found" : "missing", model);
    return st == VC_OK ? 0 : 1;
}
C
want_model="$version found /usr/share/vconv/vconv-default.safetensors"
[ "$(pkg-config --modversion vconv)" = "$version" ] && ok || bad "pkg-config --modversion vconv"
# shellcheck disable=SC2046
if cc -std=c11 -Wall -Werror use.c $(pkg-config --cflags --libs vconv) -o use_pc; then
  got=$(env -u VCONV_MODEL ./use_pc) && [ "$got" = "$want_model" ] && ok || bad "pkg-config program: $got"
else
  bad "a program builds with pkg-config vconv"
fi
mkdir consumer
printf '%s\n' 'cmake_minimum_required(VERSION 3.18)' 'project(consumer C)' \
  'find_package(vconv 0.1 REQUIRED)' 'add_executable(use ../use.c)' \
  'target_link_libraries(use PRIVATE vconv::vconv)' >consumer/CMakeLists.txt
if cmake -S consumer -B consumer/build >/dev/null && cmake --build consumer/build >/dev/null; then
  got=$(env -u VCONV_MODEL consumer/build/use) && [ "$got" = "$want_model" ] && ok || bad "find_package program: $got"
else
  bad "a program builds with find_package(vconv)"
fi

# Python on the installed library (the system's loader finds it by its soname).
if python3 -c 'import numpy' 2>/dev/null; then
  expect 0 "python on the installed library" -- env -u VCONV_MODEL VCONV_LIBRARY=libvconv.so.0 \
    PYTHONPATH="$src/python" python3 -c '
import sys, vconv
m = vconv.Model()
assert m.path == "/usr/share/vconv/vconv-default.safetensors", m.path
out = m.convert(sys.argv[1], sys.argv[2])
assert out.size > 16000, out.size
' "${clips[0]}" "${clips[1]}"
fi
lib_end deb
