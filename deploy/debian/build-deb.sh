#!/usr/bin/env bash
# Builds edge_<version>_<arch>.deb from a built binary: deploy/debian/build-deb.sh BINARY OUTDIR
# The version is the binary's own (`edge version`); Depends is derived from the libraries it links,
# each mapped to its Debian package with dpkg -S. A library no package provides (a Swift runtime from
# the toolchain: the binary was built without --static-swift-stdlib) stops the build.
set -euo pipefail
binary=${1:?usage: build-deb.sh BINARY OUTDIR}
out=${2:?usage: build-deb.sh BINARY OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

upstream=$("$binary" version | awk '{print $2}')
[[ -n "$upstream" ]] || { echo "build-deb: '$binary version' printed no version" >&2; exit 1; }
# 0.1.0-dev → 0.1.0~dev-1 (a pre-release sorts before 0.1.0; -1 is the package revision).
version="${upstream//-/\~}-1"
arch=$(dpkg --print-architecture)

# Depends: the package of every shared library the binary needs.
depends=()
while read -r lib; do
  pkg=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "${lib/#\/lib\//\/usr\/lib\/}" 2>/dev/null ||
        dpkg -S "${lib/#\/usr\/lib\//\/lib\/}" 2>/dev/null || true)
  pkg=${pkg%%:*}
  if [[ -z "$pkg" ]]; then
    echo "build-deb: $binary links $lib, which no Debian package provides;" \
         "build it with 'swift build -c release --static-swift-stdlib' (make build does)" >&2
    exit 1
  fi
  depends+=("$pkg")
done < <(ldd "$binary" | awk '/=>/ {print $3}')
depends_line=$(printf '%s\n' "${depends[@]}" | sort -u | paste -sd, | sed 's/,/, /g')

root=$(mktemp -d)
chmod 0755 "$root"
trap 'rm -rf "$root"' EXIT
install -d "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/edge" \
  "$root/usr/share/doc/edge/examples"
strip --strip-debug -o "$root/usr/bin/edge" "$binary"
chmod 0755 "$root/usr/bin/edge"
install -m 0644 "$repo/deploy/systemd/edge.service" "$repo/deploy/systemd/edge-cluster.service" "$root/lib/systemd/system/"
install -m 0644 "$here/Caddyfile" "$root/etc/edge/Caddyfile"
install -m 0644 "$repo/deploy/systemd/cluster.env.example" "$root/usr/share/doc/edge/examples/"
install -m 0644 "$repo/README.md" "$repo"/docs/*.md "$root/usr/share/doc/edge/"
install -m 0755 "$here/postinst" "$here/prerm" "$here/postrm" "$root/DEBIAN/"
install -m 0644 "$here/conffiles" "$root/DEBIAN/"

size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@DEPENDS@/$depends_line/" -e "s/@SIZE@/$size/" \
  "$here/control.in" > "$root/DEBIAN/control"

mkdir -p "$out"
deb="$out/edge_${version}_${arch}.deb"
# DEB_COMPRESSION=gzip builds faster (the tests use it); xz is what Debian ships.
dpkg-deb --root-owner-group -Z"${DEB_COMPRESSION:-xz}" --build "$root" "$deb" >/dev/null
echo "$deb"
